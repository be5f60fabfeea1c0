"""`/start`: a warm welcome, language, what we keep and consent, name, interests, areas,
citizens' initiatives, quiet hours.

Consent comes before anything personal is stored. Saying no is respected: we keep only
that the person said no (so we don't keep asking) and their language.
"""

from __future__ import annotations

from enum import StrEnum

from conversations.core.commands import CommandSpec
from conversations.core.deep_links import DeepLinks
from conversations.core.flow import Answer, Flow, FlowContext, FlowData, Transition
from conversations.core.i18n import N_
from conversations.core.messages import OutMessage
from conversations.core.words import NO_WORDS, YES_WORDS
from conversations.people import profile_questions as profile
from conversations.people.privacy_notice import PrivacyNotice, render_notice
from storage.models import ConsentState, PersonStatus, TopicKind


class Step(StrEnum):
    LANGUAGE = "language"
    CONSENT = "consent"
    NAME = "name"
    INTERESTS = "interests"
    AREAS = "areas"
    INITIATIVES = "initiatives"
    QUIET = "quiet"


ORDER = (
    Step.LANGUAGE,
    Step.CONSENT,
    Step.NAME,
    Step.INTERESTS,
    Step.AREAS,
    Step.INITIATIVES,
    Step.QUIET,
)


def consent_explanation(ctx: FlowContext) -> str:
    return ctx._(
        N_(
            "Before we go on, a word about your information.\n\n"
            "I keep only what helps me invite you and remind you: the name you give me, "
            "your language, what you would like to hear about, your quiet hours and your "
            "answers to invitations. The organisers of an event can see that you are coming. "
            "Our messages travel through the chat app you use, whose servers carry them. "
            "Nothing is sold, and nothing is passed on for any other purpose.\n\n"
            "You can see everything I keep with /mydata and delete it with /forget, "
            "at any time.\n\n"
            "Is that all right with you?"
        )
    )


class OnboardingData(FlowData):
    # the flow (name, args) to go on with when done: a link opened, a command typed first
    then: tuple[str, str] | None = None
    told_more: bool = False  # "tell me more" was read: ask only the question again


class Onboarding(Flow):
    name = "onboarding"
    data_model = OnboardingData
    commands = (
        CommandSpec(
            "start",
            "begynd",
            N_("Start, or switch messages back on"),
            needs_consent=False,
            allowed_when_stopped=True,
            in_menu=False,
        ),
    )

    def __init__(self, links: DeepLinks, notice: PrivacyNotice) -> None:
        self._links = links
        self._notice = notice

    @property
    def links(self) -> DeepLinks:
        """The `/start <payload>` links this flow hands on to the flow they open."""
        return self._links

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        person = ctx.person
        target = self._links.resolve(args) if args else None
        then = (target.flow, target.args) if target else ctx.continue_with
        unknown_link = bool(args) and target is None
        if person.status == PersonStatus.STOPPED:
            person.status = PersonStatus.ACTIVE
            ctx.uow.persons.touch(person)
            if person.consent == ConsentState.GIVEN and person.onboarded_at is not None:
                text = ctx._(N_("Welcome back! Messages from me are switched on again."))
                return Transition.end(OutMessage(text), then=then)
        if person.consent == ConsentState.GIVEN and person.onboarded_at is not None:
            says = []
            if unknown_link:
                says.append(OutMessage(ctx._(N_("I don't recognise that link, sorry."))))
            if then is None and person.display_name:
                hello = ctx._(N_("Hello again, {name}! Write /help to see what I can do."))
                says.append(OutMessage(hello.format(name=person.display_name)))
            elif then is None:
                says.append(OutMessage(ctx._(N_("Hello again! Write /help to see what I can do."))))
            return Transition.end(*says, then=then)

        greeting = ctx._(
            N_(
                "Hello, and welcome to Tæl mig med! 🌿\n"
                "I help you find things to do together with others nearby, such as walks, "
                "a picnic in the forest or cooking together. You can also lend a hand, "
                "if you like. It only takes a few taps."
            )
        )
        says = [OutMessage(greeting)]
        if unknown_link:
            says.append(OutMessage(ctx._(N_("I don't recognise that link, sorry."))))
        return Transition.go(Step.LANGUAGE, OnboardingData(then=then), *says)

    async def prompt(self, ctx: FlowContext, state: str, data: OnboardingData) -> OutMessage:
        match Step(state):
            case Step.LANGUAGE:
                return profile.language_question(ctx)
            case Step.CONSENT:
                # After "tell me more" the long text was just read; ask only the question.
                return OutMessage(
                    ctx._(N_("Is that all right with you?"))
                    if data.told_more
                    else consent_explanation(ctx),
                    choices=(
                        ctx.choice("yes", N_("Yes, that's fine"), "✅", *YES_WORDS),
                        ctx.choice("more", N_("Tell me more"), "❓", "mere", "more", "hvorfor"),
                        ctx.choice("no", N_("No thanks"), "🚫", *NO_WORDS),
                    ),
                )
            case Step.NAME:
                return profile.name_question(ctx)
            case Step.INTERESTS:
                return await profile.topics_question(ctx, TopicKind.INTEREST)
            case Step.AREAS:
                return await profile.topics_question(ctx, TopicKind.AREA)
            case Step.INITIATIVES:
                return profile.initiatives_question(ctx)
            case Step.QUIET:
                return profile.quiet_question(ctx)

    async def handle(
        self, ctx: FlowContext, state: str, data: OnboardingData, answer: Answer
    ) -> Transition:
        step = Step(state)
        if step == Step.CONSENT:
            return await self._consent(ctx, data, answer)
        match step:
            case Step.LANGUAGE:
                result = profile.take_language(ctx, answer)
            case Step.NAME:
                result = await profile.take_name(ctx, answer)
            case Step.INTERESTS:
                result = await profile.take_topic(ctx, answer, TopicKind.INTEREST)
            case Step.AREAS:
                result = await profile.take_topic(ctx, answer, TopicKind.AREA)
            case Step.INITIATIVES:
                result = profile.take_initiatives(ctx, answer)
            case Step.QUIET:
                result = profile.take_quiet(ctx, answer)
        notes = (result.note,) if result.note else ()
        if not result.done:
            return Transition.stay(data, *notes)
        return await self._after(ctx, step, data, *notes)

    async def _consent(self, ctx: FlowContext, data: OnboardingData, answer: Answer) -> Transition:
        if answer.choice == "more":
            data.told_more = True
            return Transition.stay(data, OutMessage(render_notice(self._notice, ctx.translator)))
        if answer.choice == "no":
            await ctx.uow.persons.record_consent(
                ctx.person, ctx.config.consent_version, given=False
            )
            await self._keep_only_refusal(ctx)
            return Transition.end(
                OutMessage(
                    ctx._(
                        N_(
                            "That is completely fine. I have kept nothing about you except that "
                            "you said no, so I don't ask again. If you change your mind, "
                            "just write /start."
                        )
                    )
                )
            )
        if answer.choice != "yes":
            return Transition.stay(data)
        await ctx.uow.persons.record_consent(ctx.person, ctx.config.consent_version, given=True)
        return await self._after(ctx, Step.CONSENT, data)

    async def _keep_only_refusal(self, ctx: FlowContext) -> None:
        person = ctx.person
        person.display_name = None
        person.hear_initiatives = False
        person.quiet_start_minute = person.quiet_end_minute = None
        for topic_id in await ctx.uow.topics.chosen_ids(person.id):
            await ctx.uow.topics.toggle(person.id, topic_id)

    async def _after(
        self, ctx: FlowContext, step: Step, data: OnboardingData, *say: OutMessage
    ) -> Transition:
        for following in ORDER[ORDER.index(step) + 1 :]:
            if following == Step.INTERESTS and not await profile.topics_available(
                ctx, TopicKind.INTEREST
            ):
                continue
            if following == Step.AREAS and not await profile.topics_available(ctx, TopicKind.AREA):
                continue
            return Transition.go(following, data, *say)
        return await self._finish(ctx, data, *say)

    async def _finish(self, ctx: FlowContext, data: OnboardingData, *say: OutMessage) -> Transition:
        ctx.person.onboarded_at = ctx.now()
        ctx.uow.persons.touch(ctx.person)
        summary = await profile.profile_summary(ctx, photos=False)
        done = ctx._(
            N_(
                "Thank you, that's all! 🌱 This is what I have noted:\n{summary}\n\n"
                "When something comes up that suits you, I'll write. You can change all of "
                "this with /settings, and /help shows what else I can do."
            )
        ).format(summary=summary)
        return Transition.end(*say, OutMessage(done), then=data.then)

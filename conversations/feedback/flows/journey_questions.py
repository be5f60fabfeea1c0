"""The questions of journey feedback, one per state: did you come, good / bad / skip for
each step of the journey, why (text or a voice note, always skippable), what matters to
you, what we should do next time, whether to sign, and "again?" when all is answered.

Every answer first checks, on the server, that the person has a feedback request for the
event and that feedback is still open; every answer is saved as it is given. A photo sent
at any question goes to the event's log (see `keeping_snaps`).
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from enum import StrEnum

from pydantic import ConfigDict, Field

from conversations.core.flow import Answer, FlowContext, Transition
from conversations.core.i18n import N_
from conversations.core.media import TooLarge
from conversations.core.messages import Choice, Media, MediaKind, OutMessage
from conversations.core.questions import Question
from conversations.events.rules.journey import step_names
from conversations.feedback.flows.keeping_snaps import (
    FeedbackOptionsSource,
    KeepingSnapsData,
    SnapConsentQuestion,
    SnapKeeper,
    too_large_note,
)
from conversations.feedback.rules.snaps import FeedbackOptions
from conversations.feedback.rules.windows import event_end, feedback_open, steps_of
from storage.models import Event, EventStatus, FeedbackRequest, IdeaKind, Verdict

MAX_WORDS = 2000


class Step(StrEnum):
    CAME = "came"
    STEP = "step"
    WHY = "why"
    MATTERS = "matters"
    NEXT = "next"
    SIGN = "sign"
    AGAIN = "again"


VERDICT_LABELS = {
    Verdict.GOOD: N_("Good"),
    Verdict.BAD: N_("Bad"),
    Verdict.SKIP: N_("Skip"),
}


class FeedbackData(KeepingSnapsData):
    """The event, and while on a step of its journey, which step and the verdict given."""

    # the key stays "i", as in conversations stored before the field had a name
    model_config = ConfigDict(
        validate_by_name=True, validate_by_alias=True, serialize_by_alias=True
    )

    step_index: int | None = Field(default=None, alias="i")
    verdict: Verdict | None = None  # the "why?" question is worded after it

    def current_step(self) -> int:
        """The step asked about; only the step and "why" questions have one."""
        if self.step_index is None:
            raise ValueError("no step of the journey is being asked about")
        return self.step_index

    def at_step(self, index: int) -> FeedbackData:
        return self.model_copy(update={"step_index": index})


@dataclass(frozen=True, slots=True)
class Visit:
    """The event being answered about and the person's request for it, checked afresh."""

    event: Event
    request: FeedbackRequest


def closed(ctx: FlowContext, event: Event | None) -> Transition:
    """Why feedback on `event` can't be given now: not over yet, too long ago, or gone."""
    if event is not None and event.status == EventStatus.PUBLISHED and event_end(event) > ctx.now():
        text = ctx._(N_("{title} isn't over yet. I'll ask how it was afterwards.")).format(
            title=event.title
        )
    elif event is not None and event.status == EventStatus.PUBLISHED:
        text = ctx._(N_("It's too long since {title} to give feedback on it now.")).format(
            title=event.title
        )
    else:
        text = ctx._(N_("I can't find that event, sorry."))
    return Transition.end(OutMessage(text))


def not_yours(ctx: FlowContext) -> Transition:
    return Transition.end(OutMessage(ctx._(N_("That isn't something I asked you about."))))


async def open_visit(
    ctx: FlowContext, data: FeedbackData, options: FeedbackOptions
) -> Visit | Transition:
    """The visit an answer is about, or how the conversation ends when it may not go on."""
    event = await ctx.uow.events.get(data.event_id)
    request = await ctx.uow.feedback.request(event.id, ctx.person.id) if event is not None else None
    if event is None or request is None:
        return not_yours(ctx)
    if not feedback_open(event, ctx.now(), options):
        return closed(ctx, event)
    request.updated_at = ctx.now()
    if request.started_at is None:
        request.started_at = ctx.now()
    return Visit(event, request)


async def event_of(ctx: FlowContext, data: FeedbackData) -> Event:
    event = await ctx.uow.events.get(data.event_id)
    assert event is not None
    return event


def go(request: FeedbackRequest, state: Step, data: FeedbackData, *say: OutMessage) -> Transition:
    """On to `state`, remembered on the request so a later visit resumes there."""
    request.stage = str(state)
    return Transition.go(state, data, *say)


def after_step(visit: Visit, data: FeedbackData, index: int, *say: OutMessage) -> Transition:
    """The next step of the journey, or "what matters?" after the last one."""
    if index + 1 < len(steps_of(visit.event)):
        return go(visit.request, Step.STEP, data.at_step(index + 1), *say)
    return go(visit.request, Step.MATTERS, FeedbackData(event_id=visit.event.id), *say)


def finish(ctx: FlowContext, request: FeedbackRequest) -> Transition:
    request.completed_at = ctx.now()
    request.stage = "done"
    if request.signed:
        words = ctx._(
            N_(
                "Thank you so much! 🌿 The organisers read your answers to make the next "
                "event better. Your name is shown with what you wrote, as you chose."
            )
        )
    else:
        words = ctx._(
            N_(
                "Thank you so much! 🌿 The organisers read your answers to make the next "
                "event better. They see them without your name."
            )
        )
    more = ctx._(
        N_(
            "Have photos or a voice note from the day? Send them with /snap in the next "
            "few days. /feedback lets you change your answers."
        )
    )
    return Transition.end(OutMessage(words + "\n\n" + more))


def skip_choice(ctx: FlowContext) -> Choice:
    return ctx.choice("skip", N_("Skip"), "⏭", "spring over", "skip", "-")


class JourneyQuestion(Question[FeedbackData]):
    """A question of journey feedback: checks the visit, sends photos to the log, and
    hands the rest of the answer to `answer`."""

    def __init__(self, source: FeedbackOptionsSource) -> None:
        self._source = source
        self.keeper = SnapKeeper(source)

    @property
    def options(self) -> FeedbackOptions:
        return self._source.options

    def answers_with(self, media: Media) -> bool:
        """Whether `media` answers this question; any other goes to the event's log."""
        return False

    async def take(self, ctx: FlowContext, data: FeedbackData, answer: Answer) -> Transition:
        visit = await open_visit(ctx, data, self.options)
        if isinstance(visit, Transition):
            return visit
        if answer.media is not None and not self.answers_with(answer.media):
            return await self.keeper.to_log(ctx, visit.event, self.state, data, answer.media)
        return await self.answer(ctx, data, answer, visit)

    @abstractmethod
    async def answer(
        self, ctx: FlowContext, data: FeedbackData, answer: Answer, visit: Visit
    ) -> Transition:
        """The answer, once the visit is checked."""


class DidYouCome(JourneyQuestion):
    state = Step.CAME

    async def ask(self, ctx: FlowContext, data: FeedbackData) -> OutMessage:
        event = await event_of(ctx, data)
        return OutMessage(
            ctx._(
                # no thanks here: the request that leads here has just said them
                N_(
                    "A few quick questions about {title}; skip any you like, and stop "
                    "whenever you want.\n\nFirst: did you come?"
                )
            ).format(title=event.title),
            choices=(
                ctx.choice("came", N_("Yes, I came"), "✅", "ja", "yes"),
                ctx.choice("notcame", N_("No, I didn't come"), "❌", "nej", "no"),
            ),
        )

    async def answer(
        self, ctx: FlowContext, data: FeedbackData, answer: Answer, visit: Visit
    ) -> Transition:
        if answer.choice not in ("came", "notcame"):
            return Transition.stay(data)
        request = visit.request
        request.came = answer.choice == "came"
        if request.came and steps_of(visit.event):
            return go(request, Step.STEP, data.at_step(0))
        if not request.came:
            note = ctx._(N_("Thanks for telling us. We hope to see you another time!"))
            return go(request, Step.MATTERS, data, OutMessage(note))
        return go(request, Step.MATTERS, data)


class HowWasTheStep(JourneyQuestion):
    state = Step.STEP

    async def ask(self, ctx: FlowContext, data: FeedbackData) -> OutMessage:
        event = await event_of(ctx, data)
        steps = await step_names(ctx.uow, ctx.translator, steps_of(event)) or [event.title]
        index = min(data.current_step(), len(steps) - 1)
        lines = [
            ctx._(N_("Step {number} of {count}: {step}")).format(
                number=index + 1, count=len(steps), step=steps[index]
            ),
            ctx._(N_("How was it for you?")),
        ]
        request = await ctx.uow.feedback.request(event.id, ctx.person.id)
        if request is not None:
            before = (await ctx.uow.feedback.answers(request.id)).get(index)
            if before is not None:
                lines.append(
                    ctx._(N_("(Before, you answered: {answer})")).format(
                        answer=ctx._(VERDICT_LABELS[Verdict(before.verdict)])
                    )
                )
        return OutMessage(
            "\n".join(lines),
            choices=(
                ctx.choice("good", VERDICT_LABELS[Verdict.GOOD], "👍", "godt", "good", "god"),
                ctx.choice("bad", VERDICT_LABELS[Verdict.BAD], "👎", "skidt", "bad", "dårligt"),
                ctx.choice("skip", VERDICT_LABELS[Verdict.SKIP], "⏭", "spring over", "skip", "-"),
            ),
        )

    async def answer(
        self, ctx: FlowContext, data: FeedbackData, answer: Answer, visit: Visit
    ) -> Transition:
        index = data.current_step()
        steps = steps_of(visit.event)
        if index >= len(steps):  # the journey was shortened meanwhile
            return go(visit.request, Step.MATTERS, FeedbackData(event_id=visit.event.id))
        if answer.choice not in (Verdict.GOOD, Verdict.BAD, Verdict.SKIP):
            return Transition.stay(data)
        verdict = Verdict(answer.choice)
        await ctx.uow.feedback.set_answer(visit.request, index, steps[index], str(verdict))
        wants_why = verdict == Verdict.BAD or (
            verdict == Verdict.GOOD and self.options.ask_why_after_good
        )
        if wants_why:
            return go(visit.request, Step.WHY, data.model_copy(update={"verdict": verdict}))
        return after_step(visit, data, index)


class WhyWasIt(JourneyQuestion):
    state = Step.WHY

    def answers_with(self, media: Media) -> bool:
        return media.kind == MediaKind.VOICE  # a voice note says why

    async def ask(self, ctx: FlowContext, data: FeedbackData) -> OutMessage:
        if data.verdict == Verdict.GOOD:
            text = ctx._(
                N_(
                    "Lovely! Would you like to say what was good? Write a few words "
                    "or send a voice note."
                )
            )
        else:
            text = ctx._(
                N_(
                    "Sorry to hear that. Would you like to say what wasn't good? "
                    "Write a few words or send a voice note."
                )
            )
        return OutMessage(text, choices=(skip_choice(ctx),), expects_text=True)

    async def answer(
        self, ctx: FlowContext, data: FeedbackData, answer: Answer, visit: Visit
    ) -> Transition:
        index = data.current_step()
        request = visit.request
        if answer.media is not None:
            try:
                snap = await self.keeper.snap(ctx, visit.event.id, answer.media, "why")
            except TooLarge as too_large:
                return Transition.stay(data, too_large_note(ctx, too_large))
            await ctx.uow.feedback.set_comment(
                request, ctx.person.id, index, answer.media.caption, snap.id
            )
        elif answer.text:
            await ctx.uow.feedback.set_comment(
                request, ctx.person.id, index, answer.text.strip()[:MAX_WORDS]
            )
        rest = data.model_copy(update={"verdict": None})
        if answer.choice:  # skipped: nothing to thank for
            return after_step(visit, rest, index)
        return after_step(visit, rest, index, OutMessage(ctx._(N_("Thank you, noted."))))


async def keep_idea(
    ctx: FlowContext, request: FeedbackRequest, kind: IdeaKind, answer: Answer
) -> None:
    if answer.text and not answer.choice:
        await ctx.uow.feedback.set_idea(
            request, ctx.person.id, kind, answer.text.strip()[:MAX_WORDS]
        )


class WhatMatters(JourneyQuestion):
    state = Step.MATTERS

    async def ask(self, ctx: FlowContext, data: FeedbackData) -> OutMessage:
        return OutMessage(
            ctx._(N_("What matters to you, when you join something like this?")),
            choices=(skip_choice(ctx),),
            expects_text=True,
        )

    async def answer(
        self, ctx: FlowContext, data: FeedbackData, answer: Answer, visit: Visit
    ) -> Transition:
        await keep_idea(ctx, visit.request, IdeaKind.MATTERS, answer)
        return go(visit.request, Step.NEXT, data)


class NextTime(JourneyQuestion):
    state = Step.NEXT

    async def ask(self, ctx: FlowContext, data: FeedbackData) -> OutMessage:
        return OutMessage(
            ctx._(N_("What should we do next time?")),
            choices=(skip_choice(ctx),),
            expects_text=True,
        )

    async def answer(
        self, ctx: FlowContext, data: FeedbackData, answer: Answer, visit: Visit
    ) -> Transition:
        await keep_idea(ctx, visit.request, IdeaKind.NEXT_TIME, answer)
        if await ctx.uow.feedback.has_words(visit.request.id):
            return go(visit.request, Step.SIGN, data)
        return finish(ctx, visit.request)


class SignOrNot(JourneyQuestion):
    state = Step.SIGN

    async def ask(self, ctx: FlowContext, data: FeedbackData) -> OutMessage:
        return OutMessage(
            ctx._(
                N_(
                    "The organisers see what you wrote without your name. "
                    "Would you like your name to be shown with it?"
                )
            ),
            choices=(
                ctx.choice("anon", N_("No, without my name"), "🙂", "nej", "no"),
                ctx.choice("signed", N_("Yes, with my name"), "✍️", "ja", "yes"),
            ),
        )

    async def answer(
        self, ctx: FlowContext, data: FeedbackData, answer: Answer, visit: Visit
    ) -> Transition:
        if answer.choice not in ("anon", "signed"):
            return Transition.stay(data)
        visit.request.signed = answer.choice == "signed"
        return finish(ctx, visit.request)


class AgainOrDone(JourneyQuestion):
    state = Step.AGAIN

    async def ask(self, ctx: FlowContext, data: FeedbackData) -> OutMessage:
        event = await event_of(ctx, data)
        return OutMessage(
            ctx._(
                N_(
                    "You have already told us about {title}. Thank you! "
                    "Would you like to change something?"
                )
            ).format(title=event.title),
            choices=(
                ctx.choice("again", N_("Yes, go through it again"), "🔁"),
                ctx.choice("done", N_("No, that's all"), "👍", "nej", "no"),
            ),
        )

    async def answer(
        self, ctx: FlowContext, data: FeedbackData, answer: Answer, visit: Visit
    ) -> Transition:
        if answer.choice == "again":
            visit.request.completed_at = None
            return go(visit.request, Step.CAME, data)
        return Transition.end(OutMessage(ctx._(N_("Thank you again! 🌿"))))


class FeedbackSnapConsent(SnapConsentQuestion[FeedbackData]):
    """The photo question, asked the first time a photo comes in during the feedback."""

    default_back_to = Step.MATTERS

    async def open_event(self, ctx: FlowContext, data: FeedbackData) -> Event | Transition:
        visit = await open_visit(ctx, data, self.keeper.options)
        return visit if isinstance(visit, Transition) else visit.event

"""`/topics` for coordinators: the interests and areas people can choose from, and the
names of those and of the default journey steps in every language the bot speaks."""

from __future__ import annotations

import re
from enum import StrEnum

from conversations.core.choice_ids import STEP, TOPIC
from conversations.core.commands import CommandSpec
from conversations.core.flow import Answer, Flow, FlowContext, FlowData, Transition
from conversations.core.i18n import N_
from conversations.core.matching import normalise
from conversations.core.messages import Choice, OutMessage
from conversations.events.rules.journey import DEFAULT_JOURNEY, step_key, step_names
from conversations.people.profile_questions import clean_name
from storage.models import NamedSubject, Role, TopicKind


class Step(StrEnum):
    MENU = "menu"
    ADD_INTEREST = "add_interest"
    ADD_AREA = "add_area"
    REMOVE = "remove"
    NAME_WHICH = "name_which"
    NAME_LANGUAGE = "name_language"
    NAME_TEXT = "name_text"


class TopicsData(FlowData):
    # what is being named: a topic (its kind and slug) or a default step (its Danish name)
    subject: str | None = None
    key: str | None = None
    shown: str | None = None  # its name as the coordinator sees it, for the questions
    language: str | None = None


MAX_TOPIC_NAME = 60


def slugify(name: str) -> str:
    return re.sub(r"\s+", "-", normalise(name))[:64] or "topic"


class ManageTopics(Flow):
    name = "topics"
    data_model = TopicsData
    commands = (
        CommandSpec(
            "topics",
            "emner",
            N_("Interests and areas people can choose"),
            role=Role.COORDINATOR,
            button=N_("Interests and areas"),
        ),
    )

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        return Transition.go(Step.MENU, TopicsData())

    async def prompt(self, ctx: FlowContext, state: str, data: TopicsData) -> OutMessage:
        match Step(state):
            case Step.MENU:
                language = ctx.translator.language
                interests = await ctx.uow.topics.active(TopicKind.INTEREST)
                areas = await ctx.uow.topics.active(TopicKind.AREA)
                text = ctx._(
                    N_("Interests: {interests}\nAreas: {areas}\n\nWhat would you like to do?")
                ).format(
                    interests=", ".join(t.name(language) for t in interests) or "–",
                    areas=", ".join(t.name(language) for t in areas) or "–",
                )
                return OutMessage(
                    text,
                    choices=(
                        ctx.choice("add_interest", N_("Add an interest"), "🌿"),
                        ctx.choice("add_area", N_("Add an area"), "📍"),
                        ctx.choice("remove", N_("Remove one"), "➖"),
                        ctx.choice("names", N_("Names in other languages"), "🌍"),
                        ctx.choice("done", N_("Done"), "👍", "ok", "faerdig"),
                    ),
                )
            case Step.ADD_INTEREST | Step.ADD_AREA:
                return OutMessage(
                    ctx._(
                        N_(
                            "Type the name in Danish, then a slash and the English name, "
                            "for example: Gåture / Walks"
                        )
                    ),
                    expects_text=True,
                )
            case Step.REMOVE:
                language = ctx.translator.language
                topics = [
                    *await ctx.uow.topics.active(TopicKind.INTEREST),
                    *await ctx.uow.topics.active(TopicKind.AREA),
                ]
                choices = [Choice(TOPIC.of(t.id), t.name(language)) for t in topics]
                choices.append(ctx.choice("none", N_("None, go back"), "↩️"))
                return OutMessage(ctx._(N_("Which one should go?")), choices=tuple(choices))
            case Step.NAME_WHICH | Step.NAME_LANGUAGE | Step.NAME_TEXT:
                return await self._naming_question(ctx, Step(state), data)

    async def _naming_question(self, ctx: FlowContext, step: Step, data: TopicsData) -> OutMessage:
        if step == Step.NAME_WHICH:
            language = ctx.translator.language
            topics = [
                *await ctx.uow.topics.active(TopicKind.INTEREST),
                *await ctx.uow.topics.active(TopicKind.AREA),
            ]
            steps = await step_names(ctx.uow, ctx.translator, DEFAULT_JOURNEY)
            choices = [Choice(TOPIC.of(t.id), t.name(language)) for t in topics]
            choices += [
                Choice(STEP.of(i), ctx._(N_("Step: {step}")).format(step=name))
                for i, name in enumerate(steps)
            ]
            choices.append(ctx.choice("none", N_("None, go back"), "↩️"))
            return OutMessage(
                ctx._(N_("Which one would you like to name in another language?")),
                choices=tuple(choices),
            )
        if step == Step.NAME_LANGUAGE:
            translations = ctx.translations
            return OutMessage(
                ctx._(N_("In which language?")),
                choices=tuple(
                    Choice(code, translations.get(code).display_name, None, (code,))
                    for code in translations.languages
                ),
            )
        language_name = ctx.translations.get(data.language or "").display_name
        return OutMessage(
            ctx._(N_("Type the name of »{name}« in {language}.")).format(
                name=data.shown, language=language_name
            ),
            choices=(ctx.choice("remove_name", N_("Remove that name"), "➖"),),
            expects_text=True,
        )

    async def handle(
        self, ctx: FlowContext, state: str, data: TopicsData, answer: Answer
    ) -> Transition:
        if not ctx.is_coordinator:  # the role can be taken away mid-conversation
            return Transition.end(OutMessage(ctx._(N_("Only coordinators can do that."))))
        step = Step(state)
        if step == Step.MENU:
            if answer.choice in (None, "done"):
                return Transition.end(OutMessage(ctx._(N_("All saved. 👍"))))
            if answer.choice == "names":
                return Transition.go(Step.NAME_WHICH, TopicsData())
            return Transition.go(Step(answer.choice), data)
        if step in (Step.NAME_WHICH, Step.NAME_LANGUAGE, Step.NAME_TEXT):
            return await self._take_naming(ctx, step, data, answer)
        if step == Step.REMOVE:
            topic_id = TOPIC.parse(answer.choice)
            if topic_id is not None:
                topic = await ctx.uow.topics.get(topic_id)
                if topic is not None:
                    await ctx.uow.topics.deactivate(topic)
            return Transition.go(Step.MENU, data)
        danish, _, english = (answer.text or "").partition("/")
        # without control characters: PostgreSQL refuses a NUL in text, and nobody means one
        danish, english = clean_name(danish) or "", clean_name(english) or ""
        if not danish or len(danish) > MAX_TOPIC_NAME or len(english) > MAX_TOPIC_NAME:
            return Transition.stay(
                data, OutMessage(ctx._(N_("Please type a short name, like: Gåture / Walks")))
            )
        kind = TopicKind.INTEREST if step == Step.ADD_INTEREST else TopicKind.AREA
        await ctx.uow.topics.add(kind, slugify(danish), danish, english or danish)
        return Transition.go(Step.MENU, data, OutMessage(ctx._(N_("Added. 👍"))))

    async def _take_naming(
        self, ctx: FlowContext, step: Step, data: TopicsData, answer: Answer
    ) -> Transition:
        if step == Step.NAME_WHICH:
            if answer.choice == "none":
                return Transition.go(Step.MENU, TopicsData())
            chosen = await _nameable(ctx, answer.choice)
            if chosen is None:
                return Transition.stay(data, OutMessage(ctx._(N_("Please tap one of them."))))
            return Transition.go(Step.NAME_LANGUAGE, chosen)
        if step == Step.NAME_LANGUAGE:
            if answer.choice not in ctx.translations.languages:
                return Transition.stay(
                    data, OutMessage(ctx._(N_("Please choose one of the languages.")))
                )
            return Transition.go(
                Step.NAME_TEXT, data.model_copy(update={"language": answer.choice})
            )
        subject, key, language = data.subject, data.key, data.language
        if subject is None or key is None or language is None:
            return Transition.go(Step.MENU, TopicsData())
        if answer.choice == "remove_name":
            await _name(ctx, subject, key, language, None)
            return Transition.go(Step.MENU, TopicsData(), OutMessage(ctx._(N_("Removed. 👍"))))
        name = clean_name(answer.text) or ""
        if not name or len(name) > MAX_TOPIC_NAME:
            return Transition.stay(data, OutMessage(ctx._(N_("Please type a short name."))))
        await _name(ctx, subject, key, language, name)
        return Transition.go(Step.MENU, TopicsData(), OutMessage(ctx._(N_("Saved. 👍"))))


async def _nameable(ctx: FlowContext, choice: str | None) -> TopicsData | None:
    """What a tap on the "which one" question names, checked against what exists."""
    topic_id = TOPIC.parse(choice)
    if topic_id is not None:
        topic = await ctx.uow.topics.get(topic_id)
        if topic is None or not topic.active:
            return None
        return TopicsData(
            subject=topic.kind, key=topic.slug, shown=topic.name(ctx.translator.language)
        )
    index = STEP.parse(choice)
    if index is not None and index < len(DEFAULT_JOURNEY):
        danish = DEFAULT_JOURNEY[index]
        shown = (await step_names(ctx.uow, ctx.translator, [danish]))[0]
        return TopicsData(subject=NamedSubject.STEP, key=step_key(danish), shown=shown)
    return None


async def _name(ctx: FlowContext, subject: str, key: str, language: str, name: str | None) -> None:
    """Give (or with None take away) the name in `language`."""
    if subject == NamedSubject.STEP:
        if name is None:
            await ctx.uow.translations.remove(subject, key, language)
        else:
            await ctx.uow.translations.set(subject, key, language, name)
        return
    topic = await ctx.uow.topics.find(subject, key)
    if topic is not None:
        await ctx.uow.topics.set_name(topic, language, name)

"""`/topics` for coordinators: the interests and areas people can choose from."""

from __future__ import annotations

import re
from enum import StrEnum

from conversations.core.choice_ids import TOPIC
from conversations.core.commands import CommandSpec
from conversations.core.flow import Answer, Flow, FlowContext, NoData, Transition
from conversations.core.i18n import N_
from conversations.core.matching import normalise
from conversations.core.messages import Choice, OutMessage
from conversations.people.profile_questions import clean_name
from storage.models import Role, TopicKind


class Step(StrEnum):
    MENU = "menu"
    ADD_INTEREST = "add_interest"
    ADD_AREA = "add_area"
    REMOVE = "remove"


MAX_TOPIC_NAME = 60


def slugify(name: str) -> str:
    return re.sub(r"\s+", "-", normalise(name))[:64] or "topic"


class ManageTopics(Flow):
    name = "topics"
    data_model = NoData
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
        return Transition.go(Step.MENU, NoData())

    async def prompt(self, ctx: FlowContext, state: str, data: NoData) -> OutMessage:
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

    async def handle(
        self, ctx: FlowContext, state: str, data: NoData, answer: Answer
    ) -> Transition:
        if not ctx.is_coordinator:  # the role can be taken away mid-conversation
            return Transition.end(OutMessage(ctx._(N_("Only coordinators can do that."))))
        step = Step(state)
        if step == Step.MENU:
            if answer.choice in (None, "done"):
                return Transition.end(OutMessage(ctx._(N_("All saved. 👍"))))
            return Transition.go(Step(answer.choice), data)
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

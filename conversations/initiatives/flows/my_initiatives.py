"""`/myinitiatives`: who joins my initiatives, and writing to them."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from conversations.core.choice_ids import EVENT
from conversations.core.commands import CommandSpec
from conversations.core.flow import Answer, FlowContext, FlowData, Transition
from conversations.core.i18n import N_
from conversations.core.messages import Choice, OutMessage
from conversations.core.questions import Question, QuestionFlow, by_state
from conversations.events.flows.attendees import attendance, send_note, write_question
from conversations.initiatives.rules.pushes import initiative_status
from storage.models import Event, EventOrigin

MAX_NOTE = 1000
MAX_LABEL = 60


class MyStep(StrEnum):
    CHOOSE = "choose"
    VIEW = "view"
    WRITE = "write"


class MyInitiativesData(FlowData):
    event_id: int | None = None  # the initiative chosen


async def mine(ctx: FlowContext, event_id: int | None) -> Event | None:
    """The initiative, if this person posted it (checked at every step)."""
    event = await ctx.uow.events.get(event_id) if event_id is not None else None
    if event is None or event.origin != EventOrigin.INITIATIVE:
        return None
    return event if event.created_by_id == ctx.person.id else None


async def chosen(ctx: FlowContext, data: MyInitiativesData) -> Event:
    """The initiative the flow has just checked is this person's."""
    event = await mine(ctx, data.event_id)
    assert event is not None
    return event


class ChooseInitiative(Question[MyInitiativesData]):
    state = MyStep.CHOOSE

    async def ask(self, ctx: FlowContext, data: MyInitiativesData) -> OutMessage:
        initiatives = await ctx.uow.initiatives.initiatives_by(ctx.person.id)
        return OutMessage(
            ctx._(N_("Which initiative?")),
            choices=tuple(Choice(EVENT.of(e.id), e.title[:MAX_LABEL]) for e in initiatives),
        )

    async def take(self, ctx: FlowContext, data: MyInitiativesData, answer: Answer) -> Transition:
        event = await mine(ctx, EVENT.parse(answer.choice))
        if event is None:
            return Transition.stay(data)
        return Transition.go(MyStep.VIEW, MyInitiativesData(event_id=event.id))


class ViewInitiative(Question[MyInitiativesData]):
    state = MyStep.VIEW

    async def ask(self, ctx: FlowContext, data: MyInitiativesData) -> OutMessage:
        event = await chosen(ctx, data)
        lines = [initiative_status(ctx.translator, event, ctx.config.timezone)]
        if event.backed_by_id is not None:
            lines.append("🏛 " + ctx._(N_("Backed by the municipality")))
        lines += ["", await attendance(ctx, event)]
        return OutMessage(
            "\n".join(lines),
            choices=(
                ctx.choice("write", N_("Write to those coming"), "✉️"),
                ctx.choice("done", N_("Done"), "👍", "ok"),
            ),
        )

    async def take(self, ctx: FlowContext, data: MyInitiativesData, answer: Answer) -> Transition:
        if answer.choice == "write":
            return Transition.go(MyStep.WRITE, data)
        return Transition.end(OutMessage(ctx._(N_("All right. 👍"))))


class WriteToJoined(Question[MyInitiativesData]):
    state = MyStep.WRITE

    async def ask(self, ctx: FlowContext, data: MyInitiativesData) -> OutMessage:
        return write_question(ctx)

    async def take(self, ctx: FlowContext, data: MyInitiativesData, answer: Answer) -> Transition:
        return await send_note(ctx, await chosen(ctx, data), data, answer, longest=MAX_NOTE)


class MyInitiatives(QuestionFlow[MyInitiativesData]):
    name = "myinitiatives"
    data_model = MyInitiativesData
    commands = (
        CommandSpec(
            "myinitiatives",
            "mineinitiativer",
            N_("Who joins your initiatives, and writing to them"),
            in_menu=False,
        ),
    )

    _questions = by_state(ChooseInitiative(), ViewInitiative(), WriteToJoined())

    @property
    def questions(self) -> Mapping[str, Question[MyInitiativesData]]:
        return self._questions

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        if not await ctx.uow.initiatives.initiatives_by(ctx.person.id):
            return Transition.end(
                OutMessage(ctx._(N_("You have no initiatives yet. /initiative starts one.")))
            )
        return Transition.go(MyStep.CHOOSE, MyInitiativesData())

    async def handle(
        self, ctx: FlowContext, state: str, data: MyInitiativesData, answer: Answer
    ) -> Transition:
        if state != MyStep.CHOOSE and await mine(ctx, data.event_id) is None:
            return Transition.end(
                OutMessage(ctx._(N_("Only the organiser can change that, and this isn't yours.")))
            )
        return await super().handle(ctx, state, data, answer)

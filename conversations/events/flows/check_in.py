"""`/checkin` ("I'm here"): a person checks in at an event they are expected at, or by
scanning its check-in QR code (`/start in_<code>`), from a while before the start to the
end. Which event is found on the server: a tap or a link proves nothing by itself."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from conversations.core.choice_ids import EVENT
from conversations.core.commands import CommandSpec
from conversations.core.flow import Answer, FlowContext, NoData, Transition
from conversations.core.i18n import N_
from conversations.core.messages import Choice, OutMessage
from conversations.core.questions import Question, QuestionFlow, by_state
from conversations.events.rules.check_ins import (
    CHECK_IN_PREFIX,
    CheckInWindow,
    check_in,
    open_for,
)
from storage.models import CheckInVia, Event


class CheckInStep(StrEnum):
    CHOOSE = "choose"


def not_open(ctx: FlowContext) -> Transition:
    nothing = ctx._(N_("There is nothing to check in to right now."))
    return Transition.end(
        OutMessage(f"{nothing} {CheckInWindow.of(ctx.config).words(ctx.translator)}")
    )


async def open_now(ctx: FlowContext) -> list[Event]:
    return await open_for(ctx.uow, ctx.person, ctx.now(), CheckInWindow.of(ctx.config))


async def checked_in(ctx: FlowContext, event: Event, via: str) -> Transition:
    new = await check_in(ctx.services, event, ctx.person, via)
    text = (
        ctx._(N_("Welcome to {title}! 🌿 You are checked in."))
        if new
        else ctx._(N_("You are already checked in at {title}. Welcome! 🌿"))
    )
    return Transition.end(OutMessage(text.format(title=event.title)))


class ChooseEventToCheckIn(Question[NoData]):
    state = CheckInStep.CHOOSE

    async def ask(self, ctx: FlowContext, data: NoData) -> OutMessage:
        events = await open_now(ctx)
        return OutMessage(
            ctx._(N_("Where are you?")),
            choices=tuple(
                Choice(EVENT.of(e.id), f"{e.title} · {ctx.when(e.starts_at)}") for e in events
            ),
        )

    async def take(self, ctx: FlowContext, data: NoData, answer: Answer) -> Transition:
        event_id = EVENT.parse(answer.choice)
        # only an event this person is expected at, open now
        event = next((e for e in await open_now(ctx) if e.id == event_id), None)
        if event is None:
            return not_open(ctx)
        return await checked_in(ctx, event, CheckInVia.SELF)


class CheckIn(QuestionFlow[NoData]):
    name = "checkin"
    data_model = NoData
    link_prefix = CHECK_IN_PREFIX
    commands = (CommandSpec("checkin", "her", N_("I'm here: check in at an event"), in_menu=False),)

    _questions = by_state(ChooseEventToCheckIn())

    @property
    def questions(self) -> Mapping[str, Question[NoData]]:
        return self._questions

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        code = args.strip()
        if code:
            # the check-in QR hangs at the place: whoever scans it while it is open is there
            event = await ctx.uow.check_ins.event_by_code(code)
            if event is None or not CheckInWindow.of(ctx.config).open_at(event, ctx.now()):
                return not_open(ctx)
            return await checked_in(ctx, event, CheckInVia.QR)
        events = await open_now(ctx)
        if not events:
            return not_open(ctx)
        if len(events) == 1:
            return await checked_in(ctx, events[0], CheckInVia.SELF)
        return Transition.go(CheckInStep.CHOOSE, NoData())

"""`/cancelevent`: cancel an event and tell everyone who answered."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from conversations.core.commands import CommandSpec
from conversations.core.flow import Answer, Flow, FlowContext, Transition
from conversations.core.i18n import N_
from conversations.core.messages import OutMessage
from conversations.core.words import NO_WORDS, YES_WORDS
from conversations.events.flows.new_event import only_coordinators
from conversations.events.flows.pick_event import (
    CHOOSE,
    can_manage,
    choose_event_question,
    picked_event,
    start_choosing,
)
from conversations.events.rules.changes import cancel_event
from conversations.events.rules.notifier import concerned_answers
from storage.models import EventStatus, Prompt, Role


class CancelStep(StrEnum):
    CHOOSE = CHOOSE
    CONFIRM = "confirm"


class CancelEvent(Flow):
    name = "cancelevent"
    commands = (CommandSpec("cancelevent", "aflys", N_("Cancel an event"), role=Role.COORDINATOR),)

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        return await start_choosing(ctx)

    async def prompt(self, ctx: FlowContext, state: str, data: dict[str, Any]) -> OutMessage:
        if CancelStep(state) == CancelStep.CHOOSE:
            return await choose_event_question(ctx, ctx._(N_("Which event should be cancelled?")))
        event = await ctx.uow.events.get(int(data["event_id"]))
        assert event is not None
        concerned = len(await concerned_answers(ctx.uow, event))
        return OutMessage(
            ctx.ngettext(
                "Cancel {title} ({when})? {n} person who answered yes, maybe or is waiting "
                "will be told at once.",
                "Cancel {title} ({when})? {n} people who answered yes, maybe or are waiting "
                "will be told at once.",
                concerned,
            ).format(title=event.title, when=ctx.when(event.starts_at), n=concerned),
            choices=(
                ctx.choice("yes", N_("Yes, cancel it"), "🛑", *YES_WORDS),
                ctx.choice("no", N_("No, keep it"), "↩️", *NO_WORDS),
            ),
        )

    async def handle(
        self, ctx: FlowContext, state: str, data: dict[str, Any], answer: Answer
    ) -> Transition:
        if not ctx.is_coordinator:
            return only_coordinators(ctx)
        if CancelStep(state) == CancelStep.CHOOSE:
            event = await picked_event(ctx, answer)
            if event is None or event.status != EventStatus.PUBLISHED:
                return Transition.stay(data)
            return Transition.go(CancelStep.CONFIRM, {"event_id": event.id})
        event = await ctx.uow.events.get(int(data["event_id"]))
        if not can_manage(ctx, event):
            return only_coordinators(ctx)
        assert event is not None
        if answer.choice == "no":
            return Transition.end(OutMessage(ctx._(N_("It stays on. 👍"))))
        if answer.choice != "yes":
            return Transition.stay(data)
        if event.status != EventStatus.PUBLISHED:
            return Transition.end(OutMessage(ctx._(N_("That event is already cancelled."))))
        count = await cancel_event(ctx.services, event)
        return Transition.end(
            OutMessage(
                ctx.ngettext(
                    "Cancelled. I'm telling {n} person.",
                    "Cancelled. I'm telling {n} people.",
                    count,
                ).format(n=count)
            )
        )

    async def detached(self, ctx: FlowContext, prompt: Prompt, choice_id: str) -> Transition | None:
        return None

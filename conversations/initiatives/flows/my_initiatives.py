"""`/myinitiatives`: who joins my initiatives, and writing to them."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from conversations.core.commands import CommandSpec
from conversations.core.flow import Answer, Flow, FlowContext, Transition
from conversations.core.i18n import N_
from conversations.core.messages import Choice, OutMessage
from conversations.events.flows.attendees import attendance
from conversations.events.rules.attendee_messages import write_to_attendees
from conversations.initiatives.flows.browse_initiatives import MAX_NOTE, event_choice
from conversations.initiatives.rules.pushes import initiative_status
from storage.models import (
    Event,
    EventOrigin,
)


class MyStep(StrEnum):
    CHOOSE = "choose"
    VIEW = "view"
    WRITE = "write"


class MyInitiatives(Flow):
    name = "myinitiatives"
    commands = (
        CommandSpec(
            "myinitiatives",
            "mineinitiativer",
            N_("Who joins your initiatives, and writing to them"),
            in_menu=False,
        ),
    )

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        if not await ctx.uow.initiatives.initiatives_by(ctx.person.id):
            return Transition.end(
                OutMessage(ctx._(N_("You have no initiatives yet. /initiative starts one.")))
            )
        return Transition.go(MyStep.CHOOSE, {})

    async def prompt(self, ctx: FlowContext, state: str, data: dict[str, Any]) -> OutMessage:
        match MyStep(state):
            case MyStep.CHOOSE:
                mine = await ctx.uow.initiatives.initiatives_by(ctx.person.id)
                return OutMessage(
                    ctx._(N_("Which initiative?")),
                    choices=tuple(Choice(f"e{e.id}", e.title[:60]) for e in mine),
                )
            case MyStep.VIEW:
                event = await self._mine(ctx, data)
                assert event is not None
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
            case MyStep.WRITE:
                return OutMessage(
                    ctx._(
                        N_(
                            "Write your message. It goes to everyone who said yes, "
                            "with the event's name on top."
                        )
                    ),
                    expects_text=True,
                )

    async def _mine(self, ctx: FlowContext, data: dict[str, Any]) -> Event | None:
        event = await ctx.uow.events.get(int(data.get("event_id", 0)))
        if event is None or event.origin != EventOrigin.INITIATIVE:
            return None
        return event if event.created_by_id == ctx.person.id else None

    async def handle(
        self, ctx: FlowContext, state: str, data: dict[str, Any], answer: Answer
    ) -> Transition:
        step = MyStep(state)
        if step == MyStep.CHOOSE:
            event_id = event_choice(answer.choice or "", "e")
            if event_id is None or await self._mine(ctx, {"event_id": event_id}) is None:
                return Transition.stay(data)
            return Transition.go(MyStep.VIEW, {"event_id": event_id})
        event = await self._mine(ctx, data)
        if event is None:
            return Transition.end(
                OutMessage(ctx._(N_("Only the organiser can change that, and this isn't yours.")))
            )
        if step == MyStep.VIEW:
            if answer.choice == "write":
                return Transition.go(MyStep.WRITE, data)
            return Transition.end(OutMessage(ctx._(N_("All right. 👍"))))
        note = (answer.text or "").strip()
        if not note or len(note) > MAX_NOTE:
            return Transition.stay(data, OutMessage(ctx._(N_("Please write a short message."))))
        count = await write_to_attendees(
            ctx.services, event, note, sender=ctx.person, sender_chat=ctx.ref
        )
        return Transition.end(
            OutMessage(
                ctx.ngettext("Sent to {n} person. ✉️", "On its way to {n} people. ✉️", count).format(
                    n=count
                )
            )
        )

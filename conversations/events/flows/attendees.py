"""`/attendees`: who is coming to one of my events, and writing to them.

Coordinators manage their own events; admins manage all. Checked on every step, because a
role can be taken away in the middle of a conversation.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from conversations.core.commands import CommandSpec
from conversations.core.flow import Answer, Flow, FlowContext, Transition
from conversations.core.i18n import N_
from conversations.core.messages import OutMessage
from conversations.events.flows.event_qr import qr_message
from conversations.events.flows.new_event import only_coordinators
from conversations.events.flows.pick_event import (
    CHOOSE,
    can_manage,
    choose_event_question,
    picked_event,
    start_choosing,
)
from conversations.events.rules.attendee_messages import write_to_attendees
from storage.models import Event, EventStatus, Prompt, Role, RsvpAnswer

MAX_NOTE = 1500


class AttendeesStep(StrEnum):
    CHOOSE = CHOOSE
    LIST = "list"
    WRITE = "write"


class Attendees(Flow):
    name = "attendees"
    commands = (
        CommandSpec(
            "attendees",
            "deltagere",
            N_("See who is coming, and write to them"),
            role=Role.COORDINATOR,
        ),
    )

    def __init__(self, *, bot_username: str | None = None) -> None:
        self._bot_username = bot_username

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        return await start_choosing(ctx)

    async def prompt(self, ctx: FlowContext, state: str, data: dict[str, Any]) -> OutMessage:
        match AttendeesStep(state):
            case AttendeesStep.CHOOSE:
                return await choose_event_question(ctx, ctx._(N_("Which event?")))
            case AttendeesStep.LIST:
                event = await ctx.uow.events.get(int(data["event_id"]))
                assert event is not None
                return OutMessage(
                    await self.overview(ctx, event),
                    choices=(
                        ctx.choice("write", N_("Write to those coming"), "✉️"),
                        ctx.choice("qr", N_("QR code for a poster"), "🔳", "qr"),
                        ctx.choice("done", N_("Done"), "👍", "ok"),
                    ),
                )
            case AttendeesStep.WRITE:
                return OutMessage(
                    ctx._(
                        N_(
                            "Write your message. It goes to everyone who said yes, "
                            "with the event's name on top."
                        )
                    ),
                    expects_text=True,
                )

    async def overview(self, ctx: FlowContext, event: Event) -> str:
        """Who is coming, maybe, waiting or not (also shown to an initiative's author)."""
        lines = [f"🌿 {event.title} · {ctx.when(event.starts_at)}"]
        if event.status == EventStatus.CANCELLED:
            lines.append(ctx._(N_("(cancelled)")))
        coming = await ctx.uow.events.places_taken(event.id)
        invited = await ctx.uow.events.invited_count(event.id)
        capacity = str(event.capacity) if event.capacity is not None else "∞"
        lines.append(
            ctx._(N_("Invited: {invited} · Places taken: {coming} of {capacity}")).format(
                invited=invited, coming=coming, capacity=capacity
            )
        )
        headings = (
            (RsvpAnswer.YES, N_("Coming")),
            (RsvpAnswer.MAYBE, N_("Maybe")),
            (RsvpAnswer.WAITLISTED, N_("Waiting list")),
            (RsvpAnswer.NO, N_("Can't come")),
        )
        counts = await ctx.uow.events.answer_counts(event.id)
        for answer, heading in headings:
            rows = await ctx.uow.events.rsvps(event.id, answer)
            if answer == RsvpAnswer.WAITLISTED:
                rows = await ctx.uow.events.waitlist(event.id)
            anonymous = counts.get(answer, 0) - len(rows)
            names = []
            for row in rows:
                person = await ctx.uow.persons.get(row.person_id) if row.person_id else None
                name = (person.display_name if person else None) or ctx._(N_("(no name)"))
                names.append(name + (" +1" if row.guests else ""))
            if anonymous > 0 and answer != RsvpAnswer.WAITLISTED:
                names.append(
                    ctx.ngettext("{n} without a name", "{n} without a name", anonymous).format(
                        n=anonymous
                    )
                )
            total = len(rows) + max(anonymous, 0)
            lines.append(f"{ctx._(heading)} ({total}): " + (", ".join(names) or "–"))
        return "\n".join(lines)

    async def handle(
        self, ctx: FlowContext, state: str, data: dict[str, Any], answer: Answer
    ) -> Transition:
        if not ctx.is_coordinator:
            return only_coordinators(ctx)
        step = AttendeesStep(state)
        if step == AttendeesStep.CHOOSE:
            event = await picked_event(ctx, answer)
            if event is None:
                return Transition.stay(data)
            return Transition.go(AttendeesStep.LIST, {"event_id": event.id})
        event = await ctx.uow.events.get(int(data["event_id"]))
        if not can_manage(ctx, event):
            return only_coordinators(ctx)
        assert event is not None
        if step == AttendeesStep.LIST:
            if answer.choice == "write":
                return Transition.go(AttendeesStep.WRITE, data)
            if answer.choice == "qr":
                return Transition.stay(data, qr_message(ctx, event, self._bot_username), ask=False)
            return Transition.end(OutMessage(ctx._(N_("All right. 👍"))))
        note = (answer.text or "").strip()
        if not note or len(note) > MAX_NOTE:
            return Transition.stay(data, OutMessage(ctx._(N_("Please write a short message."))))
        count = await write_to_attendees(
            ctx.services, event, note, sender=ctx.person, sender_chat=ctx.ref
        )
        text = ctx.ngettext("Sent to {n} person. ✉️", "On its way to {n} people. ✉️", count).format(
            n=count
        )
        return Transition.end(OutMessage(text))

    async def detached(self, ctx: FlowContext, prompt: Prompt, choice_id: str) -> Transition | None:
        return None

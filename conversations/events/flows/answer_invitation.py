"""Answering invitations: taps on an invitation, the deep link `/start ev_<code>` and the
waiting-list offer (`/events`, in `my_events`, shows the invitations again).

A tap proves nothing by itself: every answer is checked here, on the server, against the
event (published, not started) and the person (invited, or opened its link)."""

from __future__ import annotations

from datetime import timedelta

from conversations.core.flow import FlowContext, SingleStepFlow, Transition
from conversations.core.i18n import N_
from conversations.core.messages import OutMessage
from conversations.events.rules.answers import Outcome, record_answer, waitlist_position
from conversations.events.rules.attachments import ics_attachment
from conversations.events.rules.invitations import (
    RSVP_FLOW,
    answered_card,
    invitation_message,
    is_open,
    may_answer,
)
from conversations.events.rules.reminders import reminder_coming
from conversations.events.rules.waiting_list import take_offer
from conversations.events.rules.wording import event_when
from conversations.tasks.flows.take_task import show_tasks
from conversations.tasks.rules.pledges import release_tasks
from storage.models import Event, EventStatus, Prompt


def closed_reply(ctx: FlowContext, event: Event | None) -> Transition:
    if event is not None and event.status == EventStatus.CANCELLED:
        text = ctx._(N_("{title} has been cancelled, so there is nothing to answer.")).format(
            title=event.title
        )
    elif event is not None and event.starts_at <= ctx.now():
        text = ctx._(N_("{title} has already begun, so answers can no longer be changed.")).format(
            title=event.title
        )
    else:
        text = ctx._(N_("I can't find that event, sorry."))
    return Transition.refuse(OutMessage(text))


def not_yours_reply(ctx: FlowContext) -> Transition:
    return Transition.refuse(OutMessage(ctx._(N_("That invitation isn't one I sent to you."))))


async def show_invitation(
    ctx: FlowContext, event: Event, *, intro: str | None = None, with_photo: bool = True
) -> OutMessage:
    return await invitation_message(
        ctx.services, event, ctx.person, ctx.ref, intro=intro, with_photo=with_photo
    )


class Rsvp(SingleStepFlow):
    """Opened by the deep link; answers taps on invitations and on waiting-list offers."""

    name = RSVP_FLOW
    link_prefix = "ev"

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        event = await ctx.uow.events.by_link(args.strip()) if args.strip() else None
        if event is None or not is_open(event, ctx.now()):
            return closed_reply(ctx, event)
        await ctx.uow.events.invite(event.id, ctx.person.id, "link")
        return Transition.end(await show_invitation(ctx, event))

    async def detached(self, ctx: FlowContext, prompt: Prompt, choice_id: str) -> Transition | None:
        event_id = prompt.context.get("event_id")
        if not isinstance(event_id, int) or prompt.person_id != ctx.person.id:
            return not_yours_reply(ctx)
        event = await ctx.uow.events.get(event_id)
        if event is None or not await may_answer(ctx.uow, event, ctx.person):
            return not_yours_reply(ctx)
        kind = prompt.context.get("kind")
        if kind == "offer":
            return await self._offer(ctx, event, choice_id)
        if kind == "show":
            return Transition.end(await show_invitation(ctx, event))
        if kind != "invite":
            return None
        return await self._on_invitation(ctx, event, prompt, choice_id)

    async def _on_invitation(
        self, ctx: FlowContext, event: Event, prompt: Prompt, choice_id: str
    ) -> Transition:
        """A button under the invitation: the calendar, details, tasks or an answer."""
        if choice_id == "calendar":
            return Transition.end(
                OutMessage(
                    ctx._(N_("Here it is for your calendar. 📅")),
                    attachment=ics_attachment(event),
                )
            )
        if choice_id == "details":
            return Transition.end(await self._details(ctx, event))
        if not is_open(event, ctx.now()):
            return closed_reply(ctx, event)
        if choice_id == "tasks":
            return Transition.end(await show_tasks(ctx, event))
        outcome = await record_answer(ctx.services, event, ctx.person, choice_id)
        text = await self._confirmation(ctx, event, outcome)
        if outcome in (Outcome.NO_ROOM_FOR_GUEST, Outcome.NO_GUESTS):
            return Transition.refuse(OutMessage(text))
        if outcome == Outcome.NO:
            late = timedelta(hours=ctx.config.late_withdrawal_hours)
            released = await release_tasks(ctx.services, event, ctx.person.id, late_window=late)
            if released:
                text += "\n" + ctx._(N_("I've also let go of your tasks: {tasks}.")).format(
                    tasks=", ".join(released)
                )
        card = await answered_card(ctx.services, event, ctx.person, prompt)
        return Transition.end(OutMessage(text), replaces=card)

    async def _confirmation(self, ctx: FlowContext, event: Event, outcome: Outcome) -> str:
        when = event_when(ctx.translator, event, ctx.config.timezone)
        match outcome:
            case Outcome.YES:
                # the promise only when a reminder is really on its way (not minutes before)
                if await reminder_coming(ctx.uow, event, ctx.person.id):
                    return ctx._(
                        N_("Lovely, you're in! 🎉 See you {when}. I'll remind you before.")
                    ).format(when=when)
                return ctx._(N_("Lovely, you're in! 🎉 See you {when}.")).format(when=when)
            case Outcome.MAYBE:
                return ctx._(
                    N_("Thanks, noted as maybe. You can change your answer until it begins.")
                )
            case Outcome.NO:
                return ctx._(N_("Thanks for letting us know. Perhaps another time! 🌿"))
            case Outcome.WAITLISTED | Outcome.ALREADY_WAITING:
                position = await waitlist_position(ctx.uow, event, ctx.person.id)
                return ctx._(
                    N_(
                        "It is full right now, so you are on the waiting list as number "
                        "{position}. If a place opens up, I'll ask you at once."
                    )
                ).format(position=position)
            case Outcome.GUEST_ADDED:
                return ctx._(N_("Your guest is noted too. 👫 You are two."))
            case Outcome.GUEST_REMOVED:
                return ctx._(N_("Noted: you come without a guest."))
            case Outcome.NO_ROOM_FOR_GUEST:
                return ctx._(
                    N_("Sorry, there is no room for a guest any more. You still have your place.")
                )
            case Outcome.NO_GUESTS:
                return ctx._(N_("This event is without guests, sorry."))
        return ""

    async def _details(self, ctx: FlowContext, event: Event) -> OutMessage:
        lines = []  # the person's own answer is on the card itself
        mine = await ctx.uow.pledges.of_person(event.id, ctx.person.id)
        if mine:
            lines.append(
                ctx._(N_("You're helping with: {tasks}")).format(
                    tasks=", ".join(t.title for t in mine)
                )
            )
        coming = await ctx.uow.events.places_taken(event.id)
        lines.append(
            ctx.ngettext(
                "{n} person is coming so far.", "{n} people are coming so far.", coming
            ).format(n=coming)
        )
        if event.journey_steps:
            lines.append(
                ctx._(N_("The day, step by step: {steps}")).format(
                    steps=" → ".join(str(s) for s in event.journey_steps)
                )
            )
        # asked from under a card that came with the photo: not sent a second time
        return await show_invitation(ctx, event, intro="\n".join(lines), with_photo=False)

    async def _offer(self, ctx: FlowContext, event: Event, choice_id: str) -> Transition:
        if choice_id not in ("take", "decline"):
            return not_yours_reply(ctx)
        took = await take_offer(ctx.services, event, ctx.person, choice_id == "take")
        if not took:
            return Transition.refuse(
                OutMessage(ctx._(N_("Sorry, that offer has run out or the place is gone.")))
            )
        if choice_id == "take":
            when = event_when(ctx.translator, event, ctx.config.timezone)
            return Transition.end(
                OutMessage(
                    ctx._(N_("Lovely, the place is yours! 🎉 See you {when}.")).format(when=when)
                )
            )
        return Transition.end(
            OutMessage(ctx._(N_("Thanks for saying so. The place goes to the next in line.")))
        )

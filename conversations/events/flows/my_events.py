"""`/events`: what is coming that I was invited to, and what I said."""

from __future__ import annotations

from conversations.core.choice_ids import EVENT
from conversations.core.commands import CommandSpec
from conversations.core.flow import FlowContext, SingleStepFlow, Transition
from conversations.core.i18n import N_
from conversations.core.messages import Choice, OutMessage
from conversations.core.prompts import offer
from conversations.events.flows.answer_invitation import (
    closed_reply,
    not_yours_reply,
    show_invitation,
)
from conversations.events.rules.invitations import is_open, may_answer
from storage.models import Event, Prompt, RsvpAnswer


class MyEvents(SingleStepFlow):
    """`/events`: what is coming that I was invited to, and what I said."""

    name = "myevents"
    commands = (CommandSpec("events", "arrangementer", N_("What is coming, and what I said")),)

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        now = ctx.now()
        answers = await ctx.uow.events.answers_of(ctx.person.id)
        shown: list[Event] = []
        for event in await ctx.uow.events.upcoming(now):
            invited = await ctx.uow.events.is_invited(event.id, ctx.person.id)
            not_yet_sent = event.send_at is not None and event.send_at > now
            if event.id in answers or (invited and not not_yet_sent):
                shown.append(event)
        if not shown:
            return Transition.end(
                OutMessage(
                    ctx._(
                        N_(
                            "Nothing is coming up for you right now. "
                            "I'll write when something does."
                        )
                    )
                )
            )
        lines = [ctx._(N_("Coming up:"))]
        choices: list[Choice] = []
        labels: dict[str, str] = {
            RsvpAnswer.YES: ctx._(N_("you're coming")),
            RsvpAnswer.MAYBE: ctx._(N_("maybe")),
            RsvpAnswer.NO: ctx._(N_("you can't come")),
            RsvpAnswer.WAITLISTED: ctx._(N_("waiting list")),
        }
        for event in shown[:9]:
            rsvp = answers.get(event.id)
            said = labels[rsvp.answer] if rsvp else ctx._(N_("not answered yet"))
            lines.append(f"• {event.title} – {ctx.when(event.starts_at)} ({said})")
            choices.append(Choice(EVENT.of(event.id), event.title))
        message = OutMessage("\n".join(lines), choices=tuple(choices))
        return Transition.end(await offer(ctx, self, message, state="list", context={}))

    async def detached(self, ctx: FlowContext, prompt: Prompt, choice_id: str) -> Transition | None:
        event_id = EVENT.parse(choice_id)
        if event_id is None:
            return None
        event = await ctx.uow.events.get(event_id)
        if event is None or not await may_answer(ctx.uow, event, ctx.person):
            return not_yours_reply(ctx)
        if not is_open(event, ctx.now()):
            return closed_reply(ctx, event)
        return Transition.end(await show_invitation(ctx, event))

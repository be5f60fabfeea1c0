"""Taking a hand with a task: the task list of an event, where a person taps "I'll do" or
"let go of", and their answer to an ask for a hand ("yes, count me in" or "not this time").

Every tap is checked on the server like an answer: the event must be open, and the person
must have been shown it (or asked for that hand); the pledge rules are in `rules/pledges`.
"""

from __future__ import annotations

from datetime import timedelta

from conversations.core.choice_ids import ChoiceKey
from conversations.core.flow import FlowContext, SingleStepFlow, Transition
from conversations.core.i18n import N_
from conversations.core.messages import Choice, OutMessage
from conversations.core.prompts import offer_to
from conversations.events.rules.answers import Outcome, record_answer
from conversations.events.rules.capacity import missing_hands
from conversations.events.rules.invitations import is_open, may_answer
from conversations.tasks.rules.pledges import (
    LET_GO,
    NOT_THIS_TIME,
    PLEDGE_FLOW,
    TAKE,
    PledgeOutcome,
    let_go,
    pledge,
)
from storage.models import Event, EventTask, Prompt, RsvpAnswer


async def tasks_message(ctx: FlowContext, event: Event, *, intro: str | None = None) -> OutMessage:
    held = await ctx.uow.pledges.counts(event.id)
    mine = {t.id for t in await ctx.uow.pledges.of_person(event.id, ctx.person.id)}
    lines = [intro] if intro else []
    lines.append(ctx._(N_("Tasks for {title}:")).format(title=event.title))
    choices: list[Choice] = []
    for task in await ctx.uow.events.tasks(event.id):
        if task.closed_at is not None:
            continue
        missing = missing_hands(task, held.get(task.id, 0))
        if task.id in mine:
            lines.append("✅ " + ctx._(N_("{task}: you're helping")).format(task=task.title))
            label = ctx._(N_("Let go of: {task}")).format(task=task.title)
            choices.append(Choice(LET_GO.of(task.id), label, "↪️"))
        elif missing > 0:
            lines.append(
                "• "
                + ctx.ngettext("{task} ({n} missing)", "{task} ({n} missing)", missing).format(
                    task=task.title, n=missing
                )
            )
            label = ctx._(N_("I'll take the task: {task}")).format(task=task.title)
            choices.append(Choice(TAKE.of(task.id), label, "🙋"))
        else:
            lines.append("• " + ctx._(N_("{task}: all hands found")).format(task=task.title))
    if not choices:
        lines.append(ctx._(N_("There are enough hands for every task. Thank you for asking!")))
        return OutMessage("\n".join(lines))
    lines.append(ctx._(N_("Tap one to take it, or to let it go.")))
    return OutMessage("\n".join(lines), choices=tuple(choices[:10]))


async def show_tasks(ctx: FlowContext, event: Event, *, intro: str | None = None) -> OutMessage:
    """The task list with its buttons, stored for this person only."""
    message = await tasks_message(ctx, event, intro=intro)
    if not message.choices:
        return message
    return await offer_to(
        ctx.uow,
        ctx.ref,
        ctx.person.id,
        PLEDGE_FLOW,
        message,
        state="tasks",
        context={"event_id": event.id},
    )


def tapped(choice_id: str) -> tuple[ChoiceKey, int] | None:
    """Which of the task buttons this is (take, let go, not this time), and for which task."""
    for key in (TAKE, LET_GO, NOT_THIS_TIME):
        task_id = key.parse(choice_id)
        if task_id is not None:
            return key, task_id
    return None


class Pledges(SingleStepFlow):
    """Taps on the task list and on "can you help?" asks. Everything is checked here."""

    name = PLEDGE_FLOW

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        return Transition.end(OutMessage(ctx._(N_("Open an invitation to see its tasks."))))

    async def detached(self, ctx: FlowContext, prompt: Prompt, choice_id: str) -> Transition | None:
        event_id = prompt.context.get("event_id")
        button = tapped(choice_id)
        if not isinstance(event_id, int) or prompt.person_id != ctx.person.id or button is None:
            return _not_yours(ctx)
        key, task_id = button
        event = await ctx.uow.events.get(event_id)
        task = await ctx.uow.pledges.task(task_id)
        if event is None or task is None or task.event_id != event.id:
            return _not_yours(ctx)
        asked = ctx.person.id in await ctx.uow.pledges.asks(task.id)
        if not asked and not await may_answer(ctx.uow, event, ctx.person):
            return _not_yours(ctx)
        if not is_open(event, ctx.now()):
            return Transition.end(
                OutMessage(ctx._(N_("{title} is no longer open.")).format(title=event.title))
            )
        if key == NOT_THIS_TIME:
            await ctx.uow.pledges.note_ask(task.id, ctx.person.id, declined=True)
            return Transition.end(OutMessage(ctx._(N_("That's fine, thank you for saying so."))))
        if key == LET_GO:
            return await self._let_go(ctx, event, task)
        return await self._take(ctx, event, task)

    async def _let_go(self, ctx: FlowContext, event: Event, task: EventTask) -> Transition:
        window = timedelta(hours=ctx.config.late_withdrawal_hours)
        gone = await let_go(ctx.services, event, task, ctx.person.id, late_window=window)
        if not gone:
            return Transition.end(
                OutMessage(ctx._(N_("You weren't down for that task, so nothing changed.")))
            )
        return Transition.end(
            OutMessage(
                ctx._(N_("Noted: you're no longer doing {task}. Thanks for telling me.")).format(
                    task=task.title
                )
            )
        )

    async def _take(self, ctx: FlowContext, event: Event, task: EventTask) -> Transition:
        outcome = await pledge(ctx.services, event, task, ctx.person.id)
        if outcome == PledgeOutcome.FULL:
            intro = ctx._(N_("Sorry, someone was quicker: that task is full now."))
            return Transition.end(await show_tasks(ctx, event, intro=intro))
        if outcome == PledgeOutcome.CLOSED:
            return Transition.end(OutMessage(ctx._(N_("That task is no longer needed."))))
        text = ctx._(N_("Wonderful, you're down for {task}. 🙌 I'll remind you before.")).format(
            task=task.title
        )
        if outcome == PledgeOutcome.ALREADY:
            text = ctx._(N_("You're already down for {task}. Thank you!")).format(task=task.title)
        coming = await self._coming_too(ctx, event)
        return Transition.end(OutMessage(f"{text}\n{coming}" if coming else text))

    async def _coming_too(self, ctx: FlowContext, event: Event) -> str | None:
        """Taking a task means coming: a yes is noted for someone who hadn't said one."""
        rsvp = await ctx.uow.events.rsvp(event.id, ctx.person.id)
        if rsvp is not None and rsvp.answer != RsvpAnswer.MAYBE:
            return None
        answered = await record_answer(ctx.services, event, ctx.person, "yes")
        if answered == Outcome.WAITLISTED:
            return ctx._(N_("The event itself is full, so you are on its waiting list."))
        return ctx._(N_("I've noted that you're coming too."))


def _not_yours(ctx: FlowContext) -> Transition:
    return Transition.end(OutMessage(ctx._(N_("That invitation isn't one I sent to you."))))

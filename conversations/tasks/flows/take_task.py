"""Tasks on an event and the pledges people make to them ("count me in for a task").

A pledge is checked on the server like an answer: the event must be open, the person must
have been shown it (or asked for a hand), and a full task takes no more pledges (the event's
row is locked while counting, as for the last place). Letting a task go close to the event
tells the organiser and asks for the hand again, first among those coming, then among those
invited, never asking anyone twice or anyone who already said no to that task."""

from __future__ import annotations

from datetime import timedelta

from conversations.core.flow import FlowContext, SingleStepFlow, Transition
from conversations.core.i18n import N_
from conversations.core.messages import Choice, OutMessage
from conversations.core.prompts import offer_to
from conversations.events.rules.answers import Outcome, record_answer
from conversations.events.rules.capacity import missing_hands
from conversations.events.rules.invitations import is_open, may_answer
from conversations.tasks.rules.pledges import PLEDGE_FLOW, PledgeOutcome, let_go, take
from storage.models import Event, Prompt, RsvpAnswer


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
            choices.append(Choice(f"w{task.id}", label, "↪️"))
        elif missing > 0:
            lines.append(
                "• "
                + ctx.ngettext("{task} ({n} missing)", "{task} ({n} missing)", missing).format(
                    task=task.title, n=missing
                )
            )
            label = ctx._(N_("I'll do: {task}")).format(task=task.title)
            choices.append(Choice(f"t{task.id}", label, "🙋"))
        else:
            lines.append("• " + ctx._(N_("{task}: all hands found")).format(task=task.title))
    if not choices:
        lines.append(ctx._(N_("Every task has its hands. Thank you for asking!")))
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


def _task_id(choice_id: str) -> tuple[str, int] | None:
    if len(choice_id) > 1 and choice_id[0] in "twn" and choice_id[1:].isdigit():
        return choice_id[0], int(choice_id[1:])
    return None


class Pledges(SingleStepFlow):
    """Taps on the task list and on "can you help?" asks. Everything is checked here."""

    name = PLEDGE_FLOW

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        return Transition.end(OutMessage(ctx._(N_("Open an invitation to see its tasks."))))

    async def detached(self, ctx: FlowContext, prompt: Prompt, choice_id: str) -> Transition | None:
        event_id = prompt.context.get("event_id")
        parsed = _task_id(choice_id)
        if not isinstance(event_id, int) or prompt.person_id != ctx.person.id or parsed is None:
            return _not_yours(ctx)
        action, task_id = parsed
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
        if action == "n":
            await ctx.uow.pledges.note_ask(task.id, ctx.person.id, declined=True)
            return Transition.end(OutMessage(ctx._(N_("That's fine, thank you for saying so."))))
        if action == "w":
            window = timedelta(hours=ctx.config.late_withdrawal_hours)
            gone = await let_go(ctx.services, event, task, ctx.person.id, late_window=window)
            if not gone:
                return Transition.end(
                    OutMessage(ctx._(N_("You weren't down for that task, so nothing changed.")))
                )
            return Transition.end(
                OutMessage(
                    ctx._(
                        N_("Noted: you're no longer doing {task}. Thanks for telling me.")
                    ).format(task=task.title)
                )
            )
        outcome = await take(ctx.uow, event, task, ctx.person.id)
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
        rsvp = await ctx.uow.events.rsvp(event.id, ctx.person.id)
        if rsvp is None or rsvp.answer == RsvpAnswer.MAYBE:
            # taking a task means coming: note a yes (or the waiting list when it is full)
            answered = await record_answer(ctx.services, event, ctx.person, "yes")
            if answered == Outcome.WAITLISTED:
                text += "\n" + ctx._(
                    N_("The event itself is full, so you are on its waiting list.")
                )
            else:
                text += "\n" + ctx._(N_("I've noted that you're coming too."))
        return Transition.end(OutMessage(text))


def _not_yours(ctx: FlowContext) -> Transition:
    return Transition.end(OutMessage(ctx._(N_("That invitation isn't one I sent to you."))))

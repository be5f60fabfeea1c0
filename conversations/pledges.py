"""Tasks on an event and the pledges people make to them ("count me in for a task").

A pledge is checked on the server like an answer: the event must be open, the person must
have been shown it (or asked for a hand), and a full task takes no more pledges (the event's
row is locked while counting, as for the last place). Letting a task go close to the event
tells the organiser and asks for the hand again, first among those coming, then among those
invited, never asking anyone twice or anyone who already said no to that task.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from conversations import events as ev
from conversations.engine import offer_to
from conversations.flow import FlowContext, SingleStepFlow, Transition
from conversations.i18n import N_, Translations, Translator
from conversations.messages import ChatRef, Choice, OutMessage
from storage.models import Event, EventTask, Person, Prompt, RsvpAnswer
from storage.unit_of_work import UnitOfWork

PLEDGE_FLOW = "pledge"


class PledgeOutcome(StrEnum):
    TAKEN = "taken"
    ALREADY = "already"
    FULL = "full"
    CLOSED = "closed"


async def take(uow: UnitOfWork, event: Event, task: EventTask, person_id: int) -> PledgeOutcome:
    """Pledge a hand, if one is still missing. The caller has checked the person may."""
    await uow.events.lock(event)
    if task.closed_at is not None:
        return PledgeOutcome.CLOSED
    if await uow.pledges.active(task.id, person_id) is not None:
        return PledgeOutcome.ALREADY
    if await uow.pledges.held(task.id) >= task.hands:
        return PledgeOutcome.FULL
    await uow.pledges.add(task, person_id)
    return PledgeOutcome.TAKEN


async def let_go(
    uow: UnitOfWork,
    translations: Translations,
    timezone: str,
    event: Event,
    task: EventTask,
    person_id: int,
    now: datetime,
    *,
    late_window: timedelta,
) -> bool:
    """Withdraw a pledge; close to the event, tell the organiser and ask for the hand again."""
    pledge = await uow.pledges.active(task.id, person_id)
    if pledge is None:
        return False
    pledge.withdrawn_at = now
    await uow.pledges.note_ask(task.id, person_id, declined=True)
    await uow.session.flush()
    if ev.is_open(event, now) and event.starts_at - now <= late_window:
        person = await uow.persons.get(person_id)
        await tell_organiser(uow, translations, timezone, event, task, person_id, now, person)
        await ask_again(uow, translations, timezone, event, task, now)
    return True


async def tell_organiser(
    uow: UnitOfWork,
    translations: Translations,
    timezone: str,
    event: Event,
    task: EventTask,
    person_id: int,
    now: datetime,
    person: Person | None,
) -> None:
    if event.created_by_id is None or event.created_by_id == person_id:
        return
    notifier = ev.Notifier(uow, translations, timezone)
    name = person.display_name if person is not None else None

    def render(tr: Translator) -> str:
        who = name or tr.gettext(N_("Someone"))
        return tr.gettext(
            N_(
                "{name} can no longer help with {task} at {title}. "
                "I'm asking others for the hand now."
            )
        ).format(name=who, task=task.title, title=event.title)

    await notifier.tell(
        [event.created_by_id],
        render,
        key=lambda p: f"taskgone:{task.id}:{person_id}:{now.isoformat()}",
        kind="task",
        batch=f"task:{event.id}",
        now=now,
        event=event,
    )


async def ask_again(
    uow: UnitOfWork,
    translations: Translations,
    timezone: str,
    event: Event,
    task: EventTask,
    now: datetime,
) -> int:
    """Ask for a missing hand: first those coming, then those invited; each person once."""
    missing = ev.missing_hands(task, await uow.pledges.held(task.id))
    if missing <= 0:
        return 0
    asks = await uow.pledges.asks(task.id)
    pledged = set(await uow.pledges.pledgers(task.id))
    skip = set(asks) | pledged | {event.created_by_id}
    coming = ev.known(await uow.events.rsvps(event.id, RsvpAnswer.YES))
    said_no = set(ev.known(await uow.events.rsvps(event.id, RsvpAnswer.NO)))
    tiers: list[list[int]] = [
        [pid for pid in coming if pid not in skip],
        [pid for pid in await uow.pledges.invited(event.id) if pid not in skip | said_no],
    ]
    notifier = ev.Notifier(uow, translations, timezone)
    for tier in tiers:
        if not tier:
            continue
        count = 0
        for person, identity in await uow.events.reachable(tier):
            tr = notifier.tr(person)
            text = tr.gettext(N_("{title} ({when}) needs a hand: {task}. Could you help?")).format(
                title=event.title, when=notifier.when(tr, event), task=task.title
            )
            message = OutMessage(
                text,
                choices=(
                    ev.choice_for(
                        tr, translations, f"t{task.id}", N_("Yes, count me in"), "🙋", "ja"
                    ),
                    ev.choice_for(tr, translations, f"n{task.id}", N_("Not this time"), "↪️"),
                ),
            )
            recipient = ChatRef(identity.platform, identity.chat_id, identity.user_id)
            message = await offer_to(
                uow,
                recipient,
                person.id,
                PLEDGE_FLOW,
                message,
                state="ask",
                context={"event_id": event.id, "kind": "ask"},
            )
            await notifier.enqueue(
                person,
                identity,
                message,
                key=f"taskask:{task.id}:{person.id}",
                kind="task",
                batch=f"task:{event.id}",
                not_before=ev.polite_time(person, now, event, timezone),
                expires_at=event.starts_at,
            )
            await uow.pledges.note_ask(task.id, person.id, asked=True)
            count += 1
        if count:
            return count
    return 0


async def tell_pledgers(
    uow: UnitOfWork,
    translations: Translations,
    timezone: str,
    event: Event,
    person_ids: Sequence[int],
    render: Any,
    key: str,
    now: datetime,
) -> int:
    notifier = ev.Notifier(uow, translations, timezone)
    return await notifier.tell(
        person_ids,
        render,
        key=lambda p: f"{key}:{p.id}",
        kind="task",
        batch=f"task:{event.id}",
        now=now,
        event=event,
    )


async def release_tasks(ctx: FlowContext, event: Event) -> list[str]:
    """Someone who can't come after all can't do their tasks: let them go (asking again)."""
    released = []
    for task in await ctx.uow.pledges.of_person(event.id, ctx.person.id):
        await let_go(
            ctx.uow,
            ctx.translations,
            ctx.config.timezone,
            event,
            task,
            ctx.person.id,
            ctx.now(),
            late_window=timedelta(hours=ctx.config.late_withdrawal_hours),
        )
        released.append(task.title)
    return released


# -- the list of tasks a person sees --------------------------------------------------------


async def tasks_message(ctx: FlowContext, event: Event, *, intro: str | None = None) -> OutMessage:
    held = await ctx.uow.pledges.counts(event.id)
    mine = {t.id for t in await ctx.uow.pledges.of_person(event.id, ctx.person.id)}
    lines = [intro] if intro else []
    lines.append(ctx._(N_("Tasks for {title}:")).format(title=event.title))
    choices: list[Choice] = []
    for task in await ctx.uow.events.tasks(event.id):
        if task.closed_at is not None:
            continue
        missing = ev.missing_hands(task, held.get(task.id, 0))
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
        if not asked and not await ev.may_answer(ctx.uow, event, ctx.person):
            return _not_yours(ctx)
        if not ev.is_open(event, ctx.now()):
            return Transition.end(
                OutMessage(ctx._(N_("{title} is no longer open.")).format(title=event.title))
            )
        tz = ctx.config.timezone
        if action == "n":
            await ctx.uow.pledges.note_ask(task.id, ctx.person.id, declined=True)
            return Transition.end(OutMessage(ctx._(N_("That's fine, thank you for saying so."))))
        if action == "w":
            window = timedelta(hours=ctx.config.late_withdrawal_hours)
            gone = await let_go(
                ctx.uow,
                ctx.translations,
                tz,
                event,
                task,
                ctx.person.id,
                ctx.now(),
                late_window=window,
            )
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
            answered = await ev.answer(
                ctx.uow, ctx.translations, tz, event, ctx.person, "yes", ctx.now()
            )
            if answered == ev.Outcome.WAITLISTED:
                text += "\n" + ctx._(
                    N_("The event itself is full, so you are on its waiting list.")
                )
            else:
                text += "\n" + ctx._(N_("I've noted that you're coming too."))
        return Transition.end(OutMessage(text))


def _not_yours(ctx: FlowContext) -> Transition:
    return Transition.end(OutMessage(ctx._(N_("That invitation isn't one I sent to you."))))

"""Pledges: a person's hand on a task, checked on the server like an answer.

A full task takes no more pledges (the event's row is locked while counting, as for the last
place). Letting a task go close to the event tells the organiser and asks for the hand again,
first among those coming, then among those invited, never asking anyone twice or anyone who
already said no to that task.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from conversations.core.choice_ids import ChoiceKey
from conversations.core.i18n import N_, Translator
from conversations.core.messages import ChatRef, OutMessage
from conversations.core.prompts import offer_to
from conversations.core.services import Services
from conversations.events.rules.capacity import missing_hands
from conversations.events.rules.invitations import is_open
from conversations.events.rules.notifier import Notifier, choice_for, person_ids_of, polite_time
from storage.models import Event, EventTask, Person, RsvpAnswer

PLEDGE_FLOW = "pledge"  # the flow that answers taps on a task list

# The buttons on a task list and on an ask for a hand, each carrying the task's id.
TAKE = ChoiceKey("t")
LET_GO = ChoiceKey("w")
NOT_THIS_TIME = ChoiceKey("n")


class PledgeOutcome(StrEnum):
    TAKEN = "taken"
    ALREADY = "already"
    FULL = "full"
    CLOSED = "closed"


async def pledge(
    services: Services, event: Event, task: EventTask, person_id: int
) -> PledgeOutcome:
    """Pledge a hand, if one is still missing. The caller has checked the person may."""
    uow = services.uow
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
    services: Services,
    event: Event,
    task: EventTask,
    person_id: int,
    *,
    late_window: timedelta,
) -> bool:
    """Withdraw a pledge; close to the event, tell the organiser and ask for the hand again."""
    uow = services.uow
    now = services.now()
    pledge = await uow.pledges.active(task.id, person_id)
    if pledge is None:
        return False
    pledge.withdrawn_at = now
    await uow.pledges.note_ask(task.id, person_id, declined=True)
    await uow.flush()
    if is_open(event, now) and event.starts_at - now <= late_window:
        person = await uow.persons.get(person_id)
        await tell_organiser(services, event, task, person_id, person)
        await ask_again(services, event, task)
    return True


async def tell_organiser(
    services: Services,
    event: Event,
    task: EventTask,
    person_id: int,
    person: Person | None,
) -> None:
    now = services.now()
    if event.created_by_id is None or event.created_by_id == person_id:
        return
    notifier = Notifier(services)
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
        event=event,
    )


async def ask_again(services: Services, event: Event, task: EventTask) -> int:
    """Ask for a missing hand at once (someone let it go): those coming, or, when none of
    them can be asked, the others invited; each person once."""
    return await ask_coming(services, event, task) or await ask_others(services, event, task)


async def ask_coming(services: Services, event: Event, task: EventTask) -> int:
    """Ask those coming for a missing hand (each person once); how many were asked."""
    uow = services.uow
    coming = person_ids_of(await uow.events.rsvps(event.id, RsvpAnswer.YES))
    return await _ask(services, event, task, coming)


async def ask_others(services: Services, event: Event, task: EventTask) -> int:
    """Ask the others invited for a missing hand, never those who said no (each once)."""
    uow = services.uow
    said_no = set(person_ids_of(await uow.events.rsvps(event.id, RsvpAnswer.NO)))
    invited = [pid for pid in await uow.pledges.invited(event.id) if pid not in said_no]
    return await _ask(services, event, task, invited)


async def _ask(services: Services, event: Event, task: EventTask, person_ids: list[int]) -> int:
    uow = services.uow
    now = services.now()
    if missing_hands(task, await uow.pledges.held(task.id)) <= 0:
        return 0
    skip: set[int | None] = {event.created_by_id, *await uow.pledges.asks(task.id)}
    skip.update(await uow.pledges.pledgers(task.id))
    wanted = [pid for pid in person_ids if pid not in skip]
    if not wanted:
        return 0
    notifier = Notifier(services)
    languages = services.translations
    count = 0
    for person, identity in await uow.audiences.reachable(wanted):
        tr = notifier.tr(person)
        text = tr.gettext(N_("{title} ({when}) needs a hand: {task}. Could you help?")).format(
            title=event.title, when=notifier.when(tr, event), task=task.title
        )
        message = OutMessage(
            text,
            choices=(
                choice_for(tr, languages, TAKE.of(task.id), N_("Yes, count me in"), "🙋", "ja"),
                choice_for(tr, languages, NOT_THIS_TIME.of(task.id), N_("Not this time"), "↪️"),
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
            not_before=polite_time(person, now, event, services.timezone),
            expires_at=event.starts_at,
        )
        await uow.pledges.note_ask(task.id, person.id, asked=True)
        count += 1
    return count


async def release_tasks(
    services: Services, event: Event, person_id: int, *, late_window: timedelta
) -> list[str]:
    """Someone who can't come after all can't do their tasks: let them go (asking again)."""
    released = []
    for task in await services.uow.pledges.of_person(event.id, person_id):
        await let_go(services, event, task, person_id, late_window=late_window)
        released.append(task.title)
    return released

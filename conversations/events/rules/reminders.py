"""Reminders: the rows that match each person's answer and the event's time, and the job
that turns due ones into outbox messages (late ones only while they still help).

Due reminders are handed over a chunk at a time: a few statements for up to
`REMINDER_CHUNK` of them (loaded with their event and answer, the people reached and their
tasks in one query each, the outbox rows inserted and the reminders closed in bulk), each
text rendered once per event, kind and language, so the job's write transaction stays short
however many fall due at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from conversations.core.chunks import Chunk
from conversations.core.i18n import N_
from conversations.core.messages import ChatRef, Choice, OutMessage, message_to_payload
from conversations.core.prompts import offer_to
from conversations.core.services import Services
from conversations.events.rules.capacity import has_open_tasks
from conversations.events.rules.invitations import (
    RSVP_FLOW,
    invitation_choices,
    invitation_text,
    invite_context,
)
from conversations.events.rules.notifier import polite_time
from conversations.events.rules.wording import event_when, map_link
from storage.models import (
    Event,
    EventStatus,
    EventTask,
    Identity,
    Person,
    Reminder,
    ReminderKind,
    ReminderStatus,
    RsvpAnswer,
)
from storage.repositories.scheduled_events import DueReminder
from storage.unit_of_work import UnitOfWork

DEFAULT_REMINDERS = (24 * 60, 2 * 60)


NUDGE_OFFSET = 24 * 60

REMINDER_CHUNK = 200  # reminders handed over in one transaction


async def reminder_coming(uow: UnitOfWork, event: Event, person_id: int) -> bool:
    """Whether a reminder (not a nudge) is scheduled for this person: what "I'll remind
    you" may promise."""
    return any(
        r.status == ReminderStatus.SCHEDULED and r.kind == ReminderKind.REMINDER
        for r in await uow.events.reminders_of(event.id, person_id)
    )


async def sync_reminders(
    uow: UnitOfWork, event: Event, person_id: int, rsvp_answer: str, now: datetime
) -> None:
    """Make the person's reminder rows match their answer and the event's time."""
    desired: dict[int, str] = {}
    if event.status == EventStatus.PUBLISHED:
        if rsvp_answer == RsvpAnswer.YES:
            desired = {int(offset): ReminderKind.REMINDER for offset in event.reminder_offsets}
        elif rsvp_answer == RsvpAnswer.MAYBE and event.reminder_offsets:
            desired = {NUDGE_OFFSET: ReminderKind.NUDGE}
    existing = {r.offset_minutes: r for r in await uow.events.reminders_of(event.id, person_id)}
    for offset, old in existing.items():
        if offset not in desired and old.status == ReminderStatus.SCHEDULED:
            old.status = ReminderStatus.CANCELLED
            old.handled_at = now
    for offset, kind in desired.items():
        due = event.starts_at - timedelta(minutes=offset)
        row = existing.get(offset)
        if row is None:
            if due <= now:
                continue  # a "the day before" reminder makes no sense an hour before
            uow.events.add_reminder(
                Reminder(
                    event_id=event.id,
                    person_id=person_id,
                    offset_minutes=offset,
                    kind=kind,
                    due_at=due,
                    status=ReminderStatus.SCHEDULED,
                    revision=event.revision,
                )
            )
            continue
        unchanged = row.revision == event.revision and row.kind == kind
        if unchanged and row.status != ReminderStatus.CANCELLED:
            continue  # as it was: scheduled (perhaps overdue, then sent late), or done
        if due <= now:
            # a new time or a new answer makes this one pointless ("tomorrow" an hour before)
            if row.status == ReminderStatus.SCHEDULED:
                row.status, row.handled_at = ReminderStatus.CANCELLED, now
            continue
        row.kind, row.due_at, row.revision = kind, due, event.revision
        row.status, row.handled_at = ReminderStatus.SCHEDULED, None
    await uow.flush()


def reminder_key(reminder: Reminder) -> str:
    prefix = "nudge" if reminder.kind == ReminderKind.NUDGE else "reminder"
    key = f"{prefix}:{reminder.event_id}:{reminder.person_id}:{reminder.offset_minutes}"
    return key if reminder.revision == 0 else f"{key}:r{reminder.revision}"


@dataclass
class _Texts:
    """Reminder texts rendered once per event, kind and language; a person's own tasks are
    the only lines that differ between them."""

    services: Services
    _reminders: dict[tuple[int, str], tuple[list[str], str]] = field(default_factory=dict)
    _nudges: dict[tuple[int, str], tuple[str, tuple[Choice, ...]]] = field(default_factory=dict)

    def reminder(self, event: Event, person: Person, tasks: list[EventTask]) -> OutMessage:
        key = (event.id, person.language)
        if key not in self._reminders:
            tr = self.services.translations.get(person.language)
            when = event_when(tr, event, self.services.timezone)
            head = [
                tr.gettext(N_("A little reminder: {title} is {when}.")).format(
                    title=event.title, when=when
                )
            ]
            if event.place:
                head.append("📍 " + event.place)
            link = map_link(event)
            if link:
                head.append("🗺 " + link)
            closing = tr.gettext(
                N_("See you there! 🌿 If you can't come after all, write /events.")
            )
            self._reminders[key] = (head, closing)
        head, closing = self._reminders[key]
        tr = self.services.translations.get(person.language)
        extras = [
            "🙋 " + tr.gettext(N_("Your task: {task}. Thank you!")).format(task=task.title)
            for task in tasks
        ]
        return OutMessage("\n".join([*head, *extras, closing]))

    async def nudge(self, event: Event, person: Person, identity: Identity) -> OutMessage:
        """The invitation again, with a word for someone who said maybe, and its buttons
        stored for this person only."""
        services, uow = self.services, self.services.uow
        key = (event.id, person.language)
        if key not in self._nudges:
            tr = services.translations.get(person.language)
            intro = tr.gettext(
                N_("You said maybe to {title}. It is {when}, and you would be very welcome.")
            ).format(title=event.title, when=event_when(tr, event, services.timezone))
            text = intro + "\n\n" + await invitation_text(uow, tr, event, services.timezone)
            tasks = await has_open_tasks(uow, event)
            choices = invitation_choices(tr, services.translations, event, tasks=tasks)
            self._nudges[key] = (text, choices)
        text, choices = self._nudges[key]
        recipient = ChatRef(identity.platform, identity.chat_id, identity.user_id)
        return await offer_to(
            uow,
            recipient,
            person.id,
            RSVP_FLOW,
            OutMessage(text, choices=choices),
            state="invite",
            context=invite_context(event.id),
        )


def _closed_without_reach(due: DueReminder, now: datetime) -> str | None:
    """What becomes of a due reminder before asking whether its person can be reached:
    missed, cancelled, or None (it may go)."""
    if due.closer_due:
        # after downtime several may be due at once: only the one closest to the start goes
        return ReminderStatus.MISSED
    event = due.event
    if event is None or event.status != EventStatus.PUBLISHED:
        return ReminderStatus.CANCELLED
    if event.starts_at <= now:
        return ReminderStatus.MISSED
    wanted = RsvpAnswer.MAYBE if due.reminder.kind == ReminderKind.NUDGE else RsvpAnswer.YES
    if due.answer != wanted:
        return ReminderStatus.CANCELLED
    return None


async def hand_over_due_reminders(services: Services, limit: int = REMINDER_CHUNK) -> Chunk:
    """Turn up to `limit` due reminder rows into outbox rows, in the caller's transaction;
    late ones are sent if the event hasn't begun. `more` says whether others are due."""
    uow = services.uow
    now = services.now()
    due = await uow.events.due_reminders(now, limit)
    closed: dict[str, list[int]] = {ReminderStatus.MISSED: [], ReminderStatus.CANCELLED: []}
    going: list[DueReminder] = []
    for row in due:
        status = _closed_without_reach(row, now)
        if status is None:
            going.append(row)
        else:
            closed[status].append(row.reminder.id)
    reach = {
        person.id: (person, identity)
        for person, identity in await uow.audiences.reachable(
            sorted({row.reminder.person_id for row in going})
        )
    }
    tasks = await uow.pledges.of_people(
        {
            (row.reminder.event_id, row.reminder.person_id)
            for row in going
            if row.reminder.kind != ReminderKind.NUDGE
        }
    )
    texts = _Texts(services)
    messages: list[dict[str, Any]] = []
    sent: list[int] = []
    for row in going:
        reminder, event = row.reminder, row.event
        assert event is not None  # `_closed_without_reach` let it through
        found = reach.get(reminder.person_id)
        if found is None:
            closed[ReminderStatus.CANCELLED].append(reminder.id)
            continue
        person, identity = found
        if reminder.kind == ReminderKind.NUDGE:
            message = await texts.nudge(event, person, identity)
        else:
            message = texts.reminder(
                event, person, tasks.get((reminder.event_id, reminder.person_id), [])
            )
        messages.append(
            {
                "dedupe_key": reminder_key(reminder),
                "person_id": person.id,
                "platform": identity.platform,
                "chat_id": identity.chat_id,
                "user_id": identity.user_id,
                "kind": str(reminder.kind),
                "batch": f"rem:{event.id}",
                "payload": message_to_payload(message),
                "not_before": polite_time(person, now, event, services.timezone),
                "expires_at": event.starts_at,
            }
        )
        sent.append(reminder.id)
    await uow.outbox.enqueue_many(messages)
    await uow.events.mark_reminders(sent, ReminderStatus.SENT, now)
    for status, ids in closed.items():
        await uow.events.mark_reminders(ids, status, now)
    counts = {
        "sent": len(sent),
        "missed": len(closed[ReminderStatus.MISSED]),
        "cancelled": len(closed[ReminderStatus.CANCELLED]),
    }
    return Chunk(counts, more=len(due) == limit)


async def next_reminder_due(uow: UnitOfWork, after: datetime | None = None) -> datetime | None:
    return await uow.events.next_reminder_due(after)

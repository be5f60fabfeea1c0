"""Reminders: the rows that match each person's answer and the event's time, and the job
that turns due ones into outbox messages (late ones only while they still help).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from conversations.core.i18n import N_, Translator
from conversations.core.messages import ChatRef, OutMessage
from conversations.core.services import Services
from conversations.events.rules.invitations import invitation_message
from conversations.events.rules.notifier import Notifier, polite_time
from conversations.events.rules.wording import event_when, map_link
from storage.models import (
    Event,
    EventStatus,
    Identity,
    Person,
    Reminder,
    ReminderKind,
    ReminderStatus,
    RsvpAnswer,
)
from storage.unit_of_work import UnitOfWork

DEFAULT_REMINDERS = (24 * 60, 2 * 60)


NUDGE_OFFSET = 24 * 60


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


async def reminder_extras(
    uow: UnitOfWork, tr: Translator, event: Event, person_id: int
) -> list[str]:
    """Extra lines for a reminder: the tasks the person has said they'll do."""
    return [
        "🙋 " + tr.gettext(N_("Your task: {task}. Thank you!")).format(task=task.title)
        for task in await uow.pledges.of_person(event.id, person_id)
    ]


async def reminder_message(
    services: Services,
    event: Event,
    person: Person,
    identity: Identity,
    kind: str,
) -> OutMessage:
    uow = services.uow
    tr = services.translations.get(person.language)
    when = event_when(tr, event, services.timezone)
    if kind == ReminderKind.NUDGE:
        intro = tr.gettext(
            N_("You said maybe to {title}. It is {when}, and you would be very welcome.")
        ).format(title=event.title, when=when)
        recipient = ChatRef(identity.platform, identity.chat_id, identity.user_id)
        return await invitation_message(services, event, person, recipient, intro=intro)
    lines = [
        tr.gettext(N_("A little reminder: {title} is {when}.")).format(title=event.title, when=when)
    ]
    if event.place:
        lines.append("📍 " + event.place)
    link = map_link(event)
    if link:
        lines.append("🗺 " + link)
    lines += await reminder_extras(uow, tr, event, person.id)
    lines.append(tr.gettext(N_("See you there! 🌿 If you can't come after all, write /events.")))
    return OutMessage("\n".join(lines))


def reminder_key(reminder: Reminder) -> str:
    prefix = "nudge" if reminder.kind == ReminderKind.NUDGE else "reminder"
    key = f"{prefix}:{reminder.event_id}:{reminder.person_id}:{reminder.offset_minutes}"
    return key if reminder.revision == 0 else f"{key}:r{reminder.revision}"


async def run_due_reminders(services: Services) -> dict[str, int]:
    """Turn due reminder rows into outbox rows; late ones are sent if the event hasn't begun."""
    uow = services.uow
    now = services.now()
    counts = {"sent": 0, "missed": 0, "cancelled": 0}
    notifier = Notifier(services)
    due = await uow.events.due_reminders(now)
    # after downtime several may be due at once: only the one closest to the start goes
    closest: dict[tuple[int, int], int] = {}
    for reminder in due:
        key = (reminder.event_id, reminder.person_id)
        closest[key] = min(closest.get(key, reminder.offset_minutes), reminder.offset_minutes)
    for reminder in due:
        event = await uow.events.get(reminder.event_id)
        reminder.handled_at = now
        if reminder.offset_minutes > closest[(reminder.event_id, reminder.person_id)]:
            reminder.status = ReminderStatus.MISSED
            counts["missed"] += 1
            continue
        if event is None or event.status != EventStatus.PUBLISHED:
            reminder.status = ReminderStatus.CANCELLED
            counts["cancelled"] += 1
            continue
        if event.starts_at <= now:
            reminder.status = ReminderStatus.MISSED
            counts["missed"] += 1
            continue
        rsvp = await uow.events.rsvp(event.id, reminder.person_id)
        wanted = RsvpAnswer.MAYBE if reminder.kind == ReminderKind.NUDGE else RsvpAnswer.YES
        reach = await uow.audiences.reachable([reminder.person_id])
        if rsvp is None or rsvp.answer != wanted or not reach:
            reminder.status = ReminderStatus.CANCELLED
            counts["cancelled"] += 1
            continue
        person, identity = reach[0]
        not_before = polite_time(person, now, event, services.timezone)
        message = await reminder_message(services, event, person, identity, reminder.kind)
        await notifier.enqueue(
            person,
            identity,
            message,
            key=reminder_key(reminder),
            kind=str(reminder.kind),
            batch=f"rem:{event.id}",
            not_before=not_before,
            expires_at=event.starts_at,
        )
        reminder.status = ReminderStatus.SENT
        counts["sent"] += 1
    return counts

"""The reminder job as it was before it woke at due times, kept as the benchmark's baseline.

Every minute (and once at start) one write transaction did everything due: at most 500
reminders, each with its own queries (its event, the answer, whether the person can be
reached, their tasks) and its own outbox insert, then the waiting list, feedback and
deferred pushes. The rules are the same as today's; only the shape of the work differs.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import select

from conversations.core.i18n import N_, Translations
from conversations.core.messages import ChatRef, OutMessage
from conversations.core.services import Services
from conversations.events.rules.invitations import invitation_message
from conversations.events.rules.notifier import Notifier, polite_time
from conversations.events.rules.reminders import reminder_key
from conversations.events.rules.waiting_list import expire_offers, fill_free_places
from conversations.events.rules.wording import event_when, map_link
from conversations.feedback.rules.requests import ask_after_events, remind_half_way
from conversations.feedback.rules.snaps import FeedbackOptions
from conversations.initiatives.rules.pushes import push_deferred
from storage.clock import Clock
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
from storage.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)

OLD_LIMIT = 500


async def _old_message(
    services: Services, event: Event, person: Person, identity: Identity, kind: str
) -> OutMessage:
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
    lines += [
        "🙋 " + tr.gettext(N_("Your task: {task}. Thank you!")).format(task=task.title)
        for task in await services.uow.pledges.of_person(event.id, person.id)
    ]
    lines.append(tr.gettext(N_("See you there! 🌿 If you can't come after all, write /events.")))
    return OutMessage("\n".join(lines))


async def old_run_due_reminders(services: Services) -> dict[str, int]:
    """The old `run_due_reminders`, statement for statement."""
    uow = services.uow
    now = services.now()
    counts = {"sent": 0, "missed": 0, "cancelled": 0}
    notifier = Notifier(services)
    result = await uow.session.execute(
        select(Reminder)
        .where(Reminder.status == ReminderStatus.SCHEDULED, Reminder.due_at <= now)
        .order_by(Reminder.due_at, Reminder.id)
        .limit(OLD_LIMIT)
    )
    due = result.scalars().all()
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
        message = await _old_message(services, event, person, identity, reminder.kind)
        await notifier.enqueue(
            person,
            identity,
            message,
            key=reminder_key(reminder),
            kind=str(reminder.kind),
            batch=f"rem:{event.id}",
            not_before=polite_time(person, now, event, services.timezone),
            expires_at=event.starts_at,
        )
        reminder.status = ReminderStatus.SENT
        counts["sent"] += 1
    return counts


class OldEventJobs:
    """The old job: an APScheduler interval of a minute, first run at start, one transaction."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        translations: Translations,
        timezone: str,
        feedback: FeedbackOptions | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._translations = translations
        self._timezone = timezone
        self._feedback = feedback or FeedbackOptions()
        self._scheduler: AsyncIOScheduler | None = None

    def start(self) -> None:
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        self._scheduler.add_job(
            self.run_once,
            "interval",
            minutes=1,
            id="event-jobs",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
            next_run_time=datetime.now(UTC),
        )
        self._scheduler.start()

    def stop(self) -> None:
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    async def close(self) -> None:
        self.stop()

    def wake(self) -> None:
        """The old job had no wake: it looked once a minute."""

    async def run_once(self) -> dict[str, int]:
        async with self._uow() as uow:
            services = Services(uow, self._translations, self._timezone, self._clock)
            counts = await old_run_due_reminders(services)
            counts |= (await expire_offers(services, limit=10**9)).counts
            counts["places_offered"] = await fill_free_places(services)
            counts |= (await ask_after_events(services, self._feedback, limit=10**9)).counts
            counts |= (await remind_half_way(services, self._feedback, limit=10**9)).counts
            counts["initiatives_pushed"] = await push_deferred(services, 1)
            await uow.commit()
        return counts

"""Queries about events, their tasks, invitations, answers and reminders."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.clock import Clock
from storage.models import (
    Event,
    EventStatus,
    EventTask,
    Invitation,
    Reminder,
    ReminderStatus,
    Rsvp,
    RsvpAnswer,
)


@dataclass(frozen=True, slots=True)
class DueReminder:
    """A due reminder with what deciding about it needs (see `EventRepository.due_reminders`)."""

    reminder: Reminder
    event: Event | None
    answer: str | None  # the person's answer to the event now, if any
    closer_due: bool  # another of their reminders for the event is due and closer to the start


class EventRepository:
    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    # -- events -------------------------------------------------------------------------

    async def create(self, **fields: Any) -> Event:
        now = self._clock.now()
        event = Event(
            link_code=secrets.token_urlsafe(9).replace("-", "x").replace("_", "y"),
            created_at=now,
            updated_at=now,
            revision=0,
            **fields,
        )
        self._session.add(event)
        await self._session.flush()
        return event

    async def get(self, event_id: int) -> Event | None:
        return await self._session.get(Event, event_id)

    async def lock(self, event: Event) -> None:
        """Hold the event's row until commit, so two answers can't take the same last place.

        (On SQLite every write transaction is already exclusive: BEGIN IMMEDIATE.)
        """
        if self._session.get_bind().dialect.name == "postgresql":
            await self._session.execute(
                select(Event.id).where(Event.id == event.id).with_for_update()
            )

    async def invitations_due(self, now: datetime, limit: int) -> Sequence[Event]:
        """Published meetings whose invitations are due now."""
        result = await self._session.execute(
            select(Event)
            .where(Event.invite_due_at <= now, Event.status == EventStatus.PUBLISHED)
            .order_by(Event.invite_due_at, Event.id)
            .limit(limit)
        )
        return result.scalars().all()

    async def next_invitations_due(self, after: datetime | None = None) -> datetime | None:
        query = select(func.min(Event.invite_due_at)).where(Event.status == EventStatus.PUBLISHED)
        if after is not None:
            query = query.where(Event.invite_due_at > after)
        value: datetime | None = (await self._session.execute(query)).scalar_one_or_none()
        return value

    async def by_link(self, code: str) -> Event | None:
        result = await self._session.execute(select(Event).where(Event.link_code == code))
        return result.scalar_one_or_none()

    async def upcoming(self, now: datetime, *, created_by: int | None = None) -> Sequence[Event]:
        query = select(Event).where(Event.status == EventStatus.PUBLISHED, Event.starts_at > now)
        if created_by is not None:
            query = query.where(Event.created_by_id == created_by)
        result = await self._session.execute(query.order_by(Event.starts_at, Event.id))
        return result.scalars().all()

    async def managed_by(self, person_id: int | None) -> Sequence[Event]:
        """Published events created by the person, newest first; everybody's if None."""
        query = select(Event).where(Event.status == EventStatus.PUBLISHED)
        if person_id is not None:
            query = query.where(Event.created_by_id == person_id)
        result = await self._session.execute(query.order_by(Event.starts_at.desc(), Event.id))
        return result.scalars().all()

    async def past(self, now: datetime) -> Sequence[Event]:
        result = await self._session.execute(
            select(Event)
            .where(Event.status == EventStatus.PUBLISHED, Event.starts_at <= now)
            .order_by(Event.starts_at.desc())
            .limit(8)
        )
        return result.scalars().all()

    def touch(self, event: Event) -> None:
        event.updated_at = self._clock.now()

    # -- tasks --------------------------------------------------------------------------

    async def add_task(self, event_id: int, title: str, hands: int, position: int) -> EventTask:
        task = EventTask(event_id=event_id, title=title, hands=hands, position=position)
        self._session.add(task)
        await self._session.flush()
        return task

    async def tasks(self, event_id: int) -> Sequence[EventTask]:
        result = await self._session.execute(
            select(EventTask)
            .where(EventTask.event_id == event_id)
            .order_by(EventTask.position, EventTask.id)
        )
        return result.scalars().all()

    # -- invitations ----------------------------------------------------------------------

    async def invite(self, event_id: int, person_id: int, via: str) -> bool:
        """Note that the person was shown the event; returns whether this is new."""
        if await self.is_invited(event_id, person_id):
            return False
        self._session.add(
            Invitation(
                event_id=event_id, person_id=person_id, via=via, created_at=self._clock.now()
            )
        )
        await self._session.flush()
        return True

    async def is_invited(self, event_id: int, person_id: int) -> bool:
        result = await self._session.execute(
            select(Invitation.id).where(
                Invitation.event_id == event_id, Invitation.person_id == person_id
            )
        )
        return result.first() is not None

    async def invited_count(self, event_id: int) -> int:
        result = await self._session.execute(
            select(func.count(Invitation.id)).where(Invitation.event_id == event_id)
        )
        return int(result.scalar_one())

    # -- answers --------------------------------------------------------------------------

    async def rsvp(self, event_id: int, person_id: int) -> Rsvp | None:
        result = await self._session.execute(
            select(Rsvp).where(Rsvp.event_id == event_id, Rsvp.person_id == person_id)
        )
        return result.scalar_one_or_none()

    async def rsvps_of(self, event_id: int, person_ids: Iterable[int]) -> dict[int, Rsvp]:
        """These people's answers to the event, by person (those who have not answered left
        out)."""
        result = await self._session.execute(
            select(Rsvp).where(Rsvp.event_id == event_id, Rsvp.person_id.in_(list(person_ids)))
        )
        return {rsvp.person_id: rsvp for rsvp in result.scalars() if rsvp.person_id is not None}

    async def rsvps(self, event_id: int, *answers: str) -> Sequence[Rsvp]:
        """Answers of people we still know (forgotten people's answers only count)."""
        query = select(Rsvp).where(Rsvp.event_id == event_id, Rsvp.person_id.is_not(None))
        if answers:
            query = query.where(Rsvp.answer.in_(answers))
        result = await self._session.execute(query.order_by(Rsvp.answered_at, Rsvp.id))
        return result.scalars().all()

    async def set_rsvp(self, event_id: int, person_id: int, answer: str, guests: int) -> Rsvp:
        now = self._clock.now()
        row = await self.rsvp(event_id, person_id)
        if row is None:
            row = Rsvp(event_id=event_id, person_id=person_id, answer=answer, offers=0)
            self._session.add(row)
        if answer == RsvpAnswer.WAITLISTED and row.answer != RsvpAnswer.WAITLISTED:
            row.waitlisted_at = now
        if answer != RsvpAnswer.WAITLISTED:
            row.waitlisted_at = None
            row.offered_until = None
        if answer == RsvpAnswer.WAITLISTED and row.waitlisted_at is None:
            row.waitlisted_at = now
        row.answer = answer
        row.guests = guests
        row.answered_at = now
        await self._session.flush()
        return row

    async def places_taken(self, event_id: int, *, exclude_person: int | None = None) -> int:
        """Seats held by people who said yes (with their guests) and by open offers."""
        query = select(func.coalesce(func.sum(1 + Rsvp.guests), 0)).where(
            Rsvp.event_id == event_id,
            Rsvp.person_id.is_not(None),
            (Rsvp.answer == RsvpAnswer.YES)
            | and_(Rsvp.answer == RsvpAnswer.WAITLISTED, Rsvp.offered_until.is_not(None)),
        )
        if exclude_person is not None:
            query = query.where(Rsvp.person_id != exclude_person)
        return int((await self._session.execute(query)).scalar_one())

    async def waitlist(self, event_id: int) -> Sequence[Rsvp]:
        result = await self._session.execute(
            select(Rsvp)
            .where(
                Rsvp.event_id == event_id,
                Rsvp.answer == RsvpAnswer.WAITLISTED,
                Rsvp.person_id.is_not(None),
            )
            .order_by(Rsvp.waitlisted_at, Rsvp.id)
        )
        return result.scalars().all()

    async def with_waitlist(self, now: datetime) -> Sequence[Event]:
        """Upcoming published events with someone waiting who has not been offered a place."""
        waiting = select(Rsvp.event_id).where(
            Rsvp.answer == RsvpAnswer.WAITLISTED,
            Rsvp.offered_until.is_(None),
            Rsvp.person_id.is_not(None),
        )
        result = await self._session.execute(
            select(Event)
            .where(
                Event.id.in_(waiting),
                Event.status == EventStatus.PUBLISHED,
                Event.starts_at > now,
                Event.capacity.is_not(None),
            )
            .order_by(Event.starts_at)
        )
        return result.scalars().all()

    async def expired_offers(self, now: datetime, limit: int | None = None) -> Sequence[Rsvp]:
        query = (
            select(Rsvp)
            .where(
                Rsvp.answer == RsvpAnswer.WAITLISTED,
                Rsvp.offered_until.is_not(None),
                Rsvp.offered_until <= now,
                Rsvp.person_id.is_not(None),
            )
            .order_by(Rsvp.offered_until, Rsvp.id)
        )
        if limit is not None:
            query = query.limit(limit)
        result = await self._session.execute(query)
        return result.scalars().all()

    async def next_offer_expiry(self, after: datetime | None = None) -> datetime | None:
        """When the first open waiting-list offer (running out after `after`) runs out;
        indexed on `offered_until`."""
        query = select(func.min(Rsvp.offered_until)).where(
            Rsvp.answer == RsvpAnswer.WAITLISTED,
            Rsvp.offered_until.is_not(None),
            Rsvp.person_id.is_not(None),
        )
        if after is not None:
            query = query.where(Rsvp.offered_until > after)
        result = await self._session.execute(query)
        value: datetime | None = result.scalar_one_or_none()
        return value

    async def answer_counts(self, event_id: int) -> dict[str, int]:
        """How many answered what, forgotten people included (they stay as counts)."""
        result = await self._session.execute(
            select(Rsvp.answer, func.count(Rsvp.id))
            .where(Rsvp.event_id == event_id)
            .group_by(Rsvp.answer)
        )
        return {str(answer): int(count) for answer, count in result.all()}

    async def answers_of(self, person_id: int) -> dict[int, Rsvp]:
        result = await self._session.execute(select(Rsvp).where(Rsvp.person_id == person_id))
        return {row.event_id: row for row in result.scalars().all()}

    # -- reminders ------------------------------------------------------------------------

    async def reminders_of(self, event_id: int, person_id: int) -> Sequence[Reminder]:
        result = await self._session.execute(
            select(Reminder).where(Reminder.event_id == event_id, Reminder.person_id == person_id)
        )
        return result.scalars().all()

    async def reminders_for_event(self, event_id: int) -> Sequence[Reminder]:
        result = await self._session.execute(
            select(Reminder).where(Reminder.event_id == event_id).order_by(Reminder.id)
        )
        return result.scalars().all()

    def add_reminder(self, reminder: Reminder) -> None:
        self._session.add(reminder)

    async def due_reminders(self, now: datetime, limit: int) -> list[DueReminder]:
        """The first `limit` scheduled reminders due by `now`, each with its event, the
        person's answer, and whether another due one of theirs is closer to the start.

        One statement for a whole chunk, so the job that hands them over keeps its write
        transaction short however many come due at once.
        """
        closer = aliased(Reminder)
        closer_due = (
            select(closer.id)
            .where(
                closer.event_id == Reminder.event_id,
                closer.person_id == Reminder.person_id,
                closer.status == ReminderStatus.SCHEDULED,
                closer.due_at <= now,
                closer.offset_minutes < Reminder.offset_minutes,
            )
            .exists()
        )
        result = await self._session.execute(
            select(Reminder, Event, Rsvp.answer, closer_due)
            .outerjoin(Event, Event.id == Reminder.event_id)
            .outerjoin(
                Rsvp, and_(Rsvp.event_id == Reminder.event_id, Rsvp.person_id == Reminder.person_id)
            )
            .where(Reminder.status == ReminderStatus.SCHEDULED, Reminder.due_at <= now)
            .order_by(Reminder.due_at, Reminder.id)
            .limit(limit)
        )
        return [
            DueReminder(reminder, event, answer, bool(closer))
            for reminder, event, answer, closer in result.all()
        ]

    async def mark_reminders(self, ids: Sequence[int], status: str, now: datetime) -> None:
        """Close many reminders at once (the job's outcome for a chunk)."""
        if not ids:
            return
        await self._session.execute(
            update(Reminder)
            .where(Reminder.id.in_(ids))
            .values(status=status, handled_at=now)
            .execution_options(synchronize_session=False)
        )

    async def next_reminder_due(self, after: datetime | None = None) -> datetime | None:
        """When the first scheduled reminder (due after `after`) falls due; `ix_reminders_due`."""
        query = select(func.min(Reminder.due_at)).where(Reminder.status == ReminderStatus.SCHEDULED)
        if after is not None:
            query = query.where(Reminder.due_at > after)
        result = await self._session.execute(query)
        value: datetime | None = result.scalar_one_or_none()
        return value

    async def cancel_reminders(self, event_id: int) -> int:
        result = await self._session.execute(
            update(Reminder)
            .where(Reminder.event_id == event_id, Reminder.status == ReminderStatus.SCHEDULED)
            .values(status=ReminderStatus.CANCELLED, handled_at=self._clock.now())
        )
        return int(getattr(result, "rowcount", 0) or 0)

"""Co-organisers of events, the log of what they did, and check-ins."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.clock import Clock
from storage.models import (
    CheckIn,
    Event,
    EventOrganiser,
    EventStatus,
    OrganiserAction,
    Person,
    Rsvp,
)


class OrganiserRepository:
    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    async def add(self, event_id: int, person_id: int, added_by_id: int | None) -> bool:
        """Whether the person became a co-organiser now (False: they already were)."""
        if await self.is_organiser(event_id, person_id):
            return False
        self._session.add(
            EventOrganiser(
                event_id=event_id,
                person_id=person_id,
                added_by_id=added_by_id,
                created_at=self._clock.now(),
            )
        )
        await self._session.flush()
        return True

    async def remove(self, event_id: int, person_id: int) -> None:
        await self._session.execute(
            delete(EventOrganiser).where(
                EventOrganiser.event_id == event_id, EventOrganiser.person_id == person_id
            )
        )

    async def is_organiser(self, event_id: int, person_id: int) -> bool:
        found = await self._session.execute(
            select(EventOrganiser.id).where(
                EventOrganiser.event_id == event_id, EventOrganiser.person_id == person_id
            )
        )
        return found.first() is not None

    async def organisers(self, event_id: int) -> Sequence[Person]:
        result = await self._session.execute(
            select(Person)
            .join(EventOrganiser, EventOrganiser.person_id == Person.id)
            .where(EventOrganiser.event_id == event_id)
            .order_by(EventOrganiser.id)
        )
        return result.scalars().all()

    async def events_of(self, person_id: int) -> Sequence[Event]:
        """Published events the person helps organise, newest first."""
        result = await self._session.execute(
            select(Event)
            .join(EventOrganiser, EventOrganiser.event_id == Event.id)
            .where(EventOrganiser.person_id == person_id, Event.status == EventStatus.PUBLISHED)
            .order_by(Event.starts_at.desc(), Event.id)
        )
        return result.scalars().all()

    async def log(self, event_id: int, person_id: int, action: str, detail: str = "") -> None:
        self._session.add(
            OrganiserAction(
                event_id=event_id,
                person_id=person_id,
                action=action,
                detail=detail,
                at=self._clock.now(),
            )
        )
        await self._session.flush()

    async def actions(self, event_id: int, limit: int = 10) -> Sequence[OrganiserAction]:
        """The newest actions first."""
        result = await self._session.execute(
            select(OrganiserAction)
            .where(OrganiserAction.event_id == event_id)
            .order_by(OrganiserAction.id.desc())
            .limit(limit)
        )
        return result.scalars().all()


class CheckInRepository:
    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    async def check_in(
        self, event_id: int, person_id: int, via: str, checked_by_id: int | None = None
    ) -> bool:
        """Whether this checked the person in (False: they were already)."""
        if await self.is_checked_in(event_id, person_id):
            return False
        self._session.add(
            CheckIn(
                event_id=event_id,
                person_id=person_id,
                via=via,
                checked_by_id=checked_by_id,
                at=self._clock.now(),
            )
        )
        await self._session.flush()
        return True

    async def undo(self, event_id: int, person_id: int) -> None:
        await self._session.execute(
            delete(CheckIn).where(CheckIn.event_id == event_id, CheckIn.person_id == person_id)
        )

    async def is_checked_in(self, event_id: int, person_id: int) -> bool:
        found = await self._session.execute(
            select(CheckIn.id).where(CheckIn.event_id == event_id, CheckIn.person_id == person_id)
        )
        return found.first() is not None

    async def checked_in(self, event_id: int) -> set[int]:
        """The people checked in (those forgotten since are counted, not named)."""
        result = await self._session.execute(
            select(CheckIn.person_id).where(
                CheckIn.event_id == event_id, CheckIn.person_id.is_not(None)
            )
        )
        return {person_id for person_id in result.scalars() if person_id is not None}

    async def count(self, event_id: int) -> int:
        result = await self._session.execute(
            select(func.count(CheckIn.id)).where(CheckIn.event_id == event_id)
        )
        return int(result.scalar_one())

    async def code_of(self, event: Event) -> str:
        """The event's check-in code, made the first time it is asked for."""
        if event.check_in_code is None:
            event.check_in_code = secrets.token_urlsafe(9).replace("-", "x").replace("_", "y")
            await self._session.flush()
        return event.check_in_code

    async def event_by_code(self, code: str) -> Event | None:
        result = await self._session.execute(select(Event).where(Event.check_in_code == code))
        return result.scalar_one_or_none()

    async def answered_events(
        self, person_id: int, answers: Sequence[str], since: datetime, until: datetime
    ) -> Sequence[Event]:
        """Published events starting in [since, until) that the person answered so."""
        result = await self._session.execute(
            select(Event)
            .join(Rsvp, Rsvp.event_id == Event.id)
            .where(
                Rsvp.person_id == person_id,
                Rsvp.answer.in_(answers),
                Event.status == EventStatus.PUBLISHED,
                Event.starts_at >= since,
                Event.starts_at < until,
            )
            .order_by(Event.starts_at)
        )
        return result.scalars().all()

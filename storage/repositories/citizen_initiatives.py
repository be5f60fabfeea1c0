"""Initiatives posted by citizens: listings, the approval queue and their pushes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.clock import Clock
from storage.models import Event, EventOrigin, EventStatus, PushState


class InitiativeRepository:
    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    async def initiatives(self, now: datetime) -> Sequence[Event]:
        result = await self._session.execute(
            select(Event)
            .where(
                Event.origin == EventOrigin.INITIATIVE,
                Event.status == EventStatus.PUBLISHED,
                Event.starts_at > now,
            )
            .order_by(Event.created_at.desc(), Event.id.desc())
            .limit(9)
        )
        return result.scalars().all()

    async def initiatives_by(self, person_id: int) -> Sequence[Event]:
        result = await self._session.execute(
            select(Event)
            .where(Event.origin == EventOrigin.INITIATIVE, Event.created_by_id == person_id)
            .order_by(Event.created_at.desc(), Event.id.desc())
            .limit(9)
        )
        return result.scalars().all()

    async def awaiting_approval(self) -> Sequence[Event]:
        result = await self._session.execute(
            select(Event)
            .where(
                Event.origin == EventOrigin.INITIATIVE,
                Event.status == EventStatus.PUBLISHED,
                Event.push_state == PushState.AWAITING_APPROVAL,
            )
            .order_by(Event.created_at, Event.id)
        )
        return result.scalars().all()

    async def hidden_initiatives(self, now: datetime) -> Sequence[Event]:
        """Initiatives a coordinator has hidden that have not begun: they can be shown again."""
        result = await self._session.execute(
            select(Event)
            .where(
                Event.origin == EventOrigin.INITIATIVE,
                Event.status == EventStatus.HIDDEN,
                Event.starts_at > now,
            )
            .order_by(Event.updated_at.desc(), Event.id.desc())
            .limit(9)
        )
        return result.scalars().all()

    async def pushes_since(self, author_id: int, since: datetime) -> Sequence[datetime]:
        result = await self._session.execute(
            select(Event.pushed_at)
            .where(
                Event.origin == EventOrigin.INITIATIVE,
                Event.created_by_id == author_id,
                Event.pushed_at.is_not(None),
                Event.pushed_at > since,
            )
            .order_by(Event.pushed_at)
        )
        return [moment for moment in result.scalars().all() if moment is not None]

    async def ever_pushed(self, author_id: int) -> bool:
        result = await self._session.execute(
            select(Event.id).where(
                Event.origin == EventOrigin.INITIATIVE,
                Event.created_by_id == author_id,
                Event.pushed_at.is_not(None),
            )
        )
        return result.first() is not None

    async def deferred_due(self, now: datetime) -> Sequence[Event]:
        result = await self._session.execute(
            select(Event).where(
                Event.origin == EventOrigin.INITIATIVE,
                Event.status == EventStatus.PUBLISHED,
                Event.push_state == PushState.DEFERRED,
                Event.push_after <= now,
                Event.starts_at > now,
            )
        )
        return result.scalars().all()

    async def next_deferred_push(
        self, now: datetime, after: datetime | None = None
    ) -> datetime | None:
        """When the first deferred push (after `after`) whose initiative has not begun may
        go; `ix_events_push_due`."""
        query = select(func.min(Event.push_after)).where(
            Event.push_state == PushState.DEFERRED,
            Event.origin == EventOrigin.INITIATIVE,
            Event.status == EventStatus.PUBLISHED,
            Event.starts_at > now,
        )
        if after is not None:
            query = query.where(Event.push_after > after)
        result = await self._session.execute(query)
        value: datetime | None = result.scalar_one_or_none()
        return value

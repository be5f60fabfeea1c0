"""Pledges on an event's tasks (*count me in*), and asking people again for a hand."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.clock import Clock
from storage.models import Event, EventStatus, EventTask, Invitation, Pledge, TaskAsk


class PledgeRepository:
    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    # -- tasks and pledges ------------------------------------------------------------------

    async def task(self, task_id: int) -> EventTask | None:
        return await self._session.get(EventTask, task_id)

    async def counts(self, event_id: int) -> dict[int, int]:
        """Hands held per task: active pledges of people we still know."""
        result = await self._session.execute(
            select(Pledge.task_id, func.count(Pledge.id))
            .where(
                Pledge.event_id == event_id,
                Pledge.withdrawn_at.is_(None),
                Pledge.person_id.is_not(None),
            )
            .group_by(Pledge.task_id)
        )
        return {int(task_id): int(n) for task_id, n in result.all()}

    async def held(self, task_id: int) -> int:
        result = await self._session.execute(
            select(func.count(Pledge.id)).where(
                Pledge.task_id == task_id,
                Pledge.withdrawn_at.is_(None),
                Pledge.person_id.is_not(None),
            )
        )
        return int(result.scalar_one())

    async def active(self, task_id: int, person_id: int) -> Pledge | None:
        result = await self._session.execute(
            select(Pledge).where(
                Pledge.task_id == task_id,
                Pledge.person_id == person_id,
                Pledge.withdrawn_at.is_(None),
            )
        )
        return result.scalars().first()

    async def of_person(self, event_id: int, person_id: int) -> Sequence[EventTask]:
        """The tasks a person has pledged to on an event, in the event's order."""
        result = await self._session.execute(
            select(EventTask)
            .join(Pledge, Pledge.task_id == EventTask.id)
            .where(
                Pledge.event_id == event_id,
                Pledge.person_id == person_id,
                Pledge.withdrawn_at.is_(None),
            )
            .order_by(EventTask.position, EventTask.id)
        )
        return result.scalars().all()

    async def of_people(
        self, pairs: Collection[tuple[int, int]]
    ) -> dict[tuple[int, int], list[EventTask]]:
        """`of_person` for many (event id, person id) pairs in one query."""
        if not pairs:
            return {}
        result = await self._session.execute(
            select(Pledge.event_id, Pledge.person_id, EventTask)
            .join(EventTask, EventTask.id == Pledge.task_id)
            .where(
                Pledge.event_id.in_({event_id for event_id, _ in pairs}),
                Pledge.person_id.in_({person_id for _, person_id in pairs}),
                Pledge.withdrawn_at.is_(None),
            )
            .order_by(EventTask.position, EventTask.id)
        )
        found: dict[tuple[int, int], list[EventTask]] = {}
        for event_id, person_id, task in result.all():
            if (event_id, person_id) in pairs and person_id is not None:
                found.setdefault((event_id, person_id), []).append(task)
        return found

    async def pledgers(self, task_id: int) -> list[int]:
        result = await self._session.execute(
            select(Pledge.person_id)
            .where(
                Pledge.task_id == task_id,
                Pledge.withdrawn_at.is_(None),
                Pledge.person_id.is_not(None),
            )
            .order_by(Pledge.created_at, Pledge.id)
        )
        return [int(pid) for pid in result.scalars().all() if pid is not None]

    async def add(self, task: EventTask, person_id: int) -> Pledge:
        pledge = Pledge(
            task_id=task.id,
            event_id=task.event_id,
            person_id=person_id,
            created_at=self._clock.now(),
        )
        self._session.add(pledge)
        await self._session.flush()
        return pledge

    async def invited(self, event_id: int) -> list[int]:
        result = await self._session.execute(
            select(Invitation.person_id)
            .where(Invitation.event_id == event_id)
            .order_by(Invitation.created_at, Invitation.id)
        )
        return [int(pid) for pid in result.scalars().all()]

    # -- asking again for a hand ------------------------------------------------------------

    async def asks(self, task_id: int) -> dict[int, TaskAsk]:
        result = await self._session.execute(select(TaskAsk).where(TaskAsk.task_id == task_id))
        return {row.person_id: row for row in result.scalars().all()}

    async def note_ask(
        self, task_id: int, person_id: int, *, asked: bool = False, declined: bool = False
    ) -> None:
        now = self._clock.now()
        result = await self._session.execute(
            select(TaskAsk).where(TaskAsk.task_id == task_id, TaskAsk.person_id == person_id)
        )
        row = result.scalar_one_or_none()
        if row is None:
            row = TaskAsk(task_id=task_id, person_id=person_id)
            self._session.add(row)
        if asked and row.asked_at is None:
            row.asked_at = now
        if declined and row.declined_at is None:
            row.declined_at = now
        await self._session.flush()

    # -- missing hands, asked for again a while before the event --------------------------

    # Two steps: those coming (`hands_asked_at`), then, later, the others invited
    # (`audience_asked_at`); a task reaches the second step only after the first.

    def _not_asked_yet(self, audience: bool) -> list[ColumnElement[bool]]:
        step = (
            [EventTask.hands_asked_at.is_not(None), EventTask.audience_asked_at.is_(None)]
            if audience
            else [EventTask.hands_asked_at.is_(None)]
        )
        return [EventTask.closed_at.is_(None), *step, Event.status == EventStatus.PUBLISHED]

    async def to_ask_again(
        self, now: datetime, until: datetime, limit: int, *, audience: bool = False
    ) -> Sequence[tuple[Event, EventTask]]:
        """Open tasks not asked again yet (with `audience`: of the others invited), of
        events starting after now and by `until`."""
        result = await self._session.execute(
            select(Event, EventTask)
            .join(EventTask, EventTask.event_id == Event.id)
            .where(*self._not_asked_yet(audience), Event.starts_at > now, Event.starts_at <= until)
            .order_by(Event.starts_at, EventTask.id)
            .limit(limit)
        )
        return [(event, task) for event, task in result.all()]

    async def next_ask_again_start(
        self, after: datetime, *, audience: bool = False
    ) -> datetime | None:
        """The start of the first event after `after` with a task not asked again yet (with
        `audience`: asked of those coming, not yet of the others invited)."""
        result = await self._session.execute(
            select(func.min(Event.starts_at))
            .join(EventTask, EventTask.event_id == Event.id)
            .where(*self._not_asked_yet(audience), Event.starts_at > after)
        )
        value: datetime | None = result.scalar_one_or_none()
        return value

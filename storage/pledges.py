"""Queries about pledges on tasks, asks for hands, offers of help and initiatives."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.clock import Clock
from storage.models import (
    Event,
    EventOrigin,
    EventStatus,
    EventTask,
    Invitation,
    ModerationLog,
    Offer,
    OfferMessage,
    OfferStatus,
    Pledge,
    PushState,
    TaskAsk,
)


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

    # -- offers -----------------------------------------------------------------------------

    async def add_offer(self, **fields: object) -> Offer:
        now = self._clock.now()
        offer = Offer(created_at=now, updated_at=now, status=OfferStatus.ACTIVE, **fields)
        self._session.add(offer)
        await self._session.flush()
        return offer

    async def offer(self, offer_id: int) -> Offer | None:
        return await self._session.get(Offer, offer_id)

    async def offers_of(self, person_id: int) -> Sequence[Offer]:
        result = await self._session.execute(
            select(Offer)
            .where(Offer.person_id == person_id, Offer.status == OfferStatus.ACTIVE)
            .order_by(Offer.id)
        )
        return result.scalars().all()

    async def browse(self, kind: str | None, area_id: int | None) -> Sequence[Offer]:
        query = select(Offer).where(Offer.status == OfferStatus.ACTIVE)
        if kind:
            query = query.where(Offer.kind == kind)
        if area_id:
            query = query.where(Offer.area_topic_id == area_id)
        result = await self._session.execute(query.order_by(Offer.updated_at.desc()).limit(9))
        return result.scalars().all()

    def touch(self, offer: Offer) -> None:
        offer.updated_at = self._clock.now()

    async def carry(
        self, offer_id: int, sender_id: int, recipient_id: int, text: str
    ) -> OfferMessage:
        row = OfferMessage(
            offer_id=offer_id,
            sender_id=sender_id,
            recipient_id=recipient_id,
            text=text,
            created_at=self._clock.now(),
        )
        self._session.add(row)
        await self._session.flush()
        return row

    async def offer_message(self, message_id: int) -> OfferMessage | None:
        return await self._session.get(OfferMessage, message_id)

    # -- initiatives ------------------------------------------------------------------------

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

    async def log(
        self, actor_id: int, action: str, event_id: int, reason: str = ""
    ) -> ModerationLog:
        entry = ModerationLog(
            actor_id=actor_id,
            action=action,
            event_id=event_id,
            reason=reason,
            at=self._clock.now(),
        )
        self._session.add(entry)
        await self._session.flush()
        return entry

    async def moderation(self, event_id: int) -> Sequence[ModerationLog]:
        result = await self._session.execute(
            select(ModerationLog)
            .where(ModerationLog.event_id == event_id)
            .order_by(ModerationLog.id)
        )
        return result.scalars().all()

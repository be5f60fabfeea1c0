"""Offers of help without a task, and the messages the bot carries about them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.clock import Clock
from storage.models import Offer, OfferMessage, OfferStatus


class OfferRepository:
    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._session = session
        self._clock = clock

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

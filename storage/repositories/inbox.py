"""The inbox: updates kept the moment they arrive, and marked handled with their effects."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.clock import Clock
from storage.models import InboxUpdate
from storage.repositories.dialect_insert import insert_for


@dataclass(frozen=True, slots=True)
class Arrived:
    """One update as it arrived: its platform id, its chat, the neutral message as JSON."""

    update_id: str
    chat_id: str | None
    payload: dict[str, Any]


class Inbox:
    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    async def keep(self, platform: str, arrived: Sequence[Arrived]) -> None:
        """Keep updates before the platform is told they were received. One already kept
        (the platform sent it again) is left as it is."""
        if not arrived:
            return
        now = self._clock.now()
        statement = (
            insert_for(self._session)(InboxUpdate)
            .values(
                [
                    {
                        "platform": platform,
                        "update_id": item.update_id,
                        "chat_id": item.chat_id,
                        "payload": item.payload,
                        "received_at": now,
                    }
                    for item in arrived
                ]
            )
            .on_conflict_do_nothing(index_elements=["platform", "update_id"])
        )
        await self._session.execute(statement)

    async def begin_handling(self, platform: str, update_id: str) -> bool:
        """Mark the update handled, in the transaction of its effects; False when it was
        handled before (a redelivery, a second process), which then changes nothing.

        An update that was not kept first (a transport without an inbox step, the console)
        is recorded here, so it too is handled once.
        """
        now = self._clock.now()
        kept = await self._session.execute(
            update(InboxUpdate)
            .where(
                InboxUpdate.platform == platform,
                InboxUpdate.update_id == update_id,
                InboxUpdate.handled_at.is_(None),
            )
            .values(handled_at=now, payload=None)
        )
        if getattr(kept, "rowcount", 0):
            return True
        first = await self._session.execute(
            insert_for(self._session)(InboxUpdate)
            .values(platform=platform, update_id=update_id, received_at=now, handled_at=now)
            .on_conflict_do_nothing(index_elements=["platform", "update_id"])
        )
        return bool(getattr(first, "rowcount", 0))

    async def waiting(
        self, platform: str, *, after: int = 0, limit: int = 1000
    ) -> Sequence[InboxUpdate]:
        """Updates kept but not handled (the process stopped in between), oldest first;
        `after`: the last row seen, to read on from there."""
        result = await self._session.execute(
            select(InboxUpdate)
            .where(
                InboxUpdate.platform == platform,
                InboxUpdate.handled_at.is_(None),
                InboxUpdate.id > after,
            )
            .order_by(InboxUpdate.id)
            .limit(limit)
        )
        return result.scalars().all()

    async def kept_before(self, platform: str, update_id: str) -> Sequence[InboxUpdate]:
        """The updates of the same chat kept before this one (by any process) and not yet
        handled, oldest first: they go before it."""
        this = (
            select(InboxUpdate.id, InboxUpdate.chat_id)
            .where(InboxUpdate.platform == platform, InboxUpdate.update_id == update_id)
            .subquery()
        )
        result = await self._session.execute(
            select(InboxUpdate)
            .join(this, InboxUpdate.chat_id == this.c.chat_id)
            .where(
                InboxUpdate.platform == platform,
                InboxUpdate.handled_at.is_(None),
                InboxUpdate.id < this.c.id,
            )
            .order_by(InboxUpdate.id)
        )
        return result.scalars().all()

    async def forget_handled_before(self, moment: datetime) -> int:
        result = await self._session.execute(
            delete(InboxUpdate).where(InboxUpdate.handled_at < moment)
        )
        return int(getattr(result, "rowcount", 0) or 0)

"""The log of moderation actions on initiatives."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.clock import Clock
from storage.models import ModerationLog


class ModerationLogRepository:
    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._session = session
        self._clock = clock

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

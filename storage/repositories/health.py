"""What the health check and the metrics read: that the database answers, and the outbox
by status and platform."""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxMessage, OutboxStatus

WAITING = (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.ATTEMPTING)


class HealthRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def ping(self) -> None:
        await self._session.execute(text("SELECT 1"))

    async def outbox_by_status(self) -> dict[tuple[str, str], int]:
        """(status, platform) -> rows."""
        result = await self._session.execute(
            select(OutboxMessage.status, OutboxMessage.platform, func.count()).group_by(
                OutboxMessage.status, OutboxMessage.platform
            )
        )
        return {(status, platform): int(count) for status, platform, count in result}

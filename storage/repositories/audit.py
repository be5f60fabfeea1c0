"""The audit log (storage/models/audit.py): written where something is done, read by admins."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.clock import Clock
from storage.models import AuditEntry, ModerationLog


class AuditRepository:
    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    async def record(
        self,
        action: str,
        *,
        actor_id: int | None,
        subject_id: int | None = None,
        event_id: int | None = None,
        via: str = "chat",
    ) -> None:
        self._session.add(
            AuditEntry(
                at=self._clock.now(),
                action=action,
                actor_id=actor_id,
                subject_id=subject_id,
                event_id=event_id,
                via=via,
            )
        )
        await self._session.flush()

    async def recent(self, limit: int) -> Sequence[AuditEntry | ModerationLog]:
        """The newest entries of both logs, newest first."""
        entries = (
            (
                await self._session.execute(
                    select(AuditEntry)
                    .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
                    .limit(limit)
                )
            )
            .scalars()
            .all()
        )
        moderation = (
            (
                await self._session.execute(
                    select(ModerationLog)
                    .order_by(ModerationLog.at.desc(), ModerationLog.id.desc())
                    .limit(limit)
                )
            )
            .scalars()
            .all()
        )
        both: list[AuditEntry | ModerationLog] = [*entries, *moderation]
        both.sort(key=lambda entry: entry.at, reverse=True)
        return both[:limit]

"""Platform updates already handled, so a redelivered one is handled once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.clock import Clock
from storage.models import ProcessedUpdate

# An insert that does nothing on a duplicate, so the same update arriving twice at once
# (two processes, PostgreSQL) gives one row written and one not, never an error.
_FIRST_TIME = {
    dialect: insert(ProcessedUpdate.__table__).on_conflict_do_nothing(  # type: ignore[arg-type]
        index_elements=["platform", "update_id"]
    )
    for dialect, insert in (("postgresql", postgresql_insert), ("sqlite", sqlite_insert))
}


class UpdateLog:
    """Remembers handled platform updates so a redelivered one is not handled twice."""

    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    async def first_time(self, platform: str, update_id: str) -> bool:
        statement = _FIRST_TIME[self._session.get_bind().dialect.name]
        result = await self._session.execute(
            statement,
            {"platform": platform, "update_id": update_id, "processed_at": self._clock.now()},
        )
        return bool(getattr(result, "rowcount", 0))

    async def forget_before(self, moment: datetime) -> int:
        result = await self._session.execute(
            delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < moment)
        )
        return int(getattr(result, "rowcount", 0) or 0)

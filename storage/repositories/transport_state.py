"""Small values a transport keeps across restarts."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.clock import Clock
from storage.models import TransportState
from storage.repositories.dialect_insert import insert_for


class TransportStateRepository:
    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    async def get(self, platform: str, key: str) -> str | None:
        row = await self._session.get(TransportState, (platform, key))
        return None if row is None else row.value

    async def put(self, platform: str, key: str, value: str) -> None:
        """Set a value in one statement (insert, or update on conflict): two processes
        writing the same key at once both succeed, the later commit wins."""
        now = self._clock.now()
        statement = (
            insert_for(self._session)(TransportState)
            .values(platform=platform, key=key, value=value, updated_at=now)
            .on_conflict_do_update(
                index_elements=["platform", "key"], set_={"value": value, "updated_at": now}
            )
            .returning(TransportState)
        )
        # populate_existing: a copy already loaded in this session takes the new value
        await self._session.scalars(statement, execution_options={"populate_existing": True})

    async def starting_with(self, platform: str, prefix: str) -> dict[str, str]:
        """Every value whose key starts with `prefix`, by key."""
        result = await self._session.execute(
            select(TransportState.key, TransportState.value).where(
                TransportState.platform == platform,
                TransportState.key.startswith(prefix, autoescape=True),
            )
        )
        return {str(key): str(value) for key, value in result.all()}

    async def remove(self, platform: str, key: str) -> None:
        await self._session.execute(
            delete(TransportState).where(
                TransportState.platform == platform, TransportState.key == key
            )
        )

"""Everything kept about one person, as a whole: exported, forgotten, or merged into another.

The work is schema-driven (see `storage.personal_data`); this gives it to callers through
the unit of work like any other repository.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.clock import Clock
from storage.personal_data import export_person, forget_person, merge_persons


class PersonalRecordsRepository:
    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    async def export(self, person_id: int) -> dict[str, list[dict[str, Any]]]:
        """Every row that points at the person, by table (for /mydata)."""
        return await export_person(self._session, person_id)

    async def forget(self, person_id: int) -> dict[str, int]:
        """Delete the person; rows that only count them lose the reference (for /forget)."""
        return await forget_person(self._session, person_id)

    async def merge(self, *, keep_id: int, other_id: int) -> dict[str, int]:
        """Move everything of `other_id` over to `keep_id` (for /link)."""
        return await merge_persons(self._session, keep_id=keep_id, other_id=other_id)

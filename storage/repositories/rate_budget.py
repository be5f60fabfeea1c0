"""One platform's sending budget shared by every process (PostgreSQL): slots handed out one
at a time from a row per platform and per chat, each taken in one atomic statement."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

PLATFORM_WIDE = ""  # the scope of the platform's own row; a chat's row has its chat id

# The next slot of a scope, if it may be taken: always when `force` (a reply), else only when
# it is free `ahead` seconds from now at the latest. The row moves on by `spacing`.
_TAKE = text(
    """
    INSERT INTO rate_budget (platform, scope, next_free)
    VALUES (:platform, :scope, EXTRACT(EPOCH FROM clock_timestamp()) + :spacing)
    ON CONFLICT (platform, scope) DO UPDATE
        SET next_free = GREATEST(rate_budget.next_free, EXTRACT(EPOCH FROM clock_timestamp()))
            + :spacing
        WHERE :force
           OR rate_budget.next_free <= EXTRACT(EPOCH FROM clock_timestamp()) + :ahead
    RETURNING next_free - :spacing, EXTRACT(EPOCH FROM clock_timestamp())
    """
)
_WAIT = text(
    """
    SELECT next_free - EXTRACT(EPOCH FROM clock_timestamp()) FROM rate_budget
    WHERE platform = :platform AND scope = :scope
    """
)
_FORGET = text(
    "DELETE FROM rate_budget "
    "WHERE scope <> '' AND next_free < EXTRACT(EPOCH FROM clock_timestamp()) - :idle"
)


@dataclass(frozen=True, slots=True)
class Slot:
    """`taken`: the slot is ours, and goes `wait` seconds from now (0 or less: at once), at
    `at` (seconds since the epoch, the database's clock). Else it is not free yet: ask again
    in `wait` seconds."""

    taken: bool
    wait: float
    at: float = 0.0


class RateBudgetRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def take(
        self, platform: str, scope: str, spacing: float, *, force: bool, ahead: float = 0.0
    ) -> Slot:
        """The next slot of `scope`, `spacing` seconds after the one before it. Rows of
        other scopes taken in the same transaction keep their slot only if it commits."""
        params = {
            "platform": platform,
            "scope": scope,
            "spacing": spacing,
            "force": force,
            "ahead": ahead,
        }
        taken = (await self._session.execute(_TAKE, params)).one_or_none()
        if taken is not None:
            at, now = float(taken[0]), float(taken[1])
            return Slot(True, at - now, at)
        result = await self._session.execute(_WAIT, {"platform": platform, "scope": scope})
        return Slot(False, max(float(result.scalar_one()) - ahead, 0.0))

    async def forget_idle(self, idle_seconds: float) -> int:
        """Remove chats' rows that have not been used for a while (housekeeping)."""
        result = await self._session.execute(_FORGET, {"idle": idle_seconds})
        return int(getattr(result, "rowcount", 0) or 0)

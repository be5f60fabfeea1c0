"""One platform's sending budget shared by every process (PostgreSQL), in `rate_budget` rows
each taken in one atomic statement:

- the platform's window: a ring of as many rows as the platform allows sends in its window
  (scopes `~0`, `~1`, ...), each the moment of the last send that used it. A send takes the
  row used longest ago, and only once that moment is a whole window old: so no window ever
  holds more than the ring's size, whichever processes send, and a process that lagged a
  moment catches up within the window instead of losing the slots it missed (a single
  "next free" moment moved on by a fixed spacing would lose them for good);
- pace rows: the platform's (scope empty), which spreads the sends evenly over the window
  rather than in a burst at its start, and one per chat (scope its id) for the chat's own
  limit; each the earliest moment the next send may go, moved on by a spacing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

RING_PREFIX = "~"  # chat ids (Telegram's numbers, Matrix's room ids) never start with it

_NOW = "EXTRACT(EPOCH FROM clock_timestamp())"

PLATFORM_WIDE = ""  # the scope of the platform's pace row
_AT = f"COALESCE(CAST(:at AS double precision), {_NOW})"

# A pace row's next slot (the platform's, or a chat's), at `at` (now when not given) or
# later: always when `force` (a reply), else only when it is free `ahead` seconds after
# `at`. The row moves on by `spacing`; one left idle counts from `credit` seconds before
# `at`, so a sender that lagged gets back a few of the slots it missed (the ring keeps the
# ceiling).
_TAKE_PACE = text(
    f"""
    INSERT INTO rate_budget (platform, scope, next_free)
    VALUES (:platform, :scope, {_AT} + :spacing)
    ON CONFLICT (platform, scope) DO UPDATE
        SET next_free = GREATEST(rate_budget.next_free, {_AT} - :credit) + :spacing
        WHERE :force OR rate_budget.next_free <= {_AT} + :ahead
    RETURNING next_free - :spacing, {_NOW}
    """
)
_PACE_WAIT = text(
    f"SELECT next_free - {_AT} FROM rate_budget WHERE platform = :platform AND scope = :scope"
)
# The ring's row used longest ago (rows another transaction is taking are skipped: theirs is
# as good), if it is a whole `window` old at `at` (by `ahead` seconds from now), or always
# when `force` (a reply: it waits for it). Its moment becomes the new send's.
_TAKE_RING = text(
    f"""
    WITH oldest AS (
        SELECT scope, next_free FROM rate_budget
        WHERE platform = :platform AND scope IN :ring
        ORDER BY next_free LIMIT 1
        FOR UPDATE SKIP LOCKED
    )
    UPDATE rate_budget AS slot
        SET next_free = GREATEST(oldest.next_free + :window, {_AT})
        FROM oldest
        WHERE slot.platform = :platform AND slot.scope = oldest.scope
          AND (:force OR oldest.next_free + :window <= {_NOW} + :ahead)
    RETURNING slot.next_free, {_NOW}, slot.scope
    """
).bindparams(bindparam("ring", expanding=True))
# A send that went later than its slot (its process was not scheduled in time): the ring's
# row holds the moment it really went, so the row's next send is a whole window after that.
_RESTAMP = text(
    f"""
    UPDATE rate_budget SET next_free = GREATEST(next_free, {_NOW})
    WHERE platform = :platform AND scope = :scope AND next_free = :at
    RETURNING next_free
    """
)
_RING_WAIT = text(
    f"""
    SELECT MIN(next_free) + :window - {_NOW} FROM rate_budget
    WHERE platform = :platform AND scope IN :ring
    """
).bindparams(bindparam("ring", expanding=True))
_MAKE_RING = text(
    """
    INSERT INTO rate_budget (platform, scope, next_free)
    SELECT :platform, :prefix || n, 0 FROM generate_series(0, :size - 1) AS n
    ON CONFLICT (platform, scope) DO NOTHING
    """
)
_FORGET = text(
    "DELETE FROM rate_budget "
    f"WHERE scope <> '' AND scope NOT LIKE '{RING_PREFIX}%' AND next_free < {_NOW} - :idle"
)


@dataclass(frozen=True, slots=True)
class Slot:
    """`taken`: the slot is ours, and goes `wait` seconds from now (0 or less: at once), at
    `at` (seconds since the epoch, the database's clock). Else it is not free yet: ask again
    in `wait` seconds."""

    taken: bool
    wait: float
    at: float = 0.0
    ring_row: str | None = None  # the ring's row it took, if any


def _slot(at: float, now: float) -> Slot:
    return Slot(True, at - now, at)


def ring_scopes(size: int) -> list[str]:
    return [f"{RING_PREFIX}{n}" for n in range(size)]


class RateBudgetRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def make_ring(self, platform: str, size: int) -> None:
        """The platform's ring of `size` rows, free (those already there are kept)."""
        params = {"platform": platform, "prefix": RING_PREFIX, "size": size}
        await self._session.execute(_MAKE_RING, params)

    async def take_ring(
        self,
        platform: str,
        ring: list[str],
        window: float,
        at: float | None = None,
        *,
        force: bool,
        ahead: float = 0.0,
    ) -> Slot:
        """A slot of the platform's window, at `at` or later: at most `len(ring)` sends in
        any `window` seconds. Rows taken in the same transaction keep their slot only if it
        commits."""
        params = {
            "platform": platform,
            "ring": ring,
            "window": window,
            "at": at,
            "force": force,
            "ahead": ahead,
        }
        taken = (await self._session.execute(_TAKE_RING, params)).one_or_none()
        if taken is not None:
            at, now = float(taken[0]), float(taken[1])
            return Slot(True, at - now, at, ring_row=str(taken[2]))
        wait = (
            await self._session.execute(
                _RING_WAIT, {"platform": platform, "ring": ring, "window": window}
            )
        ).scalar_one()
        # None: the ring is not there; else its every row was taken or is being taken
        return Slot(False, max(float(wait or 0.0) - ahead, 0.0))

    async def restamp(self, platform: str, ring_row: str, at: float) -> float | None:
        """The send of the ring's `ring_row` slotted at `at` goes only now. Returns the row's
        new moment (None: another send has taken the row since)."""
        params = {"platform": platform, "scope": ring_row, "at": at}
        moved = (await self._session.execute(_RESTAMP, params)).scalar_one_or_none()
        return None if moved is None else float(moved)

    async def take_pace(
        self,
        platform: str,
        scope: str,
        spacing: float,
        at: float | None = None,
        *,
        force: bool,
        ahead: float = 0.0,
        credit: float = 0.0,
    ) -> Slot:
        """The next slot of a pace row (`PLATFORM_WIDE` or a chat's id), `spacing` seconds
        after the one before it, at `at` (seconds since the epoch, the database's clock;
        now when not given) or later."""
        params = {
            "platform": platform,
            "scope": scope,
            "spacing": spacing,
            "at": at,
            "force": force,
            "ahead": ahead,
            "credit": credit,
        }
        taken = (await self._session.execute(_TAKE_PACE, params)).one_or_none()
        if taken is not None:
            moment, now = float(taken[0]), float(taken[1])
            return _slot(max(moment, now if at is None else at), now)
        result = await self._session.execute(
            _PACE_WAIT, {"platform": platform, "scope": scope, "at": at}
        )
        return Slot(False, max(float(result.scalar_one()) - ahead, 0.0))

    async def forget_idle(self, idle_seconds: float) -> int:
        """Remove chats' rows that have not been used for a while (housekeeping)."""
        result = await self._session.execute(_FORGET, {"idle": idle_seconds})
        return int(getattr(result, "rowcount", 0) or 0)

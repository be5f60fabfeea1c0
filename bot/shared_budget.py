"""One rate budget per platform across processes, kept in PostgreSQL.

Each process's `RateLimiter` keeps its own windows; with several processes on one database
they would together send N times the platform's limit. So, on PostgreSQL, every request also
takes a slot from the shared budget (`storage/repositories/rate_budget.py`): a ring of rows
per platform, one per send its window allows, and a row per chat. A send takes the ring's
row used longest ago once that is a whole window old, so no window holds more than the limit
whichever processes send, and a process that lagged a moment (a busy core) catches up
within the window rather than losing the slots it missed.

The window is the platform's second plus a margin for the lag between taking a slot and the
request reaching the platform: measured with 3 processes on the shared 2-core machine, the
slot-to-arrival lag was 6 ms at the median and 81 ms at p99 (1 process: 4 ms, 33 ms); two
sends a window apart reach the platform less than a second apart when the first lags more
than the second by more than the margin.

A send later than its slot (its process not scheduled in time) moves its ring row to when it
really went; if the row was booked again meanwhile (a reply books the next row to free up,
free yet or not), the late send gives its slot up and takes the next, since it would reach
the platform less than a window before that booking.

Replies keep their priority across processes: a reply always gets the next row to free up
(and counts in its chat without waiting for it), while anything else takes a row only once
it is free (or about to be), so a broadcast never books slots ahead of replies.
"""

from __future__ import annotations

import asyncio
import logging
from contextvars import ContextVar

from bot.rate_limit import RateLimits
from bot.timing import Sleeper
from storage.repositories.rate_budget import (
    PLATFORM_WIDE,
    RateBudgetRepository,
    Slot,
    ring_scopes,
)
from storage.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)

# Added to the platform's one-second window (and kept free in a chat's spacing) for the lag
# between taking a slot and the request arriving: above the p99 lag measured with 3
# processes (81 ms; with 60 ms, 3 processes still drew a 429 every ~170 sends).
MARGIN = 0.12
# A chat's spacing keeps this share free for the same lag (its window is long: 1 s or 1 min).
JITTER = 0.06
# Slots a non-reply may book ahead: the message a worker has ready gets the row about to
# free up instead of racing for it; a reply waits at most this many behind broadcasts.
AHEAD_SLOTS = 3
# Slots of the platform's pace a sender that lagged may get back at once (the ring still
# holds every window to the limit): one busy moment does not cost the broadcast for good.
CATCH_UP_SLOTS = 3
# A send this much later than its slot (seconds; its process was not scheduled in time, as
# happens on a loaded machine) moves its ring row to the moment it really goes.
LATE = 0.02
SHORTEST_RETRY = 0.002  # seconds; a slot someone else just took is asked for again this soon

# The ring row (and its moment) the current task's request took, until the request has been
# written to the socket: one written late (its HTTP client waited for a connection, its
# process for a core) moves the row to when it really went.
_open_ring_row: ContextVar[tuple[str, float] | None] = ContextVar("open_ring_row", default=None)


class SharedBudget:
    def __init__(
        self, uow: UnitOfWorkFactory, platform: str, limits: RateLimits, sleeper: Sleeper
    ) -> None:
        self._uow = uow
        self.platform = platform
        self.limits = limits
        self._sleeper = sleeper
        self.window = 1.0 + MARGIN
        self.spacing = self.window / limits.per_second
        self._ring = ring_scopes(limits.per_second)
        self._ahead = AHEAD_SLOTS * self.window / limits.per_second
        self._ring_made = False
        self._making_ring = asyncio.Lock()
        self._turn = asyncio.Lock()
        self._booking = asyncio.Lock()
        self.taken = 0  # slots this process took (for the benchmark and logs)
        self.retries = 0  # asks that found the slot taken
        self.late = 0  # slots whose send went later than the slot
        self.given_up = 0  # late slots whose row was booked again meanwhile
        self.unmoved = 0  # requests written late whose row was booked again meanwhile
        self._restamping: set[asyncio.Task[None]] = set()

    def chat_spacing(self, chat_id: str) -> float | None:
        if self.limits.is_group(chat_id):
            per_minute = self.limits.group_per_minute
            return None if per_minute is None else 60.0 * (1 + JITTER) / per_minute
        per_second = self.limits.private_per_second
        return None if per_second is None else (1 + JITTER) / per_second

    async def take(self, chat_id: str | None, *, urgent: bool) -> float:
        """Wait for, and take, the next slot of the platform (and of `chat_id`'s window when
        given: a message's first request). `urgent` (a reply) is never refused. Returns the
        slot's moment on the database's clock."""
        if not self._ring_made:
            await self._make_ring()
        if urgent:
            return await self._take(chat_id, urgent=True)
        # One of this process's non-replies asks at a time: the others would only lose the
        # same race against it, a transaction each.
        async with self._turn:
            return await self._take(chat_id, urgent=False)

    async def _make_ring(self) -> None:
        async with self._making_ring:  # once, not by every send of a first burst
            if self._ring_made:
                return
            async with self._uow() as uow:
                await uow.rate_budget.make_ring(self.platform, len(self._ring))
                await uow.commit()
            self._ring_made = True

    def written_late(self, late: float) -> None:
        """The request of the current task's slot was written `late` seconds after it: its
        ring row is moved to now (in the background; the request is on its way)."""
        opened = _open_ring_row.get()
        _open_ring_row.set(None)
        if opened is None or late <= LATE:
            return
        task = asyncio.get_running_loop().create_task(self._restamp_late_write(*opened))
        self._restamping.add(task)
        task.add_done_callback(self._restamped)

    async def _restamp_late_write(self, ring_row: str, at: float) -> None:
        if await self._restamp(ring_row, at) is None:
            # already on its way: the row's next send may reach the platform less than a
            # window after it (counted for the logs; rare unless a process stalls)
            self.unmoved += 1

    def _restamped(self, task: asyncio.Task[None]) -> None:
        self._restamping.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("could not move a late send's slot: %r", task.exception())

    async def settled(self) -> None:
        """Wait for the moves of late sends' slots still being written (tests)."""
        while self._restamping:
            await asyncio.gather(*self._restamping, return_exceptions=True)

    async def _restamp(self, ring_row: str, at: float) -> float | None:
        # else the row's next send, on time, could reach the platform less than a second
        # after this late one
        self.late += 1
        async with self._uow() as uow:
            moved = await uow.rate_budget.restamp(self.platform, ring_row, at)
            await uow.commit()
        return moved

    async def _take_platform(
        self, budget: RateBudgetRepository, *, urgent: bool
    ) -> tuple[Slot, float]:
        """The platform's slot: its pace row spreads the sends out, its ring keeps any
        window at the limit (a slot goes at the later of the two). Also returns when the
        ring was asked (this process's clock): the slot's wait counts from then, not from
        before the pace row, whose lock may have kept the transaction waiting."""
        pace = await budget.take_pace(
            self.platform,
            PLATFORM_WIDE,
            self.spacing,
            force=urgent,
            ahead=self._ahead,
            credit=CATCH_UP_SLOTS * self.spacing,
        )
        asked = self._sleeper.monotonic()
        if not pace.taken:
            return pace, asked
        ring = await budget.take_ring(
            self.platform, self._ring, self.window, pace.at, force=urgent, ahead=self._ahead
        )
        return ring, asked

    async def _book(
        self, chat_id: str | None, chat_spacing: float | None, *, urgent: bool
    ) -> tuple[Slot, float]:
        """One try for a slot, in one transaction (see `_take_platform` for the time)."""
        async with self._uow() as uow:
            slot, asked = await self._take_platform(uow.rate_budget, urgent=urgent)
            if slot.taken and chat_id is not None and chat_spacing is not None:
                # counted in the chat at the moment it goes
                chat = await uow.rate_budget.take_pace(
                    self.platform, chat_id, chat_spacing, slot.at, force=urgent
                )
                if not chat.taken:
                    slot = Slot(False, max(slot.wait, 0.0) + chat.wait)
            if slot.taken:
                await uow.commit()
            else:
                await uow.rollback()  # what it took waits with the rest
        return slot, asked

    async def _take(self, chat_id: str | None, *, urgent: bool) -> float:
        chat_spacing = None if chat_id is None else self.chat_spacing(chat_id)
        while True:
            if urgent:
                # One of this process's replies books at a time: each transaction holds the
                # platform's pace row until it commits, and a burst of replies all asking
                # at once queued there for seconds, the other processes' sends behind them.
                async with self._booking:
                    slot, asked = await self._book(chat_id, chat_spacing, urgent=True)
            else:
                slot, asked = await self._book(chat_id, chat_spacing, urgent=False)
            if slot.taken:
                self.taken += 1
                if slot.wait > 0:
                    await self._sleeper.sleep(slot.wait)
                late = self._sleeper.monotonic() - asked - max(slot.wait, 0.0)
                row, moment = slot.ring_row, slot.at
                if late > LATE and row is not None:
                    moved = await self._restamp(row, moment)
                    if moved is None:
                        # While this send was late its row was booked again, a window after
                        # the slot (a reply books the next row to free up, free yet or
                        # not): sent now it would reach the platform less than a window
                        # before that one. The slot is given up for the next.
                        self.given_up += 1
                        continue
                    moment = moved
                _open_ring_row.set(None if row is None else (row, moment))
                return slot.at
            self.retries += 1
            await self._sleeper.sleep(max(slot.wait, SHORTEST_RETRY))

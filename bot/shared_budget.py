"""One rate budget per platform across processes, kept in PostgreSQL.

Each process's `RateLimiter` keeps its own windows; with several processes on one database
they would together send N times the platform's limit. So, on PostgreSQL, every request also
takes a slot from the shared budget (`storage/repositories/rate_budget.py`): one row per
platform and one per chat, each the earliest moment the next send may go, moved on
atomically by the process that takes it. Slots are spaced evenly (`1 / per_second`, with a
margin for the jitter between taking a slot and the request reaching the platform), so no
window of one second ever holds more than the limit whichever processes send.

Replies keep their priority across processes: a reply always gets the next slot (and counts
in its chat without waiting for it), while anything else takes a slot only once it is free
now, so a broadcast never books slots ahead of replies.
"""

from __future__ import annotations

import asyncio
import logging

from bot.rate_limit import RateLimits
from bot.timing import Sleeper
from storage.repositories.rate_budget import PLATFORM_WIDE
from storage.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)

# Share of a slot kept free for the jitter between taking it and the request arriving
# (6 %: 60 ms a second; on a loaded 2-core machine 2 % and 4 % let 429s through).
JITTER = 0.06
# Slots a non-reply may book ahead: the few messages a worker has ready at once get
# consecutive slots instead of racing for the one free now; a reply waits at most these.
AHEAD_SLOTS = 3
SHORTEST_RETRY = 0.002  # seconds; a slot someone else just took is asked for again this soon


class SharedBudget:
    def __init__(
        self, uow: UnitOfWorkFactory, platform: str, limits: RateLimits, sleeper: Sleeper
    ) -> None:
        self._uow = uow
        self.platform = platform
        self.limits = limits
        self._sleeper = sleeper
        self.spacing = (1 + JITTER) / limits.per_second
        self._turn = asyncio.Lock()
        self.taken = 0  # slots this process took (for the benchmark and logs)
        self.retries = 0  # asks that found the slot taken

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
        if urgent:
            return await self._take(chat_id, urgent=True)
        # One of this process's non-replies asks at a time: the others would only lose the
        # same race against it, a transaction each.
        async with self._turn:
            return await self._take(chat_id, urgent=False)

    async def _take(self, chat_id: str | None, *, urgent: bool) -> float:
        chat_spacing = None if chat_id is None else self.chat_spacing(chat_id)
        while True:
            async with self._uow() as uow:
                if chat_id is not None and chat_spacing is not None:
                    chat = await uow.rate_budget.take(
                        self.platform, chat_id, chat_spacing, force=urgent
                    )
                    if not chat.taken:
                        wait = chat.wait
                        self.retries += 1
                        await uow.rollback()
                        await self._sleeper.sleep(max(wait, SHORTEST_RETRY))
                        continue
                slot = await uow.rate_budget.take(
                    self.platform,
                    PLATFORM_WIDE,
                    self.spacing,
                    force=urgent,
                    ahead=AHEAD_SLOTS * self.spacing,
                )
                if slot.taken:
                    await uow.commit()
                else:
                    await uow.rollback()  # the chat's slot too: it waits with the platform
            if slot.taken:
                self.taken += 1
                if slot.wait > 0:
                    await self._sleeper.sleep(slot.wait)
                return slot.at
            self.retries += 1
            await self._sleeper.sleep(max(slot.wait, SHORTEST_RETRY))

"""Time-driven work on APScheduler 3. The database holds the truth; jobs only wake work.

Nothing is pickled into a job store: every job here is rebuilt in code at start, and the
rows it works on carry their own due times.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from storage.clock import Clock
from storage.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)

PROMPT_RETENTION = timedelta(days=90)
UPDATE_LOG_RETENTION = timedelta(days=2)


class Housekeeping:
    """Closes expired conversations and trims old prompts and the update log, hourly."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock
        self._scheduler: AsyncIOScheduler | None = None

    def start(self) -> None:
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        self._scheduler.add_job(
            self.run_once, "interval", hours=1, id="housekeeping", coalesce=True, max_instances=1
        )
        self._scheduler.start()

    def stop(self) -> None:
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    async def run_once(self) -> dict[str, int]:
        now = self._clock.now()
        async with self._uow() as uow:
            counts = {
                "conversations": await uow.conversations.remove_expired(now),
                "prompts": await uow.prompts.remove_older_than(now - PROMPT_RETENTION),
                "updates": await uow.updates.forget_before(now - UPDATE_LOG_RETENTION),
            }
            await uow.commit()
        log.debug("housekeeping removed %s", counts)
        return counts

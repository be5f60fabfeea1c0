"""Time-driven work on APScheduler 3. The database holds the truth; jobs only wake work.

Nothing is pickled into a job store: every job here is rebuilt in code at start, and the
rows it works on carry their own due times.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from conversations.core.i18n import Translations
from conversations.core.services import Services
from conversations.events.rules.reminders import run_due_reminders
from conversations.events.rules.waiting_list import expire_offers, fill_free_places
from conversations.feedback.rules.requests import run_feedback_jobs
from conversations.feedback.rules.snaps import FeedbackOptions
from conversations.initiatives.rules.pushes import push_deferred
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
                "updates": await uow.inbox.forget_handled_before(now - UPDATE_LOG_RETENTION),
            }
            await uow.commit()
        log.debug("housekeeping removed %s", counts)
        return counts


class EventJobs:
    """Every minute (and once at start): due reminders, lapsed waiting-list offers, asking
    for feedback after events (with one reminder for feedback left half-way), and initiatives
    whose push was deferred to the next day.

    The rows are the truth. The job only turns what is due into outbox rows (idempotent on
    their dedupe keys) and marks the rows handled, so running it twice, or in two
    processes, sends nothing twice. Tests call `run_once()` directly after moving the clock.
    """

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        translations: Translations,
        timezone: str,
        feedback: FeedbackOptions | None = None,
        *,
        initiative_pushes_per_day: int = 1,
    ) -> None:
        self._feedback = feedback or FeedbackOptions()
        self._uow = uow
        self._clock = clock
        self._translations = translations
        self._timezone = timezone
        self._pushes_per_day = initiative_pushes_per_day
        self._scheduler: AsyncIOScheduler | None = None

    def start(self) -> None:
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        self._scheduler.add_job(
            self._run_safely,
            "interval",
            minutes=1,
            id="event-jobs",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
            next_run_time=datetime.now(UTC),  # once at start: catch up after downtime
        )
        self._scheduler.start()

    def stop(self) -> None:
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    async def _run_safely(self) -> None:
        try:
            await self.run_once()
        except Exception:
            log.exception("event jobs failed; trying again in a minute")

    async def run_once(self) -> dict[str, int]:
        async with self._uow() as uow:
            services = Services(uow, self._translations, self._timezone, self._clock)
            counts = await run_due_reminders(services)
            counts["offers_lapsed"] = await expire_offers(services)
            counts["places_offered"] = await fill_free_places(services)
            counts.update(await run_feedback_jobs(services, self._feedback))
            counts["initiatives_pushed"] = await push_deferred(services, self._pushes_per_day)
            await uow.commit()
        if any(counts.values()):
            log.info("event jobs: %s", counts)
        return counts

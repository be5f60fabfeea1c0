"""Time-driven work. The database holds the truth; the jobs only wake work.

`EventJobs` is an asyncio loop with a wake event, not an APScheduler job: after every run it
asks the database when the next piece of work falls due (a few indexed `min()` queries) and
sleeps until then, and anything that may make work due sooner (an answer creates a reminder,
an event is moved) calls `wake()` so it looks again. An APScheduler date job would have to be
rescheduled on each of those, on APScheduler's own wall clock, while the rows are due by the
bot's `Clock`; the loop instead waits on the same `Sleeper` the delivery worker uses. Nothing
is pickled, and a restart finds the due times in the rows again.

`Housekeeping` stays on APScheduler: an hourly interval job is what it is for.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.leases import ProcessLease
from bot.metrics import REMINDERS_FIRED, SCHEDULER_LAG, SCHEDULER_LAST_RUN
from bot.timing import RealSleeper, Sleeper
from conversations.core.chunks import Chunk
from conversations.core.i18n import Translations
from conversations.core.services import Services
from conversations.events.rules.reminders import hand_over_due_reminders, next_reminder_due
from conversations.events.rules.series_invitations import (
    invite_due_meetings,
    next_meeting_invitations_due,
)
from conversations.events.rules.waiting_list import (
    expire_offers,
    fill_free_places,
    next_offer_expiry,
)
from conversations.feedback.rules.requests import (
    ask_after_events,
    next_feedback_due,
    remind_half_way,
)
from conversations.feedback.rules.snaps import FeedbackOptions
from conversations.initiatives.rules.pushes import next_push_due, push_deferred
from conversations.tasks.rules.missing_hands import (
    HandsLeads,
    ask_for_missing_hands,
    next_missing_hands_due,
)
from storage.clock import Clock
from storage.unit_of_work import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

# the scheduled jobs one process of several holds at a time (bot/leases.py)
EVENT_JOBS = "event_jobs"
HOUSEKEEPING = "housekeeping"

PROMPT_RETENTION = timedelta(days=90)
UPDATE_LOG_RETENTION = timedelta(days=2)
WORKER_RETENTION = timedelta(days=1)  # a dead process stays listed this long
IDLE_RATE_ROW_SECONDS = 3600.0  # a chat's row in the shared rate budget, unused

# At most this long between runs, whatever the due times say: the sweep for places freed
# without an answer has no due time, and another process may have written rows.
SWEEP_SECONDS = 60.0
RETRY_SECONDS = 60.0  # after a run that failed
WAKE_SETTLE_SECONDS = 0.2  # a burst of wakes (ten answers at once) costs one look (≈ 4 ms)
# A guard against a chunk that would never finish its work: 500 × 200 reminders a run.
MAX_CHUNKS = 500


class Housekeeping:
    """Closes expired conversations and trims old prompts and the update log, hourly (in
    one process of several: the one holding the job's lease)."""

    def __init__(
        self, uow: UnitOfWorkFactory, clock: Clock, lease: ProcessLease | None = None
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._lease = lease
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
        if self._lease is not None and not await self._lease.hold(HOUSEKEEPING):
            return {}  # another process does it
        now = self._clock.now()
        async with self._uow() as uow:
            counts = {
                "conversations": await uow.conversations.remove_expired(now),
                "prompts": await uow.prompts.remove_older_than(now - PROMPT_RETENTION),
                "updates": await uow.inbox.forget_handled_before(now - UPDATE_LOG_RETENTION),
            }
            if self._lease is not None:  # several processes: their traces in the database
                counts["workers"] = await uow.workers.forget_expired(now - WORKER_RETENTION)
                counts["rate_rows"] = await uow.rate_budget.forget_idle(IDLE_RATE_ROW_SECONDS)
            await uow.commit()
        log.debug("housekeeping removed %s", counts)
        return counts


class EventJobs:
    """Due reminders, lapsed waiting-list offers, a series' later meetings invited, asking
    for feedback after events (with one reminder for feedback left half-way), and
    initiatives whose push was deferred, each run when it falls due (and once at start, in
    the background, to catch up after downtime).

    The rows are the truth. The job only turns what is due into outbox rows (idempotent on
    their dedupe keys) and marks the rows handled, so running it twice, or in two
    processes, sends nothing twice. Work that grows with the number of people is done in
    chunks of a short transaction each, so a chat step never waits long for the writer and a
    crash leaves whole chunks. Tests call `run_once()` directly after moving the clock.
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
        missing_hands: HandsLeads | None = None,
        sleeper: Sleeper | None = None,
        lease: ProcessLease | None = None,
    ) -> None:
        """`lease`: this process's, when several share the database: the jobs then run in
        the one process holding them, and another takes over when that one dies."""
        self._lease = lease
        self._hands_leads = missing_hands or HandsLeads()
        self._feedback = feedback or FeedbackOptions()
        self._uow = uow
        self._clock = clock
        self._translations = translations
        self._timezone = timezone
        self._pushes_per_day = initiative_pushes_per_day
        self._sleeper = sleeper or RealSleeper()
        self._woken = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._busy = False  # in a unit of work: `stop()` must not cancel it there
        # what the loop has done, for tests and logs: runs completed, looks for the next
        # due time (after each run and each wake), and the due time it last found
        self.runs = 0
        self.looks = 0
        self.looks_for_the_holder = 0  # asks while another process held the jobs
        self.next_due: datetime | None = None

    # --- the loop ------------------------------------------------------------------------

    def start(self) -> None:
        """Run in the background: at once (start-up does not wait for it), then when due."""
        if self._task is None or self._task.done():
            self._stopping = False
            self._task = asyncio.create_task(self._run_forever(), name="event-jobs")

    def stop(self) -> None:
        """Stop: at once when waiting, else after the transaction in hand, never in it (a
        connection cancelled mid-call leaves SQLAlchemy closing it in a task that can hang
        the loop's shutdown). A run stops between its chunks; the next start goes on."""
        self._stopping = True
        self._woken.set()
        if self._task is not None and not self._busy:
            self._task.cancel()

    async def close(self) -> None:
        """`stop`, and wait until the loop has ended (before the database goes away)."""
        task = self._task
        self.stop()
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task
            self._task = None

    def wake(self) -> None:
        """Something may have made work due sooner (an answer, an edited event): look again."""
        self._woken.set()

    async def _run_forever(self) -> None:
        while not self._stopping:
            began = self._clock.now()
            if self.next_due is not None:
                SCHEDULER_LAG.set(max(0.0, (began - self.next_due).total_seconds()))
            try:
                if not await self._holding():
                    await self._wait_for_the_holder()
                    continue
                await self._run(interruptible=True)
            except Exception:
                log.exception("event jobs failed; trying again in a minute")
                await self._sleeper.wait(self._woken, RETRY_SECONDS)
                continue
            self.runs += 1
            await self._sleep_until_due(began)

    async def _holding(self) -> bool:
        if self._lease is None:
            return True
        self._busy = True  # a transaction: `stop()` lets it finish
        try:
            return await self._lease.hold(EVENT_JOBS)
        finally:
            self._busy = False

    async def _wait_for_the_holder(self) -> None:
        """Another process runs the jobs; ask again a beat later, ready to take over once its
        lease has run out (its heartbeat renews the job with its own lease)."""
        assert self._lease is not None
        self.looks_for_the_holder += 1
        self.next_due = None
        await self._sleeper.wait(self._woken, self._lease.beat_seconds)
        self._woken.clear()

    async def _sleep_until_due(self, last_run: datetime) -> None:
        """Until the next due time (or the sweep), looking again whenever woken."""
        sweep_at = self._sleeper.monotonic() + SWEEP_SECONDS
        while not self._stopping:
            self._woken.clear()  # before looking: a wake during the look is not lost
            try:
                self.next_due = await self.next_due_at(after=last_run)
            except Exception:
                log.exception("could not find the next due time; sweeping in a minute")
                self.next_due = None
            self.looks += 1
            wait = sweep_at - self._sleeper.monotonic()
            if self.next_due is not None:
                wait = min(wait, (self.next_due - self._clock.now()).total_seconds())
            if wait <= 0 or not await self._sleeper.wait(self._woken, wait):
                return
            await self._sleeper.sleep(WAKE_SETTLE_SECONDS)

    async def next_due_at(self, after: datetime | None = None) -> datetime | None:
        """The earliest moment any job has work, later than `after` if given (what a run
        at `after` left due it could not do, like asking someone who can't be reached,
        waits for the sweep instead of spinning)."""
        async with self._unit() as uow:
            services = self._services(uow)
            moments = [
                await next_reminder_due(uow, after),
                await next_offer_expiry(uow, after),
                await next_feedback_due(services, self._feedback, after),
                await next_push_due(services, after),
                await next_missing_hands_due(services, self._hands_leads, after),
                await next_meeting_invitations_due(services, after),
            ]
        return min((moment for moment in moments if moment is not None), default=None)

    # --- one run -------------------------------------------------------------------------

    async def run_once(self) -> dict[str, int]:
        """Everything due now, each job in short transactions of its own."""
        return await self._run(interruptible=False)

    async def _run(self, *, interruptible: bool) -> dict[str, int]:
        """The waiting list goes first: its offers have the shortest windows, and they are
        few. An `interruptible` run (the loop's) ends after the chunk in hand on `stop()`."""
        go = partial(self._chunks, interruptible=interruptible)
        counts = await go(expire_offers)
        counts |= await go(invite_due_meetings)
        counts |= await go(_counted(fill_free_places, "places_offered"))
        reminders = await go(hand_over_due_reminders)
        REMINDERS_FIRED.inc(reminders.get("sent", 0))
        counts |= reminders
        counts |= await go(partial(ask_after_events, options=self._feedback))
        counts |= await go(partial(remind_half_way, options=self._feedback))
        pushes = partial(push_deferred, per_day=self._pushes_per_day)
        counts |= await go(_counted(pushes, "initiatives_pushed"))
        counts |= await go(partial(ask_for_missing_hands, leads=self._hands_leads))
        if any(counts.values()):
            log.info("event jobs: %s", counts)
        SCHEDULER_LAST_RUN.set(time.time())
        return counts

    def _services(self, uow: UnitOfWork) -> Services:
        return Services(uow, self._translations, self._timezone, self._clock)

    @contextlib.asynccontextmanager
    async def _unit(self) -> AsyncIterator[UnitOfWork]:
        """A unit of work that `stop()` lets finish (see there)."""
        self._busy = True
        try:
            async with self._uow() as uow:
                yield uow
        finally:
            self._busy = False

    async def _chunks(
        self, job: Callable[[Services], Awaitable[Chunk]], *, interruptible: bool
    ) -> dict[str, int]:
        """Run `job` a chunk (one transaction) at a time until it has nothing more."""
        totals: dict[str, int] = {}
        for _ in range(MAX_CHUNKS):
            if interruptible and self._stopping:
                break
            async with self._unit() as uow:
                chunk = await job(self._services(uow))
                await uow.commit()
            for name, count in chunk.counts.items():
                totals[name] = totals.get(name, 0) + count
            if not chunk.more:
                break
            await asyncio.sleep(0)  # a chat step waiting for the writer goes first
        else:
            log.warning(
                "event jobs: %s stopped after %d chunks; the rest next run", job, MAX_CHUNKS
            )
        return totals


def _counted(
    job: Callable[[Services], Awaitable[int]], name: str
) -> Callable[[Services], Awaitable[Chunk]]:
    """A job done in one transaction, as a single chunk."""

    async def once(services: Services) -> Chunk:
        return Chunk({name: await job(services)}, more=False)

    return once

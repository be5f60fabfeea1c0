"""The snap file worker: fetches the files of photos and voice notes people sent, after the
unit of work that kept them has committed. One per app, for every transport that can fetch.

The step that handles a photo keeps its `Snap` row (the platform's reference, kind, size,
caption) marked `waiting` and answers at once; no download ever runs while a transaction,
on SQLite the one writer, is open. This worker then, outside any transaction,

1. reads the waiting snaps that are due (oldest first; a few at a time, so one slow
   download delays neither the others nor anybody's reply);
2. fetches each through its platform's `MediaFetcher` (with a timeout) and writes the file
   whole under the media folder, at the name chosen when the snap was kept;
3. records what happened in a short transaction of its own, conditional on the snap still
   waiting: stored; too large after all (no file kept, and the person gets one short word
   through the outbox, in their language); gone (the platform refused the reference for
   good); or a failed try, retried with a growing pause, `failed` after `max_attempts`.

A snap deleted meanwhile (the person used /forget) finds its update matching nothing, and
the worker deletes the file it just wrote. The app wakes the worker after each update that
kept a snap; at start it picks up what a stopped process left waiting, since nothing but
the row says a fetch is due.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from pathlib import Path

from bot.timing import RealSleeper, Sleeper
from bot.transports.base import PermanentFailure, RetryLater
from conversations.core.i18n import Translations
from conversations.core.media import MediaFetcher, TooLarge
from conversations.core.services import Services
from conversations.feedback.rules.snaps import (
    FeedbackOptions,
    refuse_too_large,
    remove_files,
    snap_file_path,
    write_file,
)
from storage.clock import Clock
from storage.models import Snap, SnapFetch
from storage.unit_of_work import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SnapFilePolicy:
    timeout: float = 60.0  # seconds one download may take before it counts as a failed try
    max_attempts: int = 8  # tries before a snap is `failed` (30 s doubling: about an hour)
    first_retry: float = 30.0  # seconds after the first failed try; doubled each time
    longest_retry: float = 3600.0
    concurrency: int = 3  # downloads at a time
    poll_seconds: float = 300.0  # a look without being woken (another process's snaps)


class Result(StrEnum):
    STORED = "stored"
    TOO_LARGE = "too_large"
    GONE = "gone"
    RETRY = "retry"  # a failed try, to be tried again
    FAILED = "failed"  # the last try failed too


@dataclass(frozen=True)
class WaitingSnap:
    """What a fetch needs of a snap, read in one short transaction and used outside it."""

    id: int
    event_id: int
    platform: str
    kind: str
    file_ref: str
    path: str | None
    attempts: int

    @classmethod
    def of(cls, snap: Snap) -> WaitingSnap:
        return cls(
            snap.id,
            snap.event_id,
            snap.platform,
            snap.kind,
            snap.file_ref,
            snap.path,
            snap.fetch_attempts,
        )


@dataclass(frozen=True)
class Fetched:
    result: Result
    path: Path | None = None
    size: int = 0
    error: str = ""
    retry_after: float = 0.0  # at least this long before the next try (the platform said)


@dataclass
class SnapFileStats:
    outcomes: Counter[str] = field(default_factory=Counter)  # by `Result`


class SnapFiles:
    def __init__(
        self,
        fetchers: Mapping[str, MediaFetcher],
        uow: UnitOfWorkFactory,
        clock: Clock,
        translations: Translations,
        *,
        timezone: str,
        options: FeedbackOptions,
        policy: SnapFilePolicy | None = None,
        sleeper: Sleeper | None = None,
        on_enqueued: Callable[[], None] | None = None,
    ) -> None:
        """`fetchers`: by platform. `on_enqueued`: told after a notice went to the outbox
        (the app wakes its delivery workers)."""
        self.fetchers = dict(fetchers)
        self._uow = uow
        self._clock = clock
        self._translations = translations
        self._timezone = timezone
        self.options = options
        self.policy = policy or SnapFilePolicy()
        self._sleeper = sleeper or RealSleeper()
        self._on_enqueued = on_enqueued
        self.stats = SnapFileStats()
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._in_flight: dict[int, asyncio.Task[None]] = {}
        # Snaps whose outcome could not be recorded, by id, with the moment (monotonic) they
        # may be fetched again: a failing write must not turn into a download loop.
        self._resting: dict[int, float] = {}
        self._task: asyncio.Task[None] | None = None
        # One transaction at a time from this worker: SQLite has one writer anyway.
        self._db_lock = asyncio.Lock()

    # --- control ---------------------------------------------------------------------

    def wake(self) -> None:
        """A snap was kept: look now instead of at the next poll."""
        self._wake.set()

    def start(self) -> None:
        if self.fetchers and (self._task is None or self._task.done()):
            self._stop.clear()
            self._task = asyncio.create_task(self.run(), name="snap-files")

    async def stop(self) -> None:
        """Stop looking; downloads on the way are abandoned (their snaps stay waiting and
        are fetched again at the next start)."""
        self._stop.set()
        self._wake.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)  # ends at its next look
            self._task = None
        for task in list(self._in_flight.values()):
            task.cancel()
        await asyncio.gather(*self._in_flight.values(), return_exceptions=True)

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    async def run(self) -> None:
        """Fetch until `stop()`; meant to run as a task for the life of the bot (`start`)."""
        while not self._stop.is_set():
            self._wake.clear()
            timeout = self.policy.poll_seconds
            try:
                await self.run_once()
                timeout = await self._idle_timeout()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("snap files: a look for waiting files failed; trying again later")
            await self._sleeper.wait(self._wake, timeout)

    async def drain(self) -> SnapFileStats:
        """Fetch every snap due now and wait for them (tests; the running bot uses `start`)."""
        while True:
            started = await self.run_once()
            if self._in_flight:
                await asyncio.wait(
                    list(self._in_flight.values()), return_when=asyncio.FIRST_COMPLETED
                )
                continue
            if not started:
                return self.stats

    # --- one look --------------------------------------------------------------------

    async def run_once(self) -> int:
        """Start fetching the due snaps there is room for; returns how many were started."""
        room = self.policy.concurrency - len(self._in_flight)
        if room <= 0 or not self.fetchers:
            return 0
        moment = self._sleeper.monotonic()
        self._resting = {i: until for i, until in self._resting.items() if until > moment}
        async with self._db_lock, self._uow() as uow:
            due = [
                WaitingSnap.of(snap)
                for snap in await uow.feedback.snaps_to_fetch(
                    self.fetchers, self._clock.now(), room, skip=[*self._in_flight, *self._resting]
                )
            ]
        for snap in due:
            task = asyncio.create_task(self._fetch_and_record(snap), name=f"snap-{snap.id}")
            self._in_flight[snap.id] = task
        return len(due)

    async def _idle_timeout(self) -> float:
        async with self._db_lock, self._uow() as uow:
            now = self._clock.now()
            next_due = await uow.feedback.next_snap_fetch_at(self.fetchers, after=now)
        timeout = self.policy.poll_seconds
        if next_due is not None:
            timeout = min(timeout, (next_due - now).total_seconds())
        return max(0.0, timeout)

    # --- one snap --------------------------------------------------------------------

    async def _fetch_and_record(self, snap: WaitingSnap) -> None:
        try:
            fetched = await self._fetch(snap)
            await self._record(snap, fetched)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("snap files: could not record the fetch of snap %d", snap.id)
            self._resting[snap.id] = self._sleeper.monotonic() + self.policy.poll_seconds
        finally:
            self._in_flight.pop(snap.id, None)
            self._wake.set()  # room for the next one

    async def _fetch(self, snap: WaitingSnap) -> Fetched:
        """The platform's bytes, written to the media folder; no transaction is open."""
        limit = self.options.max_snap_bytes
        try:
            async with asyncio.timeout(self.policy.timeout):
                content = await self.fetchers[snap.platform].fetch(snap.file_ref)
        except PermanentFailure as exc:
            return Fetched(Result.GONE, error=_describe(exc))
        except TooLarge as exc:  # the platform stopped reading at the limit
            return Fetched(Result.TOO_LARGE, size=exc.limit + 1, error=str(exc))
        except RetryLater as exc:
            return Fetched(Result.RETRY, error=_describe(exc), retry_after=exc.seconds)
        except TimeoutError:
            return Fetched(Result.RETRY, error=f"no file within {self.policy.timeout:g} s")
        except Exception as exc:
            return Fetched(Result.RETRY, error=_describe(exc))
        target = Path(snap.path) if snap.path else self._new_path(snap)
        if len(content) > limit:
            return Fetched(Result.TOO_LARGE, path=target, size=len(content))
        try:
            await asyncio.to_thread(write_file, target, content)
        except OSError as exc:  # a full disk, a folder we may not write: try again later
            return Fetched(Result.RETRY, error=f"could not write the file: {_describe(exc)}")
        return Fetched(Result.STORED, path=target, size=len(content))

    def _new_path(self, snap: WaitingSnap) -> Path:
        # only a snap kept before names were chosen with the row has none yet
        return snap_file_path(self.options.media_path, snap.event_id, snap.kind)

    async def _record(self, snap: WaitingSnap, fetched: Fetched) -> None:
        told, kept = False, True
        async with self._db_lock, self._uow() as uow:
            result = fetched.result
            if result == Result.STORED:
                assert fetched.path is not None
                kept = await self._stored(uow, snap, fetched.path, fetched.size)
            elif result == Result.TOO_LARGE:
                told = await refuse_too_large(
                    Services(uow, self._translations, self._timezone, self._clock),
                    snap.id,
                    self.options.max_snap_bytes,
                )
            elif result == Result.GONE:
                await uow.feedback.snap_not_fetched(snap.id, SnapFetch.GONE, fetched.error)
            else:
                result = await self._failed_try(uow, snap, fetched)
            await uow.commit()
        self.stats.outcomes[result] += 1
        if fetched.path is not None and (result == Result.TOO_LARGE or not kept):
            # too large, or the snap went (forgotten) while it was on its way: no file stays
            await asyncio.to_thread(remove_files, [str(fetched.path)])
        if told and self._on_enqueued is not None:
            self._on_enqueued()
        if result != Result.STORED:
            log.info("snap files: snap %d %s: %s", snap.id, result, fetched.error or "-")

    async def _stored(self, uow: UnitOfWork, snap: WaitingSnap, path: Path, size: int) -> bool:
        """Whether the file stays: recorded now, or already recorded at the same place (two
        processes fetched it)."""
        if await uow.feedback.snap_file_stored(snap.id, str(path), size):
            return True
        current = await uow.feedback.snap(snap.id)
        return (
            current is not None
            and current.fetch_state == SnapFetch.STORED
            and current.path == str(path)
        )

    async def _failed_try(self, uow: UnitOfWork, snap: WaitingSnap, fetched: Fetched) -> Result:
        tries = snap.attempts + 1
        if tries >= self.policy.max_attempts:
            await uow.feedback.snap_not_fetched(snap.id, SnapFetch.FAILED, fetched.error)
            return Result.FAILED
        pause = min(self.policy.longest_retry, self.policy.first_retry * 2 ** (tries - 1))
        at = self._clock.now() + timedelta(seconds=max(pause, fetched.retry_after))
        await uow.feedback.snap_fetch_later(snap.id, at, fetched.error)
        return Result.RETRY


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:200]

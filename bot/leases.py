"""This process's lease in a database shared by several bot processes.

Each `python -m bot run` on one PostgreSQL registers in the `workers` table and renews its
lease every third of `lease_seconds`. The outbox rows it claims carry its id and the lease's
expiry, renewed with it; another process's recovery touches them only once both have run
out, so a process that starts (or looks) while others are sending relabels nothing they
hold, and the rows of one that died are taken over within `lease_seconds` and a beat.
Scheduled jobs are held the same way (`hold`): one process runs them, another takes over
once the holder's lease on the job has run out.

An SQLite file has one process, so there is no lease there: recovery at start takes every
row on the way, and the jobs always run.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from contextlib import suppress
from datetime import timedelta

from bot.timing import RealSleeper, Sleeper
from storage.clock import Clock
from storage.repositories.delivery_queue import Lease
from storage.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)


def process_id() -> str:
    """Host and pid, for a person reading the table, and a random tail, so a pid the system
    hands out again is not mistaken for the process that had it before."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


class ProcessLease:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        *,
        seconds: float = 15.0,
        sleeper: Sleeper | None = None,
        worker_id: str | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self.seconds = seconds
        self.id = worker_id or process_id()
        self._sleeper = sleeper or RealSleeper()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def beat_seconds(self) -> float:
        """How often the lease is renewed (and other processes' leases looked at)."""
        return self.seconds / 3

    def current(self) -> Lease:
        """The lease a row claimed now carries."""
        return Lease(self.id, self._clock.now() + timedelta(seconds=self.seconds))

    async def renew(self) -> None:
        now = self._clock.now()
        async with self._uow() as uow:
            await uow.workers.renew(self.id, now, now + timedelta(seconds=self.seconds))
            await uow.commit()

    async def hold(self, job: str) -> bool:
        """Take or keep the scheduled job `job` for the length of a lease; false while
        another live process holds it."""
        now = self._clock.now()
        async with self._uow() as uow:
            held = await uow.workers.hold_job(
                job, self.id, now, now + timedelta(seconds=self.seconds)
            )
            await uow.commit()
        return held

    async def start(self) -> None:
        """Register (before anything is claimed), then keep renewing in the background."""
        await self.renew()
        self._stop.clear()
        self._task = asyncio.create_task(self._beat(), name="lease-heartbeat")

    async def _beat(self) -> None:
        while not await self._sleeper.wait(self._stop, self.beat_seconds):
            try:
                await self.renew()
            except asyncio.CancelledError:
                raise
            except Exception:
                # The next beat tries again; should the lease run out meanwhile, the rows
                # this process holds are taken over, and it cannot mark them sent.
                log.exception("could not renew this process's lease (%s)", self.id)

    async def close(self) -> None:
        """Stop renewing and give the lease up: what this process still held is free now."""
        self._stop.set()
        if self._task is not None:
            with suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        try:
            async with self._uow() as uow:
                await uow.workers.retire(self.id)
                await uow.commit()
        except Exception:
            log.exception("could not give up this process's lease (%s)", self.id)

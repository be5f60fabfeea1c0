"""A delivery worker in a process of its own, for the test that kills it with SIGKILL.

    python -m tests.outbox_child <database url> <deliveries file> <starts file> [lease s]

With a lease (PostgreSQL, several of these at once) the worker registers as a process with
that lease, as `python -m bot run` does on a shared database.

Every request that begins is appended to the starts file, and every message that "arrives"
to the deliveries file (one user id a line, flushed and synced), so the parent sees exactly
what went on the wire and what got out even when this process dies in between.

With TMM_TEST_HANG_AFTER=N in the environment, every request begun after N deliveries never
answers (a network that stopped mid-request), so a kill is sure to catch messages on the wire.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sys

from bot.delivery import DeliveryPolicy, DeliveryWorker
from bot.leases import ProcessLease
from bot.rate_limit import RateLimits
from bot.transports.base import Dispatch
from conversations.core.messages import ChatRef, ChoiceEcho, OutMessage, Sent
from storage.clock import SystemClock
from storage.db import create_engine, create_sessionmaker
from storage.unit_of_work import UnitOfWorkFactory


class FileTransport:
    platform = "telegram"

    def __init__(self, path: str, starts: str, hang_after: int | None = None) -> None:
        self._hang_after = hang_after
        self._delivered = 0
        self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - lives as long as we do
        self._starts = open(starts, "a", encoding="utf-8")  # noqa: SIM115
        self._ids = itertools.count(1)

    async def run(self, dispatch: Dispatch) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def send(self, ref: ChatRef, message: OutMessage) -> Sent:
        self._starts.write(ref.user_id + "\n")
        self._starts.flush()
        os.fsync(self._starts.fileno())
        if self._hang_after is not None and self._delivered >= self._hang_after:
            await asyncio.Event().wait()
        await asyncio.sleep(0.002)  # the network
        self._file.write(ref.user_id + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())
        self._delivered += 1
        await asyncio.sleep(0.002)  # the reply on its way back
        return Sent(str(next(self._ids)))

    async def echo(self, ref: ChatRef, echo: ChoiceEcho) -> None:
        return None

    async def edit(self, ref: ChatRef, message_id: str, message: OutMessage) -> None:
        return None


async def main(url: str, path: str, starts: str, lease_seconds: float | None) -> None:
    clock = SystemClock()
    engine = create_engine(url)
    uow = UnitOfWorkFactory(create_sessionmaker(engine), clock)
    lease = None
    if lease_seconds is not None:
        lease = ProcessLease(uow, clock, seconds=lease_seconds)
        await lease.start()
    hang_after = os.environ.get("TMM_TEST_HANG_AFTER")
    worker = DeliveryWorker(
        FileTransport(path, starts, int(hang_after) if hang_after else None),
        uow,
        clock,
        limits=RateLimits(per_second=200),
        policy=DeliveryPolicy(concurrency=8),
        lease=lease,
    )
    await worker.run()


if __name__ == "__main__":
    lease_arg = float(sys.argv[4]) if len(sys.argv) > 4 else None
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], lease_arg))

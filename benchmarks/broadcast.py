"""A broadcast through the real outbox worker and rate limiter, on a real clock.

    python -m benchmarks.broadcast [--recipients 10000] [--limit 2000] [--concurrency 128]

The platform is an in-process fake that answers at once, so the worker and the database
are what is measured. The limit is set high (2,000 a second by default, where Telegram
allows 30) so 10,000 recipients take seconds; what matters is the ratio:

- sustained rate ÷ configured limit: sends per full one-second bin, averaged, ÷ the limit
  (target ≥ 0.95: the limiter does not leave capacity unused);
- the largest count in any one-second window, wherever it starts (must be ≤ the limit);
- event-loop lag p99 while broadcasting: how late a 10 ms ticker wakes (the bot still
  answers people during a broadcast);
- peak traced memory for 1,000 vs 10,000 recipients: must stay flat (rows are streamed in
  small batches, the limiter forgets chats whose window has passed).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import statistics
import tempfile
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import insert

from bot.delivery import DeliveryPolicy, DeliveryWorker
from bot.rate_limit import RateLimits
from bot.transports.base import Dispatch
from conversations.core.messages import ChatRef, ChoiceEcho, OutMessage, Sent, message_to_payload
from storage.clock import SystemClock
from storage.db import create_engine, create_sessionmaker
from storage.migrate import upgrade_to_head_async
from storage.models import Identity, Person
from storage.unit_of_work import UnitOfWorkFactory

CHUNK = 1_000
TICK = 0.010


@dataclass
class FastTransport:
    """Answers at once; counts sends in a sliding window and in one-second bins, without
    keeping anything per recipient (so it does not distort the memory figure)."""

    platform: str = "telegram"
    sent: int = 0
    largest_window: int = 0
    first: float | None = None
    last: float = 0.0
    bins: collections.Counter[int] = field(default_factory=collections.Counter)
    _window: collections.deque[float] = field(default_factory=collections.deque)

    async def run(self, dispatch: Dispatch) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def send(self, ref: ChatRef, message: OutMessage) -> Sent:
        now = time.monotonic()
        if self.first is None:
            self.first = now
        self.last = now
        window = self._window
        window.append(now)
        while window[0] <= now - 1.0:
            window.popleft()
        self.largest_window = max(self.largest_window, len(window))
        self.bins[int(now - self.first)] += 1
        self.sent += 1
        await asyncio.sleep(0)
        return Sent(str(self.sent))

    async def echo(self, ref: ChatRef, echo: ChoiceEcho) -> None:
        return None

    async def edit(self, ref: ChatRef, message_id: str, message: OutMessage) -> None:
        return None

    def sustained_rate(self) -> tuple[float, int]:
        """Mean sends per full one-second bin (the last, partial bin left out)."""
        full = [self.bins[k] for k in range(max(self.bins, default=0))]
        return (statistics.fmean(full) if full else float(self.sent)), len(full)


async def seed(uow: UnitOfWorkFactory, clock: SystemClock, recipients: int) -> None:
    """People, identities and one outbox row each, written in chunks."""
    payload = message_to_payload(OutMessage("Kom og vær med i skoven lørdag kl. 10!"))
    for start in range(0, recipients, CHUNK):
        now = clock.now()
        count = min(CHUNK, recipients - start)
        async with uow() as work:
            result = await work.session.execute(
                insert(Person).returning(Person.id),
                [{"language": "da", "created_at": now, "updated_at": now} for _ in range(count)],
            )
            ids = list(result.scalars())
            await work.session.execute(
                insert(Identity),
                [
                    {
                        "person_id": person_id,
                        "platform": "telegram",
                        "user_id": str(person_id),
                        "chat_id": str(person_id),
                        "created_at": now,
                    }
                    for person_id in ids
                ],
            )
            await work.outbox.enqueue_many(
                [
                    {
                        "dedupe_key": f"invite:bench:{person_id}",
                        "person_id": person_id,
                        "platform": "telegram",
                        "chat_id": str(person_id),
                        "user_id": str(person_id),
                        "kind": "invitation",
                        "batch": "bc:bench",
                        "payload": payload,
                    }
                    for person_id in ids
                ]
            )
            await work.commit()


@dataclass
class Result:
    recipients: int
    seconds: float
    transport: FastTransport
    lags: LagHistogram
    peak_bytes: int | None


async def broadcast(recipients: int, limit: int, concurrency: int, *, trace_memory: bool) -> Result:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        await upgrade_to_head_async(url)
        clock = SystemClock()
        engine = create_engine(url)
        try:
            uow = UnitOfWorkFactory(create_sessionmaker(engine), clock)
            await seed(uow, clock, recipients)
            transport = FastTransport()
            worker = DeliveryWorker(
                transport,
                uow,
                clock,
                limits=RateLimits(per_second=limit, private_per_second=1),
                policy=DeliveryPolicy(concurrency=concurrency, batch_size=concurrency),
            )
            await worker.recover()  # as at start; not part of the broadcast
            lags = LagHistogram()
            done = asyncio.Event()

            async def ticker() -> None:
                while not done.is_set():
                    before = time.perf_counter()
                    await asyncio.sleep(TICK)
                    lags.add(time.perf_counter() - before - TICK)

            if trace_memory:
                gc.collect()  # start both sizes from the same clean heap
                tracemalloc.start()
                tracemalloc.reset_peak()
            ticking = asyncio.create_task(ticker())
            started = time.perf_counter()
            await worker.drain()
            seconds = time.perf_counter() - started
            done.set()
            await ticking
            peak = None
            if trace_memory:
                _current, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
            assert transport.sent == recipients, (transport.sent, recipients)
            return Result(recipients, seconds, transport, lags, peak)
        finally:
            await engine.dispose()


class LagHistogram:
    """Event-loop lags in 0.1 ms buckets, preallocated, so measuring costs no memory that
    grows with the length of the run (which would blur the memory figure)."""

    STEP = 0.0001
    BUCKETS = 10_000  # up to one second; anything later lands in the last bucket

    def __init__(self) -> None:
        self.counts = [0] * self.BUCKETS
        self.total = 0

    def add(self, lag: float) -> None:
        index = min(self.BUCKETS - 1, max(0, int(lag / self.STEP)))
        self.counts[index] += 1
        self.total += 1

    def percentile(self, share: float) -> float:
        wanted = share * self.total
        seen = 0
        for index, count in enumerate(self.counts):
            seen += count
            if count and seen >= wanted:
                return (index + 1) * self.STEP
        return 0.0


async def run(recipients: int, limit: int, concurrency: int, memory_limit: int) -> int:
    print(
        f"broadcast: {recipients:,} recipients, limit {limit:,}/s in any one-second window, "
        f"{concurrency} sends in flight",
        flush=True,
    )
    speed = await broadcast(recipients, limit, concurrency, trace_memory=False)
    rate, bins = speed.transport.sustained_rate()
    ratio = rate / limit
    largest = speed.transport.largest_window
    print(f"  wall time: {speed.seconds:.1f} s for {recipients:,} messages")
    print(
        f"  sustained rate ÷ configured limit: {ratio:.3f}  "
        f"({rate:,.0f}/s over {bins} full seconds; target ≥ 0.95)"
    )
    print(f"  largest count in any one-second window: {largest:,}  (limit {limit:,})")
    print(
        f"  event-loop lag during the broadcast: p99 {1000 * speed.lags.percentile(0.99):.1f} ms, "
        f"median {1000 * speed.lags.percentile(0.5):.1f} ms ({speed.lags.total} ticks of 10 ms)"
    )
    # Memory at a pace where even the small broadcast spans a few seconds: the per-chat
    # limits keep a second's worth of chats, so a run shorter than that would flatter it.
    small = await broadcast(recipients // 10, memory_limit, concurrency, trace_memory=True)
    large = await broadcast(recipients, memory_limit, concurrency, trace_memory=True)
    assert small.peak_bytes is not None
    assert large.peak_bytes is not None
    growth = large.peak_bytes / small.peak_bytes
    print(
        f"  peak memory (tracemalloc, at {memory_limit:,}/s): "
        f"{small.recipients:,} → {small.peak_bytes / 1e6:.2f} MB, "
        f"{large.recipients:,} → {large.peak_bytes / 1e6:.2f} MB  "
        f"(× {growth:.2f} for × 10 recipients; flat is ≈ 1)"
    )
    failed = largest > limit
    if failed:
        print("  FAILED: a one-second window went over the limit")
    if ratio < 0.95:
        print("  note: sustained rate below target (a busy machine, or a limit set too high)")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.broadcast")
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--limit", type=int, default=2_000, help="sends in any one second")
    parser.add_argument("--concurrency", type=int, default=128, help="sends in flight")
    parser.add_argument(
        "--memory-limit", type=int, default=500, help="the limit for the two memory runs"
    )
    args = parser.parse_args(argv)
    return asyncio.run(run(args.recipients, args.limit, args.concurrency, args.memory_limit))


if __name__ == "__main__":
    raise SystemExit(main())

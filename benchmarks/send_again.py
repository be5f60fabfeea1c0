"""Sending a broadcast again: what naming those in doubt and the one tap cost.

    python -m benchmarks.send_again [--recipients 3000] [--in-doubt 30,300,3000]
                                    [--limit 100] [--repeats 3]

A broadcast of `--recipients` invitations (each with its stored question, as `publish`
writes them) on a SQLite file, K of them `unknown`. Ratios against a baseline measured in
the same process, on the same kind of database:

- the progress report's read with the names (those in doubt, who blocked the bot) ÷ the
  same read with the counts only (what every tick did before), median of 50;
- a tap that sends K again (copies, a fresh question each, the event checked), as one
  transaction with its commit, ÷ storing K invitations the way a broadcast does
  (`broadcasts.broadcast`, in bulk): how long the tap holds the writer next to
  publishing to K people; median of `--repeats` fresh databases;
- the copies through the real worker to a fake platform that answers in 50-150 ms, at
  `--limit` a second: sustained rate ÷ limit, and the largest count in any one-second
  window (must not exceed the limit).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import random
import secrets
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, update

from bot.delivery import DeliveryPolicy, DeliveryWorker
from bot.i18n import catalogs
from bot.progress import Missing, Tally
from bot.rate_limit import RateLimits
from bot.transports.base import Dispatch
from conversations.core.messages import (
    ChatRef,
    Choice,
    ChoiceEcho,
    OutMessage,
    Sent,
    message_to_payload,
)
from conversations.core.services import Services
from conversations.events.rules.resending import send_again
from storage.clock import SystemClock
from storage.db import create_engine, create_sessionmaker
from storage.migrate import upgrade_to_head_async
from storage.models import Identity, OutboxMessage, OutboxStatus, Person
from storage.unit_of_work import UnitOfWorkFactory

BATCH = "bc:1"
CHUNK = 500
CHOICES = tuple(Choice(c, c.capitalize()) for c in ("yes", "maybe", "no", "details", "calendar"))


@dataclass
class SlowPlatform:
    """Answers each send after 50-150 ms, like a platform across the internet; counts sends
    in one-second bins and in a sliding one-second window."""

    platform: str = "telegram"
    sent: int = 0
    largest_window: int = 0
    first: float | None = None
    bins: collections.Counter[int] = field(default_factory=collections.Counter)
    _window: collections.deque[float] = field(default_factory=collections.deque)
    _rng: random.Random = field(default_factory=lambda: random.Random(5))

    async def run(self, dispatch: Dispatch) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def send(self, ref: ChatRef, message: OutMessage) -> Sent:
        now = time.monotonic()  # the request reaches the platform as it leaves us
        self.first = now if self.first is None else self.first
        self._window.append(now)
        while self._window[0] <= now - 1.0:
            self._window.popleft()
        self.largest_window = max(self.largest_window, len(self._window))
        self.bins[int(now - self.first)] += 1
        self.sent += 1
        await asyncio.sleep(self._rng.uniform(0.05, 0.15))
        return Sent(str(self.sent))

    async def echo(self, ref: ChatRef, echo: ChoiceEcho) -> None:
        return None

    async def edit(self, ref: ChatRef, message_id: str, message: OutMessage) -> None:
        await asyncio.sleep(self._rng.uniform(0.05, 0.15))

    def sustained_rate(self) -> float:
        full = [self.bins[k] for k in range(max(self.bins, default=0))]
        return statistics.fmean(full) if full else float(self.sent)


@dataclass
class Setup:
    uow: UnitOfWorkFactory
    clock: SystemClock
    event_id: int
    coordinator: int
    people: list[int]


async def seed(uow: UnitOfWorkFactory, clock: SystemClock, recipients: int) -> Setup:
    """A coordinator's published event and its broadcast: a question and a row each."""
    now = clock.now()
    async with uow() as work:
        coordinator = (
            await work.session.execute(
                insert(Person).returning(Person.id),
                [{"language": "da", "display_name": "Kim", "created_at": now, "updated_at": now}],
            )
        ).scalar_one()
        event = await work.events.create(
            title="Skovtur",
            starts_at=now + timedelta(days=5),
            status="published",
            created_by_id=coordinator,
        )
        await work.batches.create(
            BATCH,
            kind="invitation",
            reporter=ChatRef("telegram", "kim", "kim"),
            reporter_person_id=coordinator,
            total=recipients,
        )
        await work.commit()
    people: list[int] = []
    for start in range(0, recipients, CHUNK):
        count = min(CHUNK, recipients - start)
        async with uow() as work:
            ids = list(
                (
                    await work.session.execute(
                        insert(Person).returning(Person.id),
                        [
                            {
                                "language": "da",
                                "display_name": f"Person {start + i}",
                                "created_at": now,
                                "updated_at": now,
                            }
                            for i in range(count)
                        ],
                    )
                ).scalars()
            )
            await work.session.execute(insert(Identity), [identity(p, now) for p in ids])
            prompts, rows = invitations(ids, event.id, now)
            await work.broadcasts.broadcast(prompts=prompts, outbox=rows, invitations=[])
            await work.commit()
        people += ids
    return Setup(uow, clock, event.id, coordinator, people)


def identity(person_id: int, now: Any) -> dict[str, Any]:
    return {
        "person_id": person_id,
        "platform": "telegram",
        "user_id": str(person_id),
        "chat_id": str(person_id),
        "created_at": now,
    }


def invitations(
    ids: list[int], event_id: int, now: Any, batch: str = BATCH
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    prompts, rows = [], []
    stored = [choice.as_record() for choice in CHOICES]
    for person_id in ids:
        prompt_id = secrets.token_urlsafe(6)
        prompts.append(
            {
                "id": prompt_id,
                "platform": "telegram",
                "chat_id": str(person_id),
                "user_id": str(person_id),
                "person_id": person_id,
                "flow": "rsvp",
                "state": "invite",
                "choices": stored,
                "context": {"event_id": event_id, "kind": "invite"},
                "bound": False,
                "created_at": now,
            }
        )
        text = "🌿 Skovtur\n\nKom med i skoven!"
        message = OutMessage(text, choices=CHOICES, prompt_id=prompt_id)
        rows.append(
            {
                "dedupe_key": f"invite:{batch}:{person_id}",
                "person_id": person_id,
                "platform": "telegram",
                "chat_id": str(person_id),
                "user_id": str(person_id),
                "kind": "invitation",
                "batch": batch,
                "payload": message_to_payload(message),
                "status": OutboxStatus.PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
        )
    return prompts, rows


async def mark(setup: Setup, people: list[int], status: OutboxStatus) -> None:
    async with setup.uow() as work:
        await work.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.batch == BATCH, OutboxMessage.person_id.in_(people))
            .values(status=status)
        )
        await work.commit()


async def timed(action: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await action()
    return time.perf_counter() - started


async def with_database(work: Callable[[UnitOfWorkFactory, SystemClock], Awaitable[Any]]) -> Any:
    """`work` on a fresh, migrated SQLite file."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        await upgrade_to_head_async(url)
        engine = create_engine(url)
        clock = SystemClock()
        try:
            return await work(UnitOfWorkFactory(create_sessionmaker(engine), clock), clock)
        finally:
            await engine.dispose()


async def report_read(recipients: int, in_doubt: int) -> tuple[float, float]:
    """Median seconds of a tick's read: counts only, and counts with the names."""

    async def work(uow: UnitOfWorkFactory, clock: SystemClock) -> tuple[float, float]:
        setup = await seed(uow, clock, recipients)
        await mark(setup, setup.people[:in_doubt], OutboxStatus.UNKNOWN)
        await mark(setup, setup.people[-max(1, in_doubt // 10) :], OutboxStatus.BLOCKED)

        async def counts_only() -> None:
            async with uow() as work:
                Tally.of(await work.outbox.counts(BATCH))

        async def with_names() -> None:
            async with uow() as work:
                tally = Tally.of(await work.outbox.counts(BATCH))
                await Missing.of(work, BATCH, tally)

        base, names = [], []
        for _ in range(50):
            base.append(await timed(counts_only))
            names.append(await timed(with_names))
        return statistics.median(base), statistics.median(names)

    result: tuple[float, float] = await with_database(work)
    return result


@dataclass
class TapResult:
    tap: float
    baseline: float
    delivery: SlowPlatform | None = None


async def tap(recipients: int, in_doubt: int, limit: int, deliver: bool) -> TapResult:
    async def work(uow: UnitOfWorkFactory, clock: SystemClock) -> TapResult:
        setup = await seed(uow, clock, recipients)
        await mark(setup, setup.people, OutboxStatus.SENT)
        await mark(setup, setup.people[:in_doubt], OutboxStatus.UNKNOWN)

        async def publish_like() -> None:
            async with uow() as work:
                people = setup.people[:in_doubt]
                prompts, rows = invitations(people, setup.event_id, clock.now(), "b")
                await work.broadcasts.broadcast(prompts=prompts, outbox=rows, invitations=[])
                await work.commit()

        async def send_it_again() -> None:
            async with uow() as work:
                batch = await work.batches.get(BATCH)
                assert batch is not None
                services = Services(work, catalogs(), "Europe/Copenhagen", clock)
                resent = await send_again(services, batch)
                await work.commit()
            assert resent.sent == in_doubt, resent

        baseline = await timed(publish_like)
        result = TapResult(await timed(send_it_again), baseline)
        if deliver:
            await mark_sent_elsewhere(setup)
            result.delivery = await deliver_copies(uow, clock, limit)
            assert result.delivery.sent == in_doubt, result.delivery.sent
        return result

    outcome: TapResult = await with_database(work)
    return outcome


async def mark_sent_elsewhere(setup: Setup) -> None:
    """The baseline's rows are not part of the copies' delivery."""
    async with setup.uow() as work:
        await work.session.execute(
            update(OutboxMessage).where(OutboxMessage.batch == "b").values(status="sent")
        )
        await work.commit()


async def deliver_copies(uow: UnitOfWorkFactory, clock: SystemClock, limit: int) -> SlowPlatform:
    platform = SlowPlatform()
    worker = DeliveryWorker(
        platform,
        uow,
        clock,
        limits=RateLimits(per_second=limit, private_per_second=1),
        policy=DeliveryPolicy(concurrency=32, batch_size=32),
    )
    await worker.drain()
    return platform


async def run(recipients: int, in_doubt: list[int], limit: int, repeats: int) -> int:
    print(f"send_again: a broadcast of {recipients:,} invitations on SQLite", flush=True)
    base, names = await report_read(recipients, max(1, recipients // 100))
    print(
        f"  progress read with names ÷ counts only: {names / base:.2f}  "
        f"({1000 * names:.2f} ms vs {1000 * base:.2f} ms, {recipients // 100} in doubt)"
    )
    failed = 0
    for k in [k for k in in_doubt if k <= recipients]:
        runs = [await tap(recipients, k, limit, deliver=False) for _ in range(repeats)]
        taps = statistics.median(r.tap for r in runs)
        bases = statistics.median(r.baseline for r in runs)
        print(
            f"  tap to send {k:,} again ÷ storing {k:,} invitations in bulk: {taps / bases:.2f}  "
            f"({1000 * taps:.1f} ms vs {1000 * bases:.1f} ms, median of {repeats})"
        )
    k = min(recipients, max(1, 3 * limit))
    delivered = await tap(recipients, k, limit, deliver=True)
    assert delivered.delivery is not None
    rate = delivered.delivery.sustained_rate()
    largest = delivered.delivery.largest_window
    print(
        f"  {k:,} copies to a platform answering in 50-150 ms: sustained rate ÷ limit "
        f"{rate / limit:.3f} ({rate:.0f}/s), largest one-second window {largest} "
        f"(limit {limit})"
    )
    if largest > limit:
        print("  FAILED: a one-second window went over the limit")
        failed = 1
    return failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.send_again")
    parser.add_argument("--recipients", type=int, default=3_000)
    parser.add_argument("--in-doubt", default="30,300,3000", help="Ks to send again, by commas")
    parser.add_argument("--limit", type=int, default=100, help="sends in any one second")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    ks = [int(k) for k in args.in_doubt.split(",") if k.strip()]
    return asyncio.run(run(args.recipients, ks, args.limit, args.repeats))


if __name__ == "__main__":
    raise SystemExit(main())

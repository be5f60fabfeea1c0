"""One rate budget per platform across processes, on a real PostgreSQL: slots handed to two
processes (separate engines) together never exceed the platform's limit in any second, nor a
chat's; replies are never refused."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from types import TracebackType

import pytest
from sqlalchemy import text

from bot.rate_limit import RateLimiter, RateLimits, request_written
from bot.shared_budget import (
    AHEAD_SLOTS,
    CATCH_UP_SLOTS,
    MARGIN,
    SharedBudget,
    _open_ring_row,
)
from bot.timing import RealSleeper
from storage.clock import FrozenClock
from storage.unit_of_work import UnitOfWork, UnitOfWorkFactory
from tests.conftest import _empty_all_tables
from tests.fault_transport import Database, max_in_window

pytestmark = pytest.mark.postgres

LIMITS = RateLimits(per_second=30, private_per_second=1, group_per_minute=20, group_prefix="-")


@pytest.fixture
async def two(postgres_url: str, clock: FrozenClock) -> AsyncIterator[tuple[Database, Database]]:
    await asyncio.to_thread(asyncio.run, _empty_all_tables(postgres_url))
    first, second = Database(postgres_url, clock), Database(postgres_url, clock)
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


def budgets(two: tuple[Database, Database]) -> list[SharedBudget]:
    return [SharedBudget(db.uow, "telegram", LIMITS, RealSleeper()) for db in two]


async def database_now(db: Database) -> float:
    """Now on the database's clock, the one slots are given in."""
    async with db.uow() as uow:
        now = await uow.session.execute(text("SELECT EXTRACT(EPOCH FROM clock_timestamp())"))
        return float(now.scalar_one())


async def test_two_processes_together_keep_the_platform_limit(
    two: tuple[Database, Database],
) -> None:
    slots: list[float] = []

    async def send_many(budget: SharedBudget, prefix: str) -> None:
        for i in range(45):
            slots.append(await budget.take(f"{prefix}{i}", urgent=False))

    await asyncio.gather(*(send_many(b, p) for b, p in zip(budgets(two), "ab", strict=True)))
    assert len(slots) == 90
    # the margin for the lag to the platform comes on top of the platform's second
    assert max_in_window(sorted(slots), 1.0 + MARGIN) <= LIMITS.per_second
    assert len(set(slots)) == 90  # no slot handed out twice


async def test_one_chat_gets_one_message_a_second_whichever_process_sends(
    two: tuple[Database, Database],
) -> None:
    slots: list[float] = []

    async def send_to_the_same_chat(budget: SharedBudget) -> None:
        for _ in range(3):
            slots.append(await budget.take("4711", urgent=False))

    await asyncio.gather(*(send_to_the_same_chat(b) for b in budgets(two)))
    ordered = sorted(slots)
    assert all(b - a >= 1.0 for a, b in itertools.pairwise(ordered))


async def test_a_reply_is_never_refused_nor_queued_behind_a_broadcast(
    two: tuple[Database, Database],
) -> None:
    broadcast, replies = budgets(two)
    booked: list[float] = []
    stop = asyncio.Event()

    async def broadcasting() -> None:
        n = 0
        while not stop.is_set():
            booked.append(await broadcast.take(f"b{n}", urgent=False))
            n += 1

    running = asyncio.create_task(broadcasting())
    for _ in range(10):  # the broadcast has the budget to itself for a while
        await asyncio.sleep(0.05)
    asked_at = await database_now(two[1])
    reply_at = await replies.take("4711", urgent=True)
    stop.set()
    await running
    assert replies.retries == 0  # never refused
    ahead_of_it = [at for at in booked if asked_at <= at < reply_at]
    assert len(ahead_of_it) <= AHEAD_SLOTS + 1  # only what was booked when it asked
    # and counted in its chat: a broadcast to the same chat waits its second
    assert await broadcast.take("4711", urgent=False) >= reply_at + 1.0


async def test_the_limiter_takes_shared_slots_for_every_request(
    two: tuple[Database, Database],
) -> None:
    first, second = budgets(two)
    limiter = RateLimiter(LIMITS, RealSleeper())
    limiter.share(first)
    before = await database_now(two[0])
    with limiter.push("12", urgent=True) as push:
        await limiter.ready(push)
        await limiter.before_request()  # the first request: the slot taken in `ready`
        await limiter.before_request()  # a second request of the same message
    await limiter.before_request()  # a request of nobody's (an edit)
    assert first.taken == 3
    # the other process sees the chat's slot taken: its next one is a chat's spacing after a
    # slot taken no sooner than `before` (measured from `before`, not from another chat's
    # slot: a loaded machine can stall a second between two takes)
    assert await second.take("12", urgent=False) >= before + 1.0


async def test_a_sender_that_lagged_gets_back_the_slots_it_missed(
    two: tuple[Database, Database],
) -> None:
    first, _ = budgets(two)
    waits = CountedWaits()
    second = SharedBudget(two[1].uow, "telegram", LIMITS, waits)
    await first.take("1", urgent=False)
    await asyncio.sleep(0.5)  # a busy moment: about a dozen slots went by unused
    slots: list[float] = []
    waited: list[bool] = []
    for n in range(CATCH_UP_SLOTS + 2):
        before = waits.count
        slots.append(await second.take(f"c{n}", urgent=False))
        waited.append(waits.count > before)
    # a few of them at once (without waiting a pace between them), then at the pace again
    # (the slots' moments are not compared for "at once": on a loaded machine each
    # transaction can take longer than a pace)
    assert not any(waited[: CATCH_UP_SLOTS + 1])
    assert slots[-1] - slots[0] >= first.spacing * 0.99


class CountedWaits(RealSleeper):
    """Counts the waits for a slot."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    async def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.count += 1
        await super().sleep(seconds)


async def test_the_ring_holds_the_window_when_everyone_catches_up(
    two: tuple[Database, Database],
) -> None:
    """Replies (never refused) and broadcasts from two processes, after a pause: however
    they bunch, no window of 1 s plus the margin holds more than the limit."""
    first, second = budgets(two)
    slots: list[float] = []

    async def sending(budget: SharedBudget, prefix: str, urgent: bool) -> None:
        for n in range(40):
            slots.append(await budget.take(f"{prefix}{n}", urgent=urgent))

    await asyncio.gather(
        sending(first, "a", False), sending(second, "b", False), sending(second, "r", True)
    )
    assert len(slots) == 120
    assert max_in_window(sorted(slots), 1.0 + MARGIN) <= LIMITS.per_second


class CountedUnit(UnitOfWork):
    def __init__(self, factory: CountingUnits) -> None:
        super().__init__(factory.sessionmaker, factory.clock)
        self._factory = factory

    async def __aenter__(self) -> UnitOfWork:
        self._factory.open += 1
        self._factory.most = max(self._factory.most, self._factory.open)
        return await super().__aenter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await super().__aexit__(exc_type, exc, tb)
        finally:
            self._factory.open -= 1


class CountingUnits(UnitOfWorkFactory):
    """Counts the units of work (transactions) open at once."""

    def __init__(self, db: Database) -> None:
        super().__init__(db.uow.sessionmaker, db.uow.clock)
        self.open = 0
        self.most = 0

    def __call__(self) -> UnitOfWork:
        return CountedUnit(self)


async def test_a_process_books_one_reply_at_a_time(two: tuple[Database, Database]) -> None:
    """A burst of replies in one process: each booking holds the platform's pace row until
    it commits, so they book one at a time instead of all queueing on that row's lock (with
    every other process's sends behind them); each still gets a slot of its own."""
    first, _ = two
    units = CountingUnits(first)
    budget = SharedBudget(units, "telegram", LIMITS, RealSleeper())
    slots = await asyncio.gather(*(budget.take(f"r{n}", urgent=True) for n in range(20)))
    assert units.most == 1
    assert len(set(slots)) == 20


class LateRiser(RealSleeper):
    """A process not scheduled in time: every wait ends 100 ms late."""

    async def sleep(self, seconds: float) -> None:
        await super().sleep(seconds + 0.1)


async def test_a_send_later_than_its_slot_holds_its_row_from_when_it_went(
    two: tuple[Database, Database],
) -> None:
    first, _ = two
    budget = SharedBudget(first.uow, "telegram", LIMITS, LateRiser())
    await budget.take("1", urgent=False)  # the first slot, at once: not late
    slot = await budget.take("2", urgent=False)  # a pace away: its wait ends 100 ms late
    assert budget.late == 1
    async with first.uow() as uow:
        moments = (
            await uow.session.execute(
                text("SELECT next_free FROM rate_budget WHERE scope LIKE '~%'")
            )
        ).scalars()
        latest = max(float(m) for m in moments)
    # its row's next send is a whole window after the moment it really went
    assert latest >= slot + 0.09


class OneStall(RealSleeper):
    """A process not scheduled for 600 ms, once: in its first wait for a slot."""

    def __init__(self) -> None:
        super().__init__()
        self.stalled = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        if seconds > 0 and not self.stalled.is_set():
            self.stalled.set()
            seconds += 0.6
        await super().sleep(seconds)


async def test_a_slot_whose_row_was_booked_again_while_it_was_late_is_given_up(
    two: tuple[Database, Database],
) -> None:
    """While one process oversleeps its slot, the other's replies (which book the next row
    to free up, free yet or not) book that row again a window after the slot: the late send
    takes another slot rather than go less than a window before that one."""
    first, second = two
    stall = OneStall()
    stalling = SharedBudget(first.uow, "telegram", LIMITS, stall)
    replying = SharedBudget(second.uow, "telegram", LIMITS, RealSleeper())
    sends: dict[str, list[float]] = defaultdict(list)

    async def send(budget: SharedBudget, chat: str, *, urgent: bool) -> None:
        await budget.take(chat, urgent=urgent)
        opened = _open_ring_row.get()
        assert opened is not None
        sends[opened[0]].append(time.time())  # the database's clock is the machine's

    await send(stalling, "a0", urgent=False)
    late = asyncio.create_task(send(stalling, "a1", urgent=False))  # a pace away: stalls
    await stall.stalled.wait()
    await asyncio.gather(*(send(replying, f"r{n}", urgent=True) for n in range(60)))
    await late
    assert stalling.given_up == 1
    # no row's two sends less than the platform's second apart (a window is that plus the
    # margin for their lag to the platform)
    gaps = [b - a for times in sends.values() for a, b in itertools.pairwise(sorted(times))]
    assert len(gaps) >= 30
    assert min(gaps) >= 1.0


async def test_a_request_written_late_holds_its_row_from_when_it_was_written(
    two: tuple[Database, Database],
) -> None:
    """The slot was on time, but the request left only 100 ms later (its HTTP client waited
    for a connection): the ring's row holds from when it was written."""
    first, _ = two
    budget = SharedBudget(first.uow, "telegram", LIMITS, RealSleeper())
    limiter = RateLimiter(LIMITS, RealSleeper())
    limiter.share(budget)
    with limiter.push("12", urgent=False) as push:
        await limiter.ready(push)
        await limiter.before_request()
        slot = await latest_ring_moment(first)
        await asyncio.sleep(0.1)
        request_written()
    await budget.settled()
    assert budget.late >= 1
    assert await latest_ring_moment(first) >= slot + 0.09


async def latest_ring_moment(db: Database) -> float:
    async with db.uow() as uow:
        moments = (
            await uow.session.execute(
                text("SELECT next_free FROM rate_budget WHERE scope LIKE '~%'")
            )
        ).scalars()
        return max(float(m) for m in moments)

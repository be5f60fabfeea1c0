"""A worker that dies mid-broadcast, and two workers on one database.

After a crash only what was on the wire is in doubt: rows claimed but not yet sent go back in
the queue and are delivered by the next worker; rows whose request had begun become
`unknown` (counted, reported, never resent by themselves). Checked against what actually
arrived, per recipient: nothing twice, nothing lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.delivery import DeliveryPolicy, DeliveryWorker
from bot.rate_limit import RateLimits
from bot.timing import ClockSleeper
from conversations.core.messages import ChatRef
from storage.clock import FrozenClock
from storage.migrate import upgrade_to_head_async
from storage.models import OutboxMessage, OutboxStatus
from tests.fault_transport import Database, FaultTransport, enqueue_broadcast, seed_people

ROOT = Path(__file__).resolve().parent.parent
LIMITS = RateLimits(per_second=25, private_per_second=1)


@pytest.fixture
async def url(tmp_path: Path) -> str:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'outbox.db'}"
    await upgrade_to_head_async(database_url)
    return database_url


@pytest.fixture
async def db(url: str, clock: FrozenClock) -> AsyncIterator[Database]:
    database = Database(url, clock)
    yield database
    await database.close()


def worker_for(db: Database, transport: FaultTransport, clock: FrozenClock) -> DeliveryWorker:
    return DeliveryWorker(
        transport,
        db.uow,
        clock,
        limits=LIMITS,
        policy=DeliveryPolicy(concurrency=8),
        sleeper=ClockSleeper(clock),
    )


def check_exactly_once(
    rows: list[OutboxMessage], arrived: Counter[str], recovered: int, *, on_the_wire: set[str]
) -> None:
    """Nothing sent twice, nothing lost; the unknowns are exactly the rows whose request had
    begun when the process died (`on_the_wire`), and an unknown that arrived is not lost."""
    assert {user: n for user, n in arrived.items() if n > 1} == {}
    statuses = Counter(row.status for row in rows)
    assert set(statuses) <= {OutboxStatus.SENT, OutboxStatus.UNKNOWN}, statuses
    assert statuses[OutboxStatus.UNKNOWN] == recovered
    for row in rows:
        if row.status == OutboxStatus.SENT:
            assert arrived[row.user_id] == 1, row.user_id
        else:
            assert row.user_id in on_the_wire, f"{row.user_id} was unknown but never sent"
    # a claimed row that never went out is sent after the restart; only a request that had
    # begun when the process died may have been lost on its way
    lost = [r.user_id for r in rows if not arrived[r.user_id]]
    assert set(lost) <= {r.user_id for r in rows if r.status == OutboxStatus.UNKNOWN}


async def test_a_worker_cancelled_mid_broadcast_then_restarted(
    url: str, db: Database, clock: FrozenClock
) -> None:
    people = await seed_people(db.uow, clock, 300)
    await enqueue_broadcast(db.uow, people, batch="bc:1")
    crashed = asyncio.Event()
    never = asyncio.Event()
    hung: list[str] = []

    async def hang_after_120(ref: ChatRef) -> None:
        if first.arrived.total() == 120:
            hung.append(ref.user_id)
            crashed.set()
            await never.wait()  # arrived, but the process dies before hearing back

    first = FaultTransport(clock, on_send=hang_after_120)
    task = asyncio.create_task(worker_for(db, first, clock).run())
    await asyncio.wait_for(crashed.wait(), timeout=60)
    task.cancel()  # the process is gone: no outcome written after this
    with contextlib.suppress(asyncio.CancelledError):
        await task
    statuses = await db.statuses()
    caught = statuses[OutboxStatus.ATTEMPTING]
    assert 1 <= caught <= 8  # only the few rows on the wire are in doubt
    assert statuses[OutboxStatus.SENDING] + caught <= 8  # claimed: never more than in flight
    await db.close()

    restarted = Database(url, clock)  # a new process
    try:
        second = FaultTransport(clock)
        worker = worker_for(restarted, second, clock)
        await worker.drain(follow_future=True)
        rows = await restarted.rows()
    finally:
        await restarted.close()

    assert worker.stats.recovered_unknown == caught
    assert first.arrived.total() >= 120
    check_exactly_once(
        rows, first.arrived + second.arrived, recovered=caught, on_the_wire=set(first.attempts)
    )
    [hung_user] = hung
    assert next(r for r in rows if r.user_id == hung_user).status == OutboxStatus.UNKNOWN
    assert second.arrived.total() > 0


async def test_a_worker_killed_with_sigkill_mid_broadcast_then_restarted(
    url: str, db: Database, clock: FrozenClock, tmp_path: Path
) -> None:
    people = await seed_people(db.uow, clock, 400)
    await enqueue_broadcast(db.uow, people, batch="bc:1")
    deliveries = tmp_path / "deliveries.txt"
    starts = tmp_path / "starts.txt"
    deliveries.touch()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.outbox_child",
        url,
        str(deliveries),
        str(starts),
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while len(deliveries.read_text().split()) < 100:
            assert child.returncode is None, "the worker process ended by itself"
            assert time.monotonic() < deadline, "the worker process sent nothing"
            await asyncio.sleep(0.01)
        child.send_signal(signal.SIGKILL)
    finally:
        with contextlib.suppress(ProcessLookupError):
            child.kill()
        await child.wait()
    first = Counter(deliveries.read_text().split())
    started = set(starts.read_text().split())
    assert first.total() < 400  # killed mid-broadcast
    statuses = await db.statuses()
    caught = statuses[OutboxStatus.ATTEMPTING]
    assert statuses[OutboxStatus.SENDING] + caught <= 8  # at most what was in flight
    marked = {r.user_id for r in await db.rows() if r.status == OutboxStatus.ATTEMPTING}

    second = FaultTransport(clock)
    worker = worker_for(db, second, clock)
    await worker.drain(follow_future=True)

    assert worker.stats.recovered_unknown == caught
    rows = await db.rows()
    unknown = {r.user_id for r in rows if r.status == OutboxStatus.UNKNOWN}
    # in doubt are exactly the rows marked as going on the wire when the process died;
    # whether each got there, the platform knows: the ones that did are not lost, and no
    # other row may be missing. (One killed between its mark and its request never began:
    # the bot cannot tell it from one that arrived, so it is in doubt too.)
    assert unknown == marked
    check_exactly_once(rows, first + second.arrived, recovered=caught, on_the_wire=started | marked)


async def test_two_workers_on_one_database_never_send_the_same_message(
    url: str, db: Database, clock: FrozenClock
) -> None:
    people = await seed_people(db.uow, clock, 400)
    await enqueue_broadcast(db.uow, people, batch="bc:1")
    other = Database(url, clock)  # a second process on the same database
    # one platform, seen by two processes that each keep their own limits
    shared = FaultTransport(clock, per_second=2 * LIMITS.per_second, private_per_second=2)
    one, two = worker_for(db, shared, clock), worker_for(other, shared, clock)
    try:
        await asyncio.gather(one.drain(follow_future=True), two.drain(follow_future=True))
    finally:
        await other.close()

    assert shared.duplicates() == {}
    assert shared.arrived.total() == 400
    assert one.stats[OutboxStatus.SENT] > 0
    assert two.stats[OutboxStatus.SENT] > 0
    assert one.stats[OutboxStatus.SENT] + two.stats[OutboxStatus.SENT] == 400
    assert (await db.statuses()) == {OutboxStatus.SENT: 400}


async def test_a_row_is_claimed_by_one_worker_only(
    url: str, db: Database, clock: FrozenClock
) -> None:
    people = await seed_people(db.uow, clock, 3)
    await enqueue_broadcast(db.uow, people, batch=None)
    other = Database(url, clock)
    try:
        async with db.uow() as uow:
            ids = [m.id for m in await uow.delivery.due("telegram", clock.now(), 10)]
        async with other.uow() as uow:
            assert len(await uow.delivery.due("telegram", clock.now(), 10)) == 3  # seen by both
        async with db.uow() as uow:
            mine = await uow.delivery.claim(ids[:2])
            await uow.commit()
        async with other.uow() as uow:
            theirs = await uow.delivery.claim(ids)
            await uow.commit()
    finally:
        await other.close()
    assert [m.id for m in mine] == ids[:2]
    assert [m.id for m in theirs] == ids[2:]

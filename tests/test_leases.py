"""Several processes on one PostgreSQL: leases on claimed rows, and scheduled jobs one process
holds at a time.

A claimed row carries its owner and a lease expiry; recovery touches it only once the owner's
lease has run out. Checked on a real PostgreSQL with separate engines (one a process), then
with real processes, one of them killed with SIGKILL mid-broadcast.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.delivery import DeliveryWorker
from bot.i18n import catalogs
from bot.leases import ProcessLease
from bot.rate_limit import RateLimits
from bot.scheduler import EventJobs, Housekeeping
from bot.timing import ClockSleeper
from storage.clock import FrozenClock
from storage.models import OutboxMessage, OutboxStatus
from storage.repositories.outbox import Recovered
from tests.conftest import _empty_all_tables
from tests.fault_transport import Database, FaultTransport, enqueue_broadcast, seed_people

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parent.parent
LEASE = 15.0


@pytest.fixture
def pg(postgres_url: str) -> str:
    asyncio.run(_empty_all_tables(postgres_url))
    return postgres_url


@pytest.fixture
async def two(pg: str, clock: FrozenClock) -> AsyncIterator[tuple[Database, Database]]:
    """Two processes' views of one database: an engine each."""
    first, second = Database(pg, clock), Database(pg, clock)
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


def worker_for(db: Database, clock: FrozenClock, lease: ProcessLease) -> DeliveryWorker:
    return DeliveryWorker(
        FaultTransport(clock),
        db.uow,
        clock,
        limits=RateLimits(per_second=25),
        sleeper=ClockSleeper(clock),
        lease=lease,
    )


async def hold_rows(db: Database, lease: ProcessLease, *, claim: int, attempt: int) -> list[int]:
    """What a live worker holds mid-broadcast: `claim` rows claimed, the first `attempt` of
    them on the wire."""
    async with db.uow() as uow:
        due = await uow.delivery.due("telegram", db.uow.clock.now(), claim)
        claimed = await uow.delivery.claim([m.id for m in due], lease.current())
        await uow.commit()
    ids = [m.id for m in claimed]
    async with db.uow() as uow:
        await uow.delivery.attempt(ids[:attempt], [], lease.current())
        await uow.commit()
    return ids


async def test_a_process_started_mid_broadcast_relabels_nothing_a_live_process_holds(
    two: tuple[Database, Database], clock: FrozenClock
) -> None:
    a, b = two
    await enqueue_broadcast(a.uow, await seed_people(a.uow, clock, 6), batch="bc:1")
    lease_a = ProcessLease(a.uow, clock, seconds=LEASE)
    await lease_a.renew()
    held = await hold_rows(a, lease_a, claim=4, attempt=2)

    rows = {r.id: r for r in await b.rows()}
    assert {rows[i].owner for i in held} == {lease_a.id}
    assert {rows[i].lease_expires_at for i in held} == {clock.now() + timedelta(seconds=LEASE)}

    lease_b = ProcessLease(b.uow, clock, seconds=LEASE)
    await lease_b.renew()
    newcomer = worker_for(b, clock, lease_b)
    assert await newcomer.recover() == Recovered(requeued=0, unsure=0)
    clock.advance(timedelta(seconds=LEASE - 1))
    assert await newcomer.recover() == Recovered(requeued=0, unsure=0)
    assert await b.statuses() == Counter(
        {OutboxStatus.PENDING: 2, OutboxStatus.SENDING: 2, OutboxStatus.ATTEMPTING: 2}
    )


async def test_a_heartbeat_never_waits_for_a_row_being_written(
    two: tuple[Database, Database], clock: FrozenClock
) -> None:
    """A heartbeat that waited for a row its own worker was writing, while holding the
    locks of the others, deadlocked against that worker's update of several rows."""
    a, b = two
    await enqueue_broadcast(a.uow, await seed_people(a.uow, clock, 6), batch="bc:1")
    lease_a = ProcessLease(a.uow, clock, seconds=LEASE)
    await lease_a.renew()
    held = await hold_rows(a, lease_a, claim=4, attempt=2)
    first = clock.now() + timedelta(seconds=LEASE)
    clock.advance(timedelta(seconds=10))
    async with b.uow() as writing:  # a's worker, mid-transaction on one of its rows
        await writing.session.execute(
            select(OutboxMessage.id).where(OutboxMessage.id == held[0]).with_for_update()
        )
        # without skipping it, this waits for the lock until the transaction above ends
        await asyncio.wait_for(lease_a.renew(), timeout=30)
        await writing.rollback()
    leases = {r.id: r.lease_expires_at for r in await b.rows()}
    assert leases[held[0]] == first
    assert {leases[i] for i in held[1:]} == {clock.now() + timedelta(seconds=LEASE)}
    await lease_a.renew()  # the next beat renews it too
    assert {r.lease_expires_at for r in await b.rows() if r.id in held} == {
        clock.now() + timedelta(seconds=LEASE)
    }


async def test_a_dead_process_rows_are_taken_over_once_its_lease_runs_out(
    two: tuple[Database, Database], clock: FrozenClock
) -> None:
    a, b = two
    await enqueue_broadcast(a.uow, await seed_people(a.uow, clock, 6), batch="bc:1")
    lease_a = ProcessLease(a.uow, clock, seconds=LEASE)
    await lease_a.renew()
    await hold_rows(a, lease_a, claim=4, attempt=1)
    lease_b = ProcessLease(b.uow, clock, seconds=LEASE)
    survivor = worker_for(b, clock, lease_b)

    clock.advance(timedelta(seconds=10))
    await lease_a.renew()  # a heartbeat: the rows' leases move with it
    await lease_b.renew()
    clock.advance(timedelta(seconds=10))
    assert await survivor.recover() == Recovered(requeued=0, unsure=0)

    # a dies here: no more heartbeats
    clock.advance(timedelta(seconds=LEASE - 10 + 0.001))
    await lease_b.renew()
    assert await survivor.recover() == Recovered(requeued=3, unsure=1)
    await survivor.drain()
    assert await b.statuses() == Counter({OutboxStatus.SENT: 5, OutboxStatus.UNKNOWN: 1})
    assert survivor.stats.recovered_unknown == 1


async def test_a_process_whose_lease_ran_out_cannot_send_the_rows_taken_over(
    two: tuple[Database, Database], clock: FrozenClock
) -> None:
    a, b = two
    await enqueue_broadcast(a.uow, await seed_people(a.uow, clock, 3), batch="bc:1")
    lease_a = ProcessLease(a.uow, clock, seconds=LEASE)
    await lease_a.renew()
    held = await hold_rows(a, lease_a, claim=3, attempt=0)
    clock.advance(timedelta(seconds=LEASE + 1))  # a stalled longer than its lease
    lease_b = ProcessLease(b.uow, clock, seconds=LEASE)
    await lease_b.renew()
    assert await worker_for(b, clock, lease_b).recover() == Recovered(requeued=3, unsure=0)
    async with b.uow() as uow:
        taken = await uow.delivery.claim(held, lease_b.current())
        await uow.commit()
    assert [m.id for m in taken] == held

    await lease_a.renew()  # a wakes up again
    async with a.uow() as uow:
        assert await uow.delivery.attempt(held, [], lease_a.current()) == set()
        await uow.commit()
    async with b.uow() as uow:
        assert await uow.delivery.attempt(held, [], lease_b.current()) == set(held)
        await uow.commit()


async def test_two_processes_take_different_rows_from_the_head_of_the_queue(
    two: tuple[Database, Database], clock: FrozenClock
) -> None:
    a, b = two
    await enqueue_broadcast(a.uow, await seed_people(a.uow, clock, 10), batch="bc:1")
    async with a.uow() as first:
        mine = await first.delivery.due("telegram", clock.now(), 4)  # locked until commit
        async with b.uow() as second:
            theirs = await second.delivery.due("telegram", clock.now(), 4)
            got = await second.delivery.claim([m.id for m in theirs])
            await second.commit()
        assert {m.id for m in mine}.isdisjoint(m.id for m in theirs)
        assert [m.id for m in got] == [m.id for m in theirs]
        # a claim reaching for a row another transaction has locked skips it
        assert await first.delivery.claim([m.id for m in theirs]) == []
        assert len(await first.delivery.claim([m.id for m in mine])) == 4
        await first.commit()


async def test_scheduled_work_is_held_by_one_process_and_taken_over_when_it_dies(
    two: tuple[Database, Database], clock: FrozenClock
) -> None:
    a, b = two
    lease_a = ProcessLease(a.uow, clock, seconds=LEASE)
    lease_b = ProcessLease(b.uow, clock, seconds=LEASE)
    await lease_a.renew()
    await lease_b.renew()
    assert await lease_a.hold("event_jobs")
    assert not await lease_b.hold("event_jobs")
    clock.advance(timedelta(seconds=LEASE - 1))
    await lease_a.renew()  # the heartbeat keeps the job too
    clock.advance(timedelta(seconds=LEASE - 1))
    assert not await lease_b.hold("event_jobs")
    assert await lease_a.hold("event_jobs")

    clock.advance(timedelta(seconds=LEASE + 1))  # a died
    assert await lease_b.hold("event_jobs")
    assert not await lease_a.hold("event_jobs")

    await lease_b.close()  # a clean stop gives the job up at once
    assert await lease_a.hold("event_jobs")


async def test_event_jobs_run_in_the_process_holding_them_and_fail_over(
    two: tuple[Database, Database], clock: FrozenClock
) -> None:
    a, b = two
    # leases on the test's frozen clock: they run out only when the test moves it
    lease_a = ProcessLease(a.uow, clock, seconds=0.3)
    lease_b = ProcessLease(b.uow, clock, seconds=0.3)
    await lease_a.renew()
    await lease_b.renew()
    jobs_a = EventJobs(a.uow, clock, catalogs(), "Europe/Copenhagen", lease=lease_a)
    jobs_b = EventJobs(b.uow, clock, catalogs(), "Europe/Copenhagen", lease=lease_b)
    jobs_a.start()
    try:
        await until(lambda: jobs_a.runs >= 1)
        jobs_b.start()
        await until(lambda: jobs_b.looks_for_the_holder >= 3)  # asked a few beats
        assert jobs_b.runs == 0
        await jobs_a.close()  # a dies (no retire: its lease just stops being renewed)
        clock.advance(timedelta(seconds=1))
        await until(lambda: jobs_b.runs >= 1)
    finally:
        await jobs_a.close()
        await jobs_b.close()
    assert jobs_a.runs == 1


async def test_housekeeping_runs_in_one_process(
    two: tuple[Database, Database], clock: FrozenClock
) -> None:
    a, b = two
    lease_a = ProcessLease(a.uow, clock, seconds=LEASE)
    lease_b = ProcessLease(b.uow, clock, seconds=LEASE)
    await lease_a.renew()
    await lease_b.renew()
    assert await Housekeeping(a.uow, clock, lease_a).run_once() != {}
    assert await Housekeeping(b.uow, clock, lease_b).run_once() == {}


async def until(condition: Callable[[], bool], limit: float = 30) -> None:
    """A guard against a hang, not a speed check."""
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        await asyncio.sleep(0.01)


# --- real processes ---------------------------------------------------------------------


class Child:
    """A delivery worker in a process of its own (tests/outbox_child.py), with a lease."""

    def __init__(self, url: str, folder: Path, name: str, lease: float) -> None:
        self.deliveries = folder / f"{name}-deliveries.txt"
        self.starts = folder / f"{name}-starts.txt"
        self.deliveries.touch()
        self.starts.touch()
        self._args = (url, str(self.deliveries), str(self.starts), str(lease))
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.outbox_child",
            *self._args,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )

    def arrived(self) -> Counter[str]:
        return Counter(self.deliveries.read_text().split())

    def started(self) -> set[str]:
        return set(self.starts.read_text().split())

    async def stop(self, signum: int = signal.SIGTERM) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signum)
        await self.process.wait()


async def wait_until(condition: object, what: str, children: list[Child], limit: float) -> None:
    """A guard against a hang, not a speed check."""
    assert callable(condition)
    deadline = time.monotonic() + limit
    while not condition():
        for child in children:
            assert child.process is None or child.process.returncode is None, "a worker died"
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        await asyncio.sleep(0.02)


async def test_real_processes_one_killed_mid_broadcast(
    pg: str, clock: FrozenClock, tmp_path: Path
) -> None:
    total = 600
    db = Database(pg, clock)
    try:
        await enqueue_broadcast(db.uow, await seed_people(db.uow, clock, total), batch="bc:1")
        lease = 3.0
        killed = Child(pg, tmp_path, "killed", lease)
        survivor = Child(pg, tmp_path, "survivor", lease)
        children = [killed, survivor]
        try:
            await killed.start()
            await survivor.start()
            await wait_until(
                lambda: killed.arrived().total() >= 60, "the first sends", children, 60
            )
            await killed.stop(signal.SIGKILL)
            killed_at = time.monotonic()
            children = [survivor]
            gone = killed.arrived()
            left_behind = await db.statuses()
            await wait_until(
                lambda: survivor.arrived().total() + gone.total() >= total - 8,
                "the rest of the broadcast",
                children,
                120,
            )

            async def settled() -> bool:
                statuses = await db.statuses()
                return statuses[OutboxStatus.SENT] + statuses[OutboxStatus.UNKNOWN] == total

            deadline = time.monotonic() + 60
            while not await settled():
                assert time.monotonic() < deadline, await db.statuses()
                await asyncio.sleep(0.05)
            print(f"the killed process's rows settled {time.monotonic() - killed_at:.1f} s later")
        finally:
            for child in children:
                await child.stop()
        rows = await db.rows()
    finally:
        await db.close()

    assert gone.total() < total  # killed mid-broadcast
    assert left_behind[OutboxStatus.SENDING] + left_behind[OutboxStatus.ATTEMPTING] > 0
    arrived = gone + survivor.arrived()
    assert {user: n for user, n in arrived.items() if n > 1} == {}  # none twice
    unknown = {r.user_id for r in rows if r.status == OutboxStatus.UNKNOWN}
    # only what was on the wire when it died is in doubt (whether it got there, the
    # platform knows), and nothing else is missing
    assert len(unknown) <= 8  # at most what it had in flight
    assert unknown <= killed.started()
    assert {r.user_id for r in rows if not arrived[r.user_id]} <= unknown
    for row in rows:
        if row.status == OutboxStatus.SENT:
            assert arrived[row.user_id] == 1, row.user_id
    assert survivor.arrived().total() > 0
    assert len(arrived) + len(unknown - set(arrived)) == total  # everyone, once or in doubt


async def test_real_process_started_mid_broadcast_leaves_the_other_alone(
    pg: str, clock: FrozenClock, tmp_path: Path
) -> None:
    total = 600
    db = Database(pg, clock)
    try:
        await enqueue_broadcast(db.uow, await seed_people(db.uow, clock, total), batch="bc:1")
        first = Child(pg, tmp_path, "first", 15.0)
        second = Child(pg, tmp_path, "second", 15.0)
        children = [first, second]
        try:
            await first.start()
            await wait_until(lambda: first.arrived().total() >= 60, "the first sends", children, 60)
            await second.start()
            await wait_until(
                lambda: (first.arrived() + second.arrived()).total() >= total,
                "the broadcast",
                children,
                120,
            )
            deadline = time.monotonic() + 60
            while (await db.statuses())[OutboxStatus.SENT] < total:
                assert time.monotonic() < deadline, await db.statuses()
                await asyncio.sleep(0.05)
        finally:
            for child in children:
                await child.stop()
        statuses = await db.statuses()
    finally:
        await db.close()
    arrived = first.arrived() + second.arrived()
    assert {user: n for user, n in arrived.items() if n > 1} == {}
    assert statuses == Counter({OutboxStatus.SENT: total})  # nothing called unknown
    assert second.arrived().total() > 0

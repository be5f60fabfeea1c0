"""A delivery process killed with SIGKILL mid-broadcast; the coordinator's summary then
names exactly the people whose message was on its way, and one tap sends it again to
them: counted per recipient at the platform, everyone has it, and only those in doubt
may have it twice.
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
from sqlalchemy import update

from bot.delivery import DeliveryPolicy, DeliveryWorker
from bot.i18n import catalogs
from bot.progress import BroadcastProgress
from bot.rate_limit import RateLimits
from bot.timing import ClockSleeper
from conversations.core.messages import ChatRef
from conversations.core.services import Services
from conversations.events.rules.resending import send_again
from storage.clock import FrozenClock
from storage.models import OutboxStatus, Person
from tests.conftest import Backend
from tests.fault_transport import Database, FaultTransport, enqueue_broadcast, seed_people

ROOT = Path(__file__).resolve().parent.parent
RECIPIENTS = 400


@pytest.fixture
async def db(backend: Backend, clock: FrozenClock) -> AsyncIterator[Database]:
    database = Database(backend.url, clock)
    yield database
    await database.close()


async def kill_mid_broadcast(url: str, deliveries: Path) -> Counter[str]:
    """Run a delivery worker in a child process whose network stops answering after 100
    deliveries, and SIGKILL it once requests hang on the wire; returns what reached the
    platform, per user (the child writes it down as it goes)."""
    await asyncio.to_thread(deliveries.touch)
    starts = deliveries.with_suffix(".starts")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMM_TEST_HANG_AFTER": "100"}
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
        while len(await delivered(deliveries)) < 100 or not await hanging(starts, deliveries):
            assert child.returncode is None, "the worker process ended by itself"
            assert time.monotonic() < deadline, "the worker process sent nothing"
            await asyncio.sleep(0.005)
        child.send_signal(signal.SIGKILL)
    finally:
        with contextlib.suppress(ProcessLookupError):
            child.kill()
        await child.wait()
    return Counter(await delivered(deliveries))


async def hanging(starts: Path, deliveries: Path) -> bool:
    """Whether some request has begun and not come back."""
    return len(await delivered(starts)) > len(await delivered(deliveries))


async def delivered(deliveries: Path) -> list[str]:
    return (await asyncio.to_thread(deliveries.read_text)).split()


async def test_after_a_kill_the_summary_names_those_on_the_wire_and_one_tap_reaches_them(
    backend: Backend, db: Database, clock: FrozenClock, tmp_path: Path
) -> None:
    people = await seed_people(db.uow, clock, RECIPIENTS)
    [(kim_id, kim, kim_chat)] = await seed_people(db.uow, clock, 1, prefix="kim")
    reporter = ChatRef("telegram", kim_chat, kim)
    async with db.uow() as uow:
        await uow.session.execute(update(Person).where(Person.id == kim_id).values(language="en"))
        await uow.batches.create(
            "bc:1", kind="invitation", reporter=reporter, reporter_person_id=kim_id
        )
        await uow.commit()
    await enqueue_broadcast(db.uow, people, batch="bc:1")

    first = await kill_mid_broadcast(backend.url, tmp_path / "deliveries.txt")
    assert first.total() < RECIPIENTS  # killed mid-broadcast

    platform = FaultTransport(clock)
    sleeper = ClockSleeper(clock)
    worker = DeliveryWorker(
        platform,
        db.uow,
        clock,
        limits=RateLimits(per_second=25, private_per_second=1),
        policy=DeliveryPolicy(concurrency=8),
        sleeper=sleeper,
        progress=BroadcastProgress(platform, db.uow, clock, sleeper, catalogs(), rate_hint=25),
    )
    await worker.drain(follow_future=True)
    rows = await db.rows()
    in_doubt = [row.user_id for row in rows if row.status == OutboxStatus.UNKNOWN]
    assert len(in_doubt) == worker.stats.recovered_unknown
    assert in_doubt, "the kill caught no message on its way; nothing to send again"

    summary = platform.edits[-1][2] if platform.edits else platform.messages[kim][-1]
    assert f"May not have got it: {', '.join(in_doubt)}\n" in summary.text + "\n"
    assert [c.id for c in summary.choices] == ["again"]

    async with db.uow() as uow:
        batch = await uow.batches.get("bc:1")
        assert batch is not None
        resent = await send_again(Services(uow, catalogs(), "Europe/Copenhagen", clock), batch)
        await uow.commit()
    assert resent.sent == len(in_doubt)
    await worker.drain(follow_future=True)

    arrived = first + platform.arrived
    arrived.pop(kim)  # the coordinator's progress messages
    # Nobody is without it; a second copy only where the first may have arrived unheard.
    assert set(arrived) == {user for _id, user, _chat in people}
    for user in arrived:
        assert arrived[user] == 1 + (first[user] if user in in_doubt else 0), user

"""A broadcast to 2,000 people through the worker, against a strict platform with faults.

Time is a frozen clock the worker moves forward as it waits, so minutes of broadcast at
25 messages a second are checked in seconds of CPU.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.delivery import DeliveryPolicy, DeliveryWorker
from bot.i18n import catalogs
from bot.progress import BroadcastProgress
from bot.rate_limit import RateLimits
from bot.timing import ClockSleeper
from conversations.core.messages import ChatRef
from storage.clock import FrozenClock
from storage.migrate import upgrade_to_head_async
from storage.models import OutboxStatus
from tests.fault_transport import (
    Database,
    Faults,
    FaultTransport,
    enqueue_broadcast,
    max_in_window,
    seed_people,
)

RECIPIENTS = 2_000
FINAL = {
    OutboxStatus.SENT,
    OutboxStatus.FAILED,
    OutboxStatus.BLOCKED,
    OutboxStatus.UNKNOWN,
}


@pytest.fixture
async def db(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[Database]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'outbox.db'}"
    await upgrade_to_head_async(url)
    database = Database(url, clock)
    yield database
    await database.close()


async def test_a_broadcast_to_2000_people_ends_final_once_each_within_the_limits(
    db: Database, clock: FrozenClock
) -> None:
    people = await seed_people(db.uow, clock, RECIPIENTS, group_every=100)
    users = [user for _id, user, _chat in people]
    blocked = frozenset(users[3::97])
    hopeless = frozenset(users[5::89])  # their server always times out
    [(coordinator_id, coordinator, coordinator_chat)] = await seed_people(
        db.uow, clock, 1, prefix="kim"
    )
    async with db.uow() as uow:
        await uow.batches.create(
            "bc:1",
            kind="invitation",
            reporter=ChatRef("telegram", coordinator_chat, coordinator),
            reporter_person_id=coordinator_id,
            total=RECIPIENTS,
        )
        await uow.commit()
    await enqueue_broadcast(db.uow, people, batch="bc:1")
    transport = FaultTransport(
        clock,
        faults=Faults(
            retry_after_rate=0.004,
            retry_after_seconds=(1.0, 4.0),
            temporary_rate=0.03,
            ambiguous_rate=0.01,
            blocked_users=blocked,
            always_temporary=hopeless,
        ),
    )
    limits = RateLimits(per_second=25, private_per_second=1, group_per_minute=20, group_prefix="-")
    sleeper = ClockSleeper(clock)
    worker = DeliveryWorker(
        transport,
        db.uow,
        clock,
        limits=limits,
        # a second's worth of slots claimed at once: fewer rounds, the same limits
        policy=DeliveryPolicy(
            max_attempts=4, backoff_seconds=5, backoff_max_seconds=60, concurrency=25
        ),
        sleeper=sleeper,
        rng=random.Random(11),
        progress=BroadcastProgress(transport, db.uow, clock, sleeper, catalogs(), rate_hint=25),
    )

    await worker.drain(follow_future=True)

    statuses = await db.statuses()
    assert set(statuses) <= FINAL, statuses
    assert statuses.total() == RECIPIENTS
    # nobody got it twice; everyone marked sent got it; blocked people were not retried
    assert transport.duplicates() == {}
    rows = {row.user_id: row for row in await db.rows()}
    for user, row in rows.items():
        if row.status == OutboxStatus.SENT:
            assert transport.arrived[user] == 1, user
        elif row.status in (OutboxStatus.FAILED, OutboxStatus.BLOCKED):
            assert transport.arrived[user] == 0, user
    assert {u for u, r in rows.items() if r.status == OutboxStatus.BLOCKED} == blocked
    assert all(transport.attempts[user] == 1 for user in blocked)
    assert {u for u, r in rows.items() if r.status == OutboxStatus.FAILED} >= hopeless
    assert all(transport.attempts[user] == 4 for user in hopeless)
    assert statuses[OutboxStatus.UNKNOWN] == transport.raised["ambiguous"] > 0
    assert transport.raised["retry_after"] > 0
    assert statuses[OutboxStatus.SENT] > 0.9 * RECIPIENTS
    # no window over a limit, no send during a retry_after
    assert transport.violations == []
    assert transport.largest_second() <= 25
    for chat, times in transport.chat_times.items():
        assert max_in_window(times, 60.0 if chat.startswith("-") else 1.0) <= (
            20 if chat.startswith("-") else 1
        )
    # and it took about as long as 25 a second allows, not much longer
    assert sleeper.slept >= RECIPIENTS / 25
    # the coordinator saw one message that updated itself, ending in the summary
    progress = transport.messages[coordinator]
    assert len(progress) == 1
    assert transport.edits
    assert all(ref.chat_id == coordinator_chat for ref, _id, _m in transport.edits)
    summary = transport.edits[-1][2].text
    sent = statuses[OutboxStatus.SENT]
    # in the coordinator's language, Danish, with thousands as Danes write them (1.931)
    assert f"{sent:,} af {RECIPIENTS:,}".replace(",", ".") in summary
    async with db.uow() as uow:
        batch = await uow.batches.get("bc:1")
        assert batch is not None
        assert batch.finished_at is not None

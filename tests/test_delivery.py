"""The outbox worker: what happens to each message, error by error, on a frozen clock."""

from __future__ import annotations

import itertools
import random
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from bot.delivery import DeliveryPolicy, DeliveryWorker
from bot.rate_limit import RateLimits
from bot.timing import ClockSleeper
from conversations.core.messages import ChatRef, Choice, OutMessage, message_to_payload
from storage.clock import FrozenClock
from storage.migrate import upgrade_to_head_async
from storage.models import Identity, OutboxStatus, PersonStatus
from storage.repositories.outbox import Reply
from tests.fault_transport import Database, Faults, FaultTransport, enqueue_broadcast, seed_people

TELEGRAM = RateLimits(per_second=25, private_per_second=1, group_per_minute=20, group_prefix="-")


@pytest.fixture
async def db(tmp_path: Path, clock: FrozenClock) -> AsyncIterator[Database]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'outbox.db'}"
    await upgrade_to_head_async(url)
    database = Database(url, clock)
    yield database
    await database.close()


def make_worker(
    db: Database,
    transport: FaultTransport,
    clock: FrozenClock,
    *,
    policy: DeliveryPolicy | None = None,
    limits: RateLimits = TELEGRAM,
) -> DeliveryWorker:
    return DeliveryWorker(
        transport,
        db.uow,
        clock,
        limits=limits,
        policy=policy or DeliveryPolicy(),
        sleeper=ClockSleeper(clock),
        rng=random.Random(3),
    )


async def test_a_due_message_is_sent_once_and_marked_sent(db: Database, clock: FrozenClock) -> None:
    people = await seed_people(db.uow, clock, 3)
    await enqueue_broadcast(db.uow, people, batch=None)
    transport = FaultTransport(clock)
    worker = make_worker(db, transport, clock)

    await worker.drain()
    await worker.drain()

    assert transport.arrived == {"u0": 1, "u1": 1, "u2": 1}
    rows = await db.rows()
    assert {row.status for row in rows} == {OutboxStatus.SENT}
    assert all(row.sent_at == clock.now() and row.platform_message_id for row in rows)
    assert all(row.attempts == 1 for row in rows)


async def test_the_same_dedupe_key_enqueued_twice_is_sent_once(
    db: Database, clock: FrozenClock
) -> None:
    people = await seed_people(db.uow, clock, 1)
    await enqueue_broadcast(db.uow, people, batch="bc:1")
    await enqueue_broadcast(db.uow, people, batch="bc:1")  # the job ran twice
    transport = FaultTransport(clock)

    await make_worker(db, transport, clock).drain(follow_future=True)
    await enqueue_broadcast(db.uow, people, batch="bc:1")  # and once more after sending
    await make_worker(db, transport, clock).drain(follow_future=True)

    assert transport.arrived == {"u0": 1}
    assert (await db.statuses()) == {OutboxStatus.SENT: 1}


async def test_a_message_with_buttons_records_its_message_id_on_the_prompt(
    db: Database, clock: FrozenClock
) -> None:
    [(person_id, user, chat)] = await seed_people(db.uow, clock, 1)
    async with db.uow() as uow:
        prompt = await uow.prompts.create(
            platform="telegram",
            chat_id=chat,
            user_id=user,
            person_id=person_id,
            flow="rsvp",
            state="",
            choices=[{"id": "yes", "label": "Tæl mig med"}],
            bound=False,
        )
        message = OutMessage("Kommer du?", choices=(Choice("yes", "Tæl mig med"),))
        await uow.outbox.enqueue(
            dedupe_key="invite:1",
            person_id=person_id,
            platform="telegram",
            chat_id=chat,
            user_id=user,
            kind="invitation",
            payload=message_to_payload(replace(message, prompt_id=prompt.id)),
        )
        await uow.commit()
    transport = FaultTransport(clock)

    await make_worker(db, transport, clock).drain()

    [sent] = transport.messages[user]
    assert sent.prompt_id == prompt.id
    assert sent.choices[0].id == "yes"
    async with db.uow() as uow:
        stored = await uow.prompts.get(prompt.id)
        assert stored is not None
        assert stored.platform_message_id is not None
        found = await uow.prompts.by_message("telegram", chat, stored.platform_message_id)
        assert found is not None
        assert found.id == prompt.id


async def test_expired_stopped_and_blocked_people_are_not_sent_to(
    db: Database, clock: FrozenClock
) -> None:
    people = await seed_people(db.uow, clock, 4)
    await enqueue_broadcast(
        db.uow, people[:1], batch="late", expires_in=timedelta(minutes=5), clock=clock
    )
    await enqueue_broadcast(db.uow, people[1:], batch="bc:2")
    async with db.uow() as uow:
        stopped = await uow.persons.get(people[1][0])
        assert stopped is not None
        stopped.status = PersonStatus.STOPPED
        identity = await uow.persons.find_identity("telegram", people[2][1])
        assert identity is not None
        identity.blocked_at = clock.now()
        await uow.commit()
    clock.advance(timedelta(minutes=10))
    transport = FaultTransport(clock)

    await make_worker(db, transport, clock).drain()

    assert transport.arrived == {people[3][1]: 1}
    statuses = {row.user_id: row.status for row in await db.rows()}
    assert statuses == {
        people[0][1]: OutboxStatus.EXPIRED,
        people[1][1]: OutboxStatus.CANCELLED,
        people[2][1]: OutboxStatus.BLOCKED,
        people[3][1]: OutboxStatus.SENT,
    }


async def test_a_person_who_blocked_the_bot_is_marked_and_never_retried(
    db: Database, clock: FrozenClock
) -> None:
    people = await seed_people(db.uow, clock, 2)
    await enqueue_broadcast(db.uow, people, batch="bc:1")
    transport = FaultTransport(clock, faults=Faults(blocked_users=frozenset({"u0"})))

    await make_worker(db, transport, clock).drain(follow_future=True)
    await enqueue_broadcast(db.uow, people, batch="bc:2")  # a later broadcast
    await make_worker(db, transport, clock).drain(follow_future=True)

    assert transport.attempts["u0"] == 1
    assert transport.arrived == {"u1": 2}
    async with db.uow() as uow:
        identity = await uow.persons.find_identity("telegram", "u0")
        assert isinstance(identity, Identity)
        assert identity.blocked_at is not None
    statuses = sorted((row.user_id, row.batch, row.status) for row in await db.rows())
    assert statuses == [
        ("u0", "bc:1", OutboxStatus.BLOCKED),
        ("u0", "bc:2", OutboxStatus.BLOCKED),
        ("u1", "bc:1", OutboxStatus.SENT),
        ("u1", "bc:2", OutboxStatus.SENT),
    ]


async def test_temporary_failures_back_off_then_fail_after_the_last_attempt(
    db: Database, clock: FrozenClock
) -> None:
    people = await seed_people(db.uow, clock, 1)
    await enqueue_broadcast(db.uow, people, batch=None)
    transport = FaultTransport(clock, faults=Faults(always_temporary=frozenset({"u0"})))
    policy = DeliveryPolicy(max_attempts=4, backoff_seconds=10, backoff_max_seconds=25)

    await make_worker(db, transport, clock, policy=policy).drain(follow_future=True)

    assert transport.attempts["u0"] == 4
    times = transport.send_times
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    # waits of 10, 20 and 25 (capped) seconds, each shortened by up to half by jitter
    assert [5 <= gaps[0] <= 10, 10 <= gaps[1] <= 20, 12.5 <= gaps[2] <= 25] == [True] * 3
    [row] = await db.rows()
    assert row.status == OutboxStatus.FAILED
    assert "TemporaryFailure" in (row.last_error or "")


async def test_a_permanent_failure_is_not_retried(db: Database, clock: FrozenClock) -> None:
    people = await seed_people(db.uow, clock, 1)
    await enqueue_broadcast(db.uow, people, batch=None)
    transport = FaultTransport(clock, faults=Faults(permanent_users=frozenset({"u0"})))

    await make_worker(db, transport, clock).drain(follow_future=True)

    assert transport.attempts["u0"] == 1
    [row] = await db.rows()
    assert row.status == OutboxStatus.FAILED
    assert "refused" in (row.last_error or "")


async def test_an_ambiguous_send_is_unknown_and_never_sent_again(
    db: Database, clock: FrozenClock
) -> None:
    people = await seed_people(db.uow, clock, 1)
    await enqueue_broadcast(db.uow, people, batch=None)
    transport = FaultTransport(clock, faults=Faults(ambiguous_rate=1.0))
    worker = make_worker(db, transport, clock)

    await worker.drain(follow_future=True)
    await worker.drain(follow_future=True)

    assert transport.attempts["u0"] == 1
    [row] = await db.rows()
    assert row.status == OutboxStatus.UNKNOWN
    assert worker.stats[OutboxStatus.UNKNOWN] == 1


async def test_retry_after_pauses_every_send_of_the_platform(
    db: Database, clock: FrozenClock
) -> None:
    people = await seed_people(db.uow, clock, 30)
    await enqueue_broadcast(db.uow, people, batch=None)
    transport = FaultTransport(
        clock, faults=Faults(retry_after_rate=0.1, retry_after_seconds=(3, 3))
    )

    worker = make_worker(db, transport, clock)
    await worker.drain(follow_future=True)

    assert transport.raised["retry_after"] > 0
    assert transport.violations == []  # nothing was sent during a retry_after
    assert transport.duplicates() == {}
    assert (await db.statuses()) == {OutboxStatus.SENT: 30}
    rows = await db.rows()
    assert sum(row.deferrals for row in rows) == transport.raised["retry_after"]
    assert all(row.attempts == 1 for row in rows)  # being told to wait is not a failure


async def test_a_message_postponed_too_often_fails(db: Database, clock: FrozenClock) -> None:
    people = await seed_people(db.uow, clock, 1)
    await enqueue_broadcast(db.uow, people, batch=None)
    transport = FaultTransport(
        clock, faults=Faults(retry_after_rate=1.0, retry_after_seconds=(1, 1))
    )

    await make_worker(db, transport, clock, policy=DeliveryPolicy(max_retry_after=3)).drain(
        follow_future=True
    )

    assert transport.attempts["u0"] == 4
    [row] = await db.rows()
    assert row.status == OutboxStatus.FAILED
    assert row.deferrals == 3


async def test_several_messages_to_one_chat_keep_its_limit_and_their_order(
    db: Database, clock: FrozenClock
) -> None:
    people = await seed_people(db.uow, clock, 1, group_every=1)  # one group chat
    person_id, user, chat = people[0]
    async with db.uow() as uow:
        for n in range(25):
            await uow.outbox.enqueue(
                dedupe_key=f"notice:{n}",
                person_id=person_id,
                platform="telegram",
                chat_id=chat,
                user_id=user,
                kind="notice",
                payload=message_to_payload(OutMessage(f"besked {n}")),
            )
        await uow.commit()
    transport = FaultTransport(clock)

    await make_worker(db, transport, clock).drain(follow_future=True)

    assert [m.text for m in transport.messages[user]] == [f"besked {n}" for n in range(25)]
    assert transport.violations == []
    times = transport.chat_times[chat]
    assert times[20] - times[0] > 60  # the 21st waited for the minute to pass


async def test_a_chat_ref_reaches_the_transport_as_stored(db: Database, clock: FrozenClock) -> None:
    people = await seed_people(db.uow, clock, 1)
    await enqueue_broadcast(db.uow, people, batch=None)
    seen: list[ChatRef] = []
    transport = FaultTransport(clock, on_send=seen.append)

    await make_worker(db, transport, clock).drain()

    assert seen == [ChatRef("telegram", people[0][2], people[0][1])]


async def test_a_group_queued_before_a_large_private_backlog_gets_its_twenty_a_minute(
    db: Database, clock: FrozenClock
) -> None:
    # Its rows wait while the one before them is on its way (one at a time per chat); once
    # the group is free they must go before the 700 private messages queued after them, not
    # behind the whole backlog.
    group = await seed_people(db.uow, clock, 1, prefix="g", group_every=1)
    group_id, group_user, group_chat = group[0]
    await enqueue_broadcast(
        db.uow,
        [(group_id, group_user, group_chat)],
        batch="bc:group",
        text="til gruppen",
    )
    async with db.uow() as uow:
        for n in range(1, 30):
            await uow.outbox.enqueue(
                dedupe_key=f"group:{n}",
                person_id=group_id,
                platform="telegram",
                chat_id=group_chat,
                user_id=group_user,
                kind="notice",
                payload=message_to_payload(OutMessage("til gruppen")),
            )
        await uow.commit()
    backlog = await seed_people(db.uow, clock, 700, prefix="p")
    await enqueue_broadcast(db.uow, backlog, batch="bc:private")
    transport = FaultTransport(clock)

    await make_worker(db, transport, clock).drain(follow_future=True)

    group_times = transport.chat_times[group_chat]
    assert len(group_times) == 30
    first_minute = [t for t in group_times if t < group_times[0] + 60.0]
    private_times = sorted(t for chat, times in transport.chat_times.items()
                           if chat != group_chat for t in times)  # fmt: skip
    assert len(private_times) == 700
    # the backlog takes 28 s at 25 a second: the group got its 20 meanwhile, not after it
    assert len(first_minute) == 20
    assert group_times[19] < private_times[-1]
    assert transport.violations == []


async def test_a_reply_told_to_wait_goes_after_the_wait_not_at_its_handover(
    db: Database, clock: FrozenClock
) -> None:
    """A reply sent right after its step that meets a 429 waits out the platform's
    retry_after and goes again (it was kept in line for the worker's half-minute handover)."""
    people = await seed_people(db.uow, clock, 1)
    person_id, user, chat = people[0]
    began = clock.now()
    async with db.uow() as uow:
        [reply] = await uow.outbox.add_replies(
            [
                Reply(
                    dedupe_key="reply:1",
                    person_id=person_id,
                    platform="telegram",
                    chat_id=chat,
                    user_id=user,
                    payload=message_to_payload(OutMessage("Det her kan jeg hjælpe med")),
                )
            ],
            expires_at=began + timedelta(days=1),
            resend_after=began + timedelta(seconds=30),
        )
        await uow.commit()
    transport = FaultTransport(
        clock, faults=Faults(retry_after_rate=1.0, retry_after_seconds=(2, 2))
    )
    worker = make_worker(db, transport, clock)
    await worker.send_replies([reply])
    assert transport.arrived == {}
    transport.faults.retry_after_rate = 0.0

    await worker.drain(follow_future=True)

    assert transport.arrived == {user: 1}
    [row] = await db.rows()
    assert row.status == OutboxStatus.SENT
    assert row.sent_at is not None
    assert row.sent_at - began < timedelta(seconds=5)  # 2 s asked, not the 30 s handover

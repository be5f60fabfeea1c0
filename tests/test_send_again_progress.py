"""The coordinator's progress message names who may not have got a broadcast, and offers
to send it again; the storage behind it, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import update

from bot.delivery import DeliveryPolicy, DeliveryWorker
from bot.i18n import catalogs
from bot.progress import MAX_NAMES, BroadcastProgress, names_text
from bot.rate_limit import RateLimiter, RateLimits
from bot.timing import ClockSleeper
from conversations.core.messages import ChatRef, OutMessage
from conversations.core.services import Services
from conversations.events.rules.resending import send_again
from storage.clock import FrozenClock
from storage.models import Batch, OutboxStatus, Person
from storage.repositories.batches import Recipients, sent_again_key
from tests.conftest import Backend
from tests.fault_transport import (
    UNKNOWN_ARRIVED,
    UNKNOWN_LOST,
    Database,
    FaultTransport,
    enqueue_broadcast,
    seed_people,
)

LIMITS = RateLimits(per_second=25, private_per_second=1, group_per_minute=20, group_prefix="-")


@pytest.fixture
async def db(backend: Backend, clock: FrozenClock) -> AsyncIterator[Database]:
    database = Database(backend.url, clock)
    yield database
    await database.close()


async def broadcast(
    db: Database, clock: FrozenClock, people: int, *, language: str = "da"
) -> tuple[list[tuple[int, str, str]], ChatRef]:
    """`people` recipients of broadcast bc:1, reported to the coordinator Kim."""
    recipients = await seed_people(db.uow, clock, people)
    [(kim_id, kim, kim_chat)] = await seed_people(db.uow, clock, 1, prefix="kim")
    reporter = ChatRef("telegram", kim_chat, kim)
    async with db.uow() as uow:
        await uow.session.execute(
            update(Person).where(Person.id == kim_id).values(language=language)
        )
        await uow.batches.create(
            "bc:1", kind="invitation", reporter=reporter, reporter_person_id=kim_id, total=people
        )
        await uow.commit()
    await enqueue_broadcast(db.uow, recipients, batch="bc:1")
    return recipients, reporter


def worker_for(db: Database, platform: FaultTransport, clock: FrozenClock) -> DeliveryWorker:
    sleeper = ClockSleeper(clock)
    return DeliveryWorker(
        platform,
        db.uow,
        clock,
        limits=LIMITS,
        policy=DeliveryPolicy(concurrency=8),
        sleeper=sleeper,
        rng=random.Random(3),
        progress=BroadcastProgress(platform, db.uow, clock, sleeper, catalogs(), rate_hint=25),
    )


def shown_to(platform: FaultTransport, reporter: ChatRef) -> OutMessage:
    """The progress message as the coordinator sees it now (after its edits)."""
    edits = [m for ref, _id, m in platform.edits if ref == reporter]
    return edits[-1] if edits else platform.messages[reporter.user_id][-1]


async def test_the_summary_names_twenty_then_counts_the_rest(
    db: Database, clock: FrozenClock
) -> None:
    people, reporter = await broadcast(db, clock, 40)
    in_doubt = [user for _id, user, _chat in people[:25]]
    async with db.uow() as uow:
        await uow.session.execute(
            update(Person).where(Person.id == people[0][0]).values(display_name=None)
        )
        await uow.commit()
    platform = FaultTransport(clock)
    platform.faults.scripted = {user: [UNKNOWN_LOST] for user in in_doubt}
    platform.faults.blocked_users = frozenset({people[30][1], people[31][1]})

    await worker_for(db, platform, clock).drain(follow_future=True)

    summary = shown_to(platform, reporter)
    names = ", ".join(["(intet navn)", *in_doubt[1:MAX_NAMES]])
    assert f"❔ Har måske ikke fået den: {names} og 5 til" in summary.text
    assert "🚫 Har blokeret botten, så beskeden ikke kan nå frem: u30, u31" in summary.text
    assert [c.label for c in summary.choices] == ["Send den igen til dem"]
    assert summary.prompt_id is not None
    async with db.uow() as uow:
        prompt = await uow.prompts.get(summary.prompt_id)
        batch = await uow.batches.get("bc:1")
        assert prompt is not None
        assert batch is not None
        assert prompt.platform_message_id == batch.progress_message_id  # taps on it resolve
        assert batch.finished_at is not None


async def test_in_english_and_without_a_button_when_nobody_is_in_doubt(
    db: Database, clock: FrozenClock
) -> None:
    people, reporter = await broadcast(db, clock, 30, language="en")
    platform = FaultTransport(clock)
    platform.faults.blocked_users = frozenset(user for _id, user, _chat in people[:23])

    await worker_for(db, platform, clock).drain(follow_future=True)

    summary = shown_to(platform, reporter)
    assert "Blocked the bot, so it cannot reach them: u0, u1," in summary.text
    assert "u19 and 3 more" in summary.text
    assert "May not have got it" not in summary.text
    assert summary.choices == ()  # sending again would not reach them


async def test_while_it_runs_the_progress_names_those_in_doubt_already(
    db: Database, clock: FrozenClock
) -> None:
    _people, reporter = await broadcast(db, clock, 10)
    async with db.uow() as uow:
        # a process stopped with two of them on the wire
        due = await uow.delivery.due("telegram", clock.now(), 2)
        await uow.delivery.claim([row.id for row in due])
        await uow.delivery.attempt([row.id for row in due], [])  # their requests had begun
        await uow.delivery.recover_interrupted("telegram", "the process stopped")
        await uow.commit()
    platform = FaultTransport(clock)
    progress = BroadcastProgress(
        platform, db.uow, clock, ClockSleeper(clock), catalogs(), rate_hint=25
    )

    await progress.tick(RateLimiter(LIMITS, ClockSleeper(clock)), wait=True)

    [shown] = platform.messages[reporter.user_id]
    assert "⏳ Venter: 8" in shown.text
    assert "❔ Har måske ikke fået den: u0, u1" in shown.text
    assert [c.id for c in shown.choices] == ["again"]


async def test_once_sent_again_they_are_no_longer_named_and_the_button_goes(
    db: Database, clock: FrozenClock
) -> None:
    _people, reporter = await broadcast(db, clock, 6)
    platform = FaultTransport(clock)
    platform.faults.scripted = {"u0": [UNKNOWN_LOST], "u1": [UNKNOWN_ARRIVED]}
    worker = worker_for(db, platform, clock)
    await worker.drain(follow_future=True)
    assert "u0, u1" in shown_to(platform, reporter).text

    async with db.uow() as uow:
        batch = await uow.batches.get("bc:1")
        assert batch is not None
        resent = await send_again(Services(uow, catalogs(), "Europe/Copenhagen", clock), batch)
        await uow.commit()
    assert resent.sent == 2
    await worker.drain(follow_future=True)

    assert platform.arrived == {f"u{i}": 1 for i in range(6)} | {"u1": 2, "kim0": 2}
    again = shown_to(platform, reporter)  # the copies' own progress message
    assert "nåede ud til 2 af 2" in again.text
    assert again.choices == ()
    async with db.uow() as uow:
        assert await uow.batches.recipients(
            "bc:1", OutboxStatus.UNKNOWN, limit=20, not_sent_again=True
        ) == Recipients((), 0)


# -- the storage behind it ---------------------------------------------------------------


async def test_recipients_in_doubt_and_copies_in_storage(db: Database, clock: FrozenClock) -> None:
    await broadcast(db, clock, 5)
    async with db.uow() as uow:
        rows = {row.user_id: row for row in await uow.broadcasts.pending_outbox("bc:1")}
        on_the_wire = [rows["u1"].id, rows["u3"].id, rows["u4"].id]
        await uow.delivery.claim(on_the_wire)
        await uow.delivery.attempt(on_the_wire, [])
        await uow.delivery.recover_interrupted("telegram", "stopped")
        await uow.commit()
    first = {**rows["u3"].__dict__}
    copy = {
        key: first[key]
        for key in ("person_id", "platform", "chat_id", "user_id", "kind", "payload")
    } | {
        "dedupe_key": sent_again_key(rows["u3"].id),
        "batch": "bc:1:again",
        "status": OutboxStatus.PENDING.value,
        "attempts": 0,
        "deferrals": 0,
        "next_attempt_at": clock.now(),
        "expires_at": None,
        "created_at": clock.now(),
    }
    async with db.uow() as uow:
        assert await uow.outbox.enqueue_new([copy]) == {copy["dedupe_key"]}
        assert await uow.outbox.enqueue_new([copy]) == set()  # the key is taken
        original = await uow.batches.get("bc:1")
        assert original is not None
        await uow.batches.follow_up(original, "bc:1:again", 1)
        await uow.commit()

    async with db.uow() as uow:
        batches = uow.batches
        assert await batches.recipients("bc:1", OutboxStatus.UNKNOWN, limit=1) == Recipients(
            ("u1",), 3
        )
        assert await batches.recipients(
            "bc:1", OutboxStatus.UNKNOWN, limit=5, not_sent_again=True
        ) == Recipients(("u1", "u4"), 2)
        assert [row.user_id for row in await batches.in_doubt("bc:1")] == ["u1", "u4"]
        assert await batches.sent_again_count("bc:1") == 1
        again = await batches.get("bc:1:again")
        assert isinstance(again, Batch)
        assert (again.total, again.reporter_user_id, again.finished_at) == (1, "kim0", None)
        await batches.finish("bc:1:again")
        await batches.follow_up(original, "bc:1:again", 2)  # more copies: open again
        await uow.commit()
    async with db.uow() as uow:
        again = await uow.batches.get("bc:1:again")
        assert again is not None
        assert (again.total, again.finished_at) == (3, None)


def test_names_as_given_or_no_name() -> None:
    english = catalogs().get("en")
    assert names_text(english, Recipients(("Anna", None, "Bo"), 3)) == "Anna, (no name), Bo"
    assert names_text(english, Recipients(("Anna",), 2)) == "Anna and 1 more"

"""The outbox workers inside the running bot: started, woken after a commit, stopped."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select

from bot.app import BotApp
from bot.settings import Settings
from bot.timing import ClockSleeper
from conversations.core.messages import ChatRef, Inbound, OutMessage, message_to_payload
from storage.clock import FrozenClock
from storage.models import OutboxMessage, OutboxStatus, Person
from tests.fakes import Chat, RecordingTransport


async def enqueue(app: BotApp, person: Person, chat: Chat, user: str, key: str, text: str) -> None:
    ref = chat.ref(user)
    async with app.uow() as uow:
        await uow.outbox.enqueue(
            dedupe_key=key,
            person_id=person.id,
            platform=ref.platform,
            chat_id=ref.chat_id,
            user_id=ref.user_id,
            kind="notice",
            payload=message_to_payload(OutMessage(text)),
            batch="bc:7",
        )
        await uow.commit()


async def person_of(app: BotApp, user: str) -> Person:
    async with app.uow() as uow:
        identity = await uow.persons.find_identity("fake", user)
        assert identity is not None
        person = await uow.persons.get(identity.person_id)
        assert person is not None
        return person


async def test_a_running_worker_sends_what_is_enqueued_once_woken(
    app: BotApp, chat: Chat, transport: RecordingTransport
) -> None:
    await chat.onboard("anna")
    anna = await person_of(app, "anna")
    app.start_delivery()
    try:
        await enqueue(app, anna, chat, "anna", "notice:1", "Turen er flyttet til kl. 11.")
        app.wake_delivery()
        for _ in range(500):
            if any(d.message.text.startswith("Turen") for d in transport.to("anna")):
                break
            await asyncio.sleep(0.01)
    finally:
        await app.stop_delivery()
    assert [d.message.text for d in transport.to("anna")][-1] == "Turen er flyttet til kl. 11."
    async with app.uow() as uow:
        row = await uow.outbox.by_key("notice:1")
        assert row is not None
        assert row.status == OutboxStatus.SENT


async def test_a_coordinator_gets_a_summary_in_their_language(
    app: BotApp, chat: Chat, transport: RecordingTransport
) -> None:
    await chat.onboard("kim", language="en", name="Kim")
    await chat.onboard("anna")
    await chat.onboard("bo")
    kim = await person_of(app, "kim")
    async with app.uow() as uow:
        await uow.batches.create(
            "bc:7", kind="invitation", reporter=chat.ref("kim"), reporter_person_id=kim.id, total=2
        )
        await uow.commit()
    for user in ("anna", "bo"):
        await enqueue(app, await person_of(app, user), chat, user, f"invite:{user}", "Kom med!")
    transport.blocked.add("bo")

    await app.drain_outbox()

    assert transport.to("anna")[-1].message.text == "Kom med!"
    summary = transport.to("kim")[-1].message.text
    assert "Your message reached 1 of 2" in summary
    assert "Have blocked the bot: 1" in summary
    async with app.uow() as uow:
        batch = await uow.batches.get("bc:7")
        assert batch is not None
        assert batch.finished_at is not None
        identity = await uow.persons.find_identity("fake", "bo")
        assert identity is not None
        assert identity.blocked_at is not None


async def test_a_forgotten_coordinator_is_not_reported_to(
    app: BotApp, chat: Chat, transport: RecordingTransport
) -> None:
    await chat.onboard("anna")
    anna = await person_of(app, "anna")
    async with app.uow() as uow:
        await uow.batches.create(
            "bc:7", kind="invitation", reporter=ChatRef("fake", "gone", "gone"), total=1
        )
        await uow.commit()
    await enqueue(app, anna, chat, "anna", "invite:anna", "Kom med!")

    await app.drain_outbox()

    assert transport.to("gone") == []
    async with app.uow() as uow:
        batch = await uow.batches.get("bc:7")
        assert batch is not None
        assert batch.finished_at is not None


async def test_draining_with_a_frozen_clock_leaves_later_rows_for_later(
    app: BotApp, chat: Chat, transport: RecordingTransport
) -> None:
    await chat.onboard("anna")
    anna = await person_of(app, "anna")
    ref = chat.ref("anna")
    async with app.uow() as uow:
        await uow.outbox.enqueue(
            dedupe_key="reminder:1",
            person_id=anna.id,
            platform=ref.platform,
            chat_id=ref.chat_id,
            user_id=ref.user_id,
            kind="reminder",
            payload=message_to_payload(OutMessage("I morgen kl. 10!")),
            not_before=app.clock.now() + timedelta(hours=2),
        )
        await uow.commit()

    await app.drain_outbox(follow_future=True)  # returns: the test's clock stands still

    assert all(d.message.text != "I morgen kl. 10!" for d in transport.to("anna"))
    clock = app.clock
    assert isinstance(clock, FrozenClock)
    clock.advance(timedelta(hours=2))
    await app.drain_outbox()
    assert transport.to("anna")[-1].message.text == "I morgen kl. 10!"


async def test_replies_count_against_the_platform_limit_while_workers_run(
    settings: Settings, clock: FrozenClock, transport: RecordingTransport
) -> None:
    app = BotApp(settings, [transport], clock=clock, sleeper=ClockSleeper(clock))
    await app.migrate()
    try:
        worker = app.delivery_worker(transport.platform)
        before = worker.limiter.available()
        replies = await Chat(app, transport).say("anna", "/start")
        assert replies
        assert worker.limiter.available() == before - len(replies)
    finally:
        await app.close()


async def test_a_stop_leaves_replies_waiting_for_the_platform_in_the_outbox(
    settings: Settings, clock: FrozenClock, transport: RecordingTransport
) -> None:
    """Ten people write at once to a platform that takes one message a second: the steps are
    all taken; a stop then returns without waiting ten seconds for their replies, which stay
    in the outbox and go out once each at the next start."""
    slow = settings.model_copy(update={"other_rate_per_second": 1})
    app = BotApp(slow, [transport], clock=clock)
    await app.migrate()
    people = [f"p{n}" for n in range(10)]
    try:
        await app.intake.receive(
            transport.platform,
            [
                Inbound(ChatRef(transport.platform, f"chat-{p}", p), f"u-{p}", text="/help")
                for p in people
            ],
        )
        for _ in range(600):
            async with app.uow() as uow:
                if not await uow.inbox.waiting(transport.platform):
                    break
            await asyncio.sleep(0.05)
        await app.stop()  # the steps are taken: it waits only for what is on the wire
        answered = {d.ref.user_id for d in transport.sent}
        assert len(answered) < len(people)
        async with app.uow() as uow:
            waiting = await uow.session.scalar(
                select(func.count(OutboxMessage.id)).where(
                    OutboxMessage.status == OutboxStatus.PENDING
                )
            )
        assert waiting
        assert waiting >= len(people) - len(answered)
    finally:
        await app.close()

    restarted = BotApp(settings, [transport], clock=clock)
    try:
        await restarted.drain_outbox()
        texts = [(d.ref.user_id, d.message.text) for d in transport.sent]
        assert {user for user, _ in texts} == set(people)
        assert len(texts) == len(set(texts))  # nobody got a reply twice
    finally:
        await restarted.close()

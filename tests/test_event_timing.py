"""Timed work on time: the event jobs find the next due time of each kind of work, an answer
wakes them, and they hand reminders over in short chunks, so a run that dies (or a process
killed with SIGKILL) leaves whole chunks that the next run completes, each reminder once.

No timings are asserted; `python -m benchmarks reminders` measures them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event as sql_event
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from benchmarks._reminder_rows import seed
from bot import scheduler
from bot.delivery import DeliveryPolicy, DeliveryWorker
from bot.i18n import catalogs
from bot.rate_limit import RateLimits
from bot.scheduler import EventJobs
from bot.timing import ClockSleeper
from conversations.core.chunks import Chunk
from conversations.core.services import Services
from conversations.feedback.rules.windows import event_end
from storage.clock import FrozenClock, SystemClock
from storage.migrate import upgrade_to_head_async
from storage.models import (
    FeedbackRequest,
    OutboxMessage,
    OutboxStatus,
    PushState,
    Reminder,
    ReminderStatus,
    RsvpAnswer,
)
from tests.fakes import PLATFORM, Chat
from tests.fault_transport import Database, FaultTransport
from tests.test_events import SATURDAY_10, answer, create_event, everyone, rsvp_of
from tests.test_feedback import after_event, event_with_yes
from tests.test_initiatives import approve, people, post_initiative

ROOT = Path(__file__).resolve().parent.parent
DAY_BEFORE = SATURDAY_10 - timedelta(hours=24)


async def eventually(what: str, condition: Callable[[], bool], patience: float = 10.0) -> None:
    deadline = time.monotonic() + patience
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        await asyncio.sleep(0.01)


async def reminder_rows(chat: Chat) -> Counter[str]:
    async with chat.app.uow() as uow:
        result = await uow.session.execute(select(Reminder.status))
        return Counter(result.scalars().all())


async def reminder_keys_in_outbox(chat: Chat) -> list[str]:
    async with chat.app.uow() as uow:
        result = await uow.session.execute(
            select(OutboxMessage.dedupe_key).where(OutboxMessage.kind == "reminder")
        )
        return list(result.scalars().all())


async def sent_reminder_keys(chat: Chat) -> set[str]:
    async with chat.app.uow() as uow:
        result = await uow.session.execute(
            select(Reminder.event_id, Reminder.person_id, Reminder.offset_minutes).where(
                Reminder.status == ReminderStatus.SENT
            )
        )
        return {f"reminder:{e}:{p}:{o}" for e, p, o in result.all()}


def _reminders_in_outbox(path: Path) -> int:
    with contextlib.closing(sqlite3.connect(path, timeout=10)) as db:
        row = db.execute("SELECT count(*) FROM outbox WHERE kind = 'reminder'").fetchone()
        return int(row[0])


# -- the next due time, for each kind of work --------------------------------------------------


async def test_the_next_due_time_is_the_next_reminder(chat: Chat, clock: FrozenClock) -> None:
    await everyone(chat, "anna")
    await create_event(chat)
    await chat.deliver_outbox()
    assert await chat.app.event_jobs.next_due_at() is None  # nobody has answered
    await answer(chat, "anna", "yes")
    assert await chat.app.event_jobs.next_due_at() == DAY_BEFORE
    clock.set(DAY_BEFORE)
    assert (await chat.app.event_jobs.run_once())["sent"] == 1
    assert await chat.app.event_jobs.next_due_at() == SATURDAY_10 - timedelta(hours=2)


async def test_the_next_due_time_is_an_offer_running_out(chat: Chat, clock: FrozenClock) -> None:
    await everyone(chat, "anna", "bo")
    event = await create_event(chat, capacity=1)
    await chat.deliver_outbox()
    await answer(chat, "anna", "yes")
    await answer(chat, "bo", "yes")  # the waiting list
    await answer(chat, "anna", "no")  # bo is offered her place, for two hours
    offer = await rsvp_of(chat, event, "bo")
    assert offer is not None
    assert offer.answer == RsvpAnswer.WAITLISTED
    assert offer.offered_until == clock.now() + timedelta(hours=2)
    assert await chat.app.event_jobs.next_due_at() == offer.offered_until


async def test_the_next_due_time_is_asking_for_feedback_then_the_half_way_reminder(
    chat: Chat, clock: FrozenClock
) -> None:
    event = await event_with_yes(chat, "anna")
    clock.set(SATURDAY_10 - timedelta(minutes=30))  # the reminders are behind us
    await chat.app.event_jobs.run_once()
    assert await chat.app.event_jobs.next_due_at() == event_end(event) + timedelta(hours=1)

    await after_event(chat, clock, event)  # asked
    assert await chat.app.event_jobs.next_due_at() is None
    await chat.tap("anna", "start")
    await chat.tap("anna", "came")
    await chat.tap("anna", "good")
    await chat.say("anna", "/cancel")  # left half-way
    async with chat.app.uow() as uow:
        [request] = (await uow.session.execute(select(FeedbackRequest))).scalars().all()
    assert await chat.app.event_jobs.next_due_at() == request.updated_at + timedelta(hours=48)


async def test_the_next_due_time_is_a_deferred_push(chat: Chat, clock: FrozenClock) -> None:
    await people(chat, "cai")
    first = await post_initiative(chat)
    await approve(chat, first)
    await chat.deliver_outbox()
    clock.advance(timedelta(hours=2))
    second = await post_initiative(chat, title="Kagebord ved søen")
    assert second.push_state == PushState.DEFERRED
    assert second.push_after is not None
    assert await chat.app.event_jobs.next_due_at() == second.push_after


async def test_what_the_job_cannot_do_is_not_due_so_the_loop_never_spins(
    chat: Chat, clock: FrozenClock
) -> None:
    """The loop only counts due times after its last run, so whatever a run could not do
    waits for the sweep (a minute) instead of running the job again at once; and someone
    to ask for feedback who has blocked the bot makes nothing due at all."""
    event = await event_with_yes(chat, "anna")
    jobs = chat.app.event_jobs
    assert await jobs.next_due_at() == DAY_BEFORE
    assert await jobs.next_due_at(after=DAY_BEFORE - timedelta(seconds=1)) == DAY_BEFORE
    assert await jobs.next_due_at(after=DAY_BEFORE) == SATURDAY_10 - timedelta(hours=2)

    await chat.app.mark_blocked(chat.ref("anna"))
    clock.set(event_end(event) + timedelta(hours=2))
    assert (await jobs.run_once())["feedback_asked"] == 0
    assert await jobs.next_due_at() is None


# -- waking ---------------------------------------------------------------------------------


async def test_an_answer_wakes_the_job_which_hands_the_reminder_over_when_due(
    chat: Chat, clock: FrozenClock
) -> None:
    await everyone(chat, "anna")
    await create_event(chat)
    await chat.deliver_outbox()
    clock.set(DAY_BEFORE - timedelta(seconds=30))
    jobs = chat.app.event_jobs
    jobs.start()
    try:
        await eventually("the first run and look", lambda: jobs.looks >= 1)
        assert jobs.next_due is None
        # without a wake the loop would look again only at its sweep, a minute from now
        await answer(chat, "anna", "yes")
        await eventually("the answer's reminder found", lambda: jobs.next_due == DAY_BEFORE)

        runs = jobs.runs
        clock.set(DAY_BEFORE)  # the frozen clock does not tick: tell the loop it moved
        jobs.wake()
        await eventually("a run at the due time", lambda: jobs.runs > runs)
        assert len(await reminder_keys_in_outbox(chat)) == 1
    finally:
        jobs.stop()


# -- chunks ---------------------------------------------------------------------------------


async def test_a_chunked_run_that_dies_half_way_leaves_whole_chunks_and_sends_each_once(
    backend_chat: Chat, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = backend_chat
    users = await seed(chat.app.uow, people=450, due_at=clock.now(), platform=PLATFORM)
    clock.advance(timedelta(minutes=1))
    real = scheduler.hand_over_due_reminders
    chunks = 0

    async def dies_in_the_second_chunk(services: Services) -> Chunk:
        nonlocal chunks
        chunks += 1
        chunk = await real(services)
        if chunks == 2:
            raise SystemExit("killed")  # like the process going down before the commit
        return chunk

    monkeypatch.setattr(scheduler, "hand_over_due_reminders", dies_in_the_second_chunk)
    with pytest.raises(SystemExit):
        await chat.app.event_jobs.run_once()
    assert await reminder_rows(chat) == {ReminderStatus.SENT: 200, ReminderStatus.SCHEDULED: 250}
    in_outbox = await reminder_keys_in_outbox(chat)
    assert len(in_outbox) == 200
    assert set(in_outbox) == await sent_reminder_keys(chat)

    monkeypatch.undo()
    assert (await chat.app.event_jobs.run_once())["sent"] == 250  # the restarted process
    assert (await chat.app.event_jobs.run_once())["sent"] == 0  # and a job that runs twice
    assert await reminder_rows(chat) == {ReminderStatus.SENT: 450}
    delivered = await chat.deliver_outbox()
    assert Counter(d.ref.user_id for d in delivered) == Counter(dict.fromkeys(users, 1))
    assert all("påmindelse" in d.message.text for d in delivered)


async def test_ten_thousand_overdue_are_handed_over_in_many_short_transactions(
    backend_chat: Chat, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = backend_chat
    await seed(chat.app.uow, people=10_000, due_at=clock.now() - timedelta(minutes=30))
    real = scheduler.hand_over_due_reminders
    per_chunk: list[int] = []
    commits = 0

    async def counted(services: Services) -> Chunk:
        chunk = await real(services)
        per_chunk.append(sum(chunk.counts.values()))
        return chunk

    def committed(*_: Any) -> None:
        nonlocal commits
        commits += 1

    monkeypatch.setattr(scheduler, "hand_over_due_reminders", counted)
    sql_event.listen(chat.app.engine.sync_engine, "commit", committed)
    try:
        counts = await chat.app.event_jobs.run_once()
    finally:
        sql_event.remove(chat.app.engine.sync_engine, "commit", committed)

    assert counts["sent"] == 10_000
    assert per_chunk == [200] * 50 + [0]  # the last looks and finds nothing more
    assert commits >= len(per_chunk)
    assert await reminder_rows(chat) == {ReminderStatus.SENT: 10_000}
    async with chat.app.uow() as uow:
        keys = await uow.session.execute(
            select(func.count(func.distinct(OutboxMessage.dedupe_key))).where(
                OutboxMessage.kind == "reminder"
            )
        )
        assert keys.scalar_one() == 10_000


async def test_closing_mid_run_ends_the_transaction_in_hand_and_leaves_no_task_behind(
    chat: Chat, clock: FrozenClock
) -> None:
    await seed(chat.app.uow, people=3_000, due_at=clock.now() - timedelta(minutes=1))
    path = Path(str(make_url(chat.app.settings.database_url).database))
    jobs = chat.app.event_jobs
    jobs.start()
    await eventually("the first chunk", lambda: _reminders_in_outbox(path) > 0)
    await jobs.close()
    assert [t for t in asyncio.all_tasks() if t.get_name() == "event-jobs"] == []
    statuses = await reminder_rows(chat)
    in_outbox = await reminder_keys_in_outbox(chat)
    assert statuses[ReminderStatus.SENT] == len(in_outbox)  # whole chunks only
    assert len(in_outbox) % 200 == 0
    assert set(in_outbox) == await sent_reminder_keys(chat)
    await chat.app.event_jobs.run_once()  # the next start goes on
    assert await reminder_rows(chat) == {ReminderStatus.SENT: 3_000}


# -- a real crash ------------------------------------------------------------------------------


async def test_event_jobs_killed_with_sigkill_mid_run_then_restarted(tmp_path: Path) -> None:
    path = tmp_path / "jobs.db"
    url = f"sqlite+aiosqlite:///{path}"
    await upgrade_to_head_async(url)
    clock = SystemClock()
    db = Database(url, clock)
    try:
        users = await seed(db.uow, people=2_000, due_at=clock.now() - timedelta(minutes=1))
    finally:
        await db.close()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.reminder_child", url, cwd=ROOT, env=env
    )
    try:
        deadline = time.monotonic() + 60
        while _reminders_in_outbox(path) == 0:
            assert child.returncode is None, "the job's process ended by itself"
            assert time.monotonic() < deadline, "the job's process handed nothing over"
            await asyncio.sleep(0.002)
        child.send_signal(signal.SIGKILL)
    finally:
        with contextlib.suppress(ProcessLookupError):
            child.kill()
        await child.wait()

    before = _reminders_in_outbox(path)
    assert 0 < before < 2_000  # killed mid-run
    assert before % 200 == 0  # whole chunks only

    restarted = Database(url, clock)  # a new process
    try:
        jobs = EventJobs(restarted.uow, clock, catalogs(), "Europe/Copenhagen")
        assert (await jobs.run_once())["sent"] == 2_000 - before
        assert (await jobs.run_once())["sent"] == 0
        frozen = FrozenClock(clock.now() + timedelta(seconds=1))
        platform = FaultTransport(frozen, per_second=None)
        worker = DeliveryWorker(
            platform,
            restarted.uow,
            frozen,
            limits=RateLimits(per_second=10_000, private_per_second=1),
            policy=DeliveryPolicy(concurrency=32),
            sleeper=ClockSleeper(frozen),
        )
        await worker.drain(follow_future=True)
        rows = await restarted.rows()
    finally:
        await restarted.close()
    assert platform.arrived == Counter(dict.fromkeys(users, 1))  # each reminder once
    assert Counter(row.status for row in rows) == {OutboxStatus.SENT: 2_000}


async def test_asking_a_big_event_for_feedback_goes_a_hundred_people_a_transaction(
    backend_chat: Chat, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = backend_chat
    # reminders due five hours ago: the event began three hours ago and ended one hour ago
    users = await seed(chat.app.uow, people=250, due_at=clock.now() - timedelta(hours=5))
    real = scheduler.ask_after_events
    per_chunk: list[int] = []

    async def counted(services: Services, options: Any) -> Chunk:
        chunk = await real(services, options)
        per_chunk.append(chunk.counts["feedback_asked"])
        return chunk

    monkeypatch.setattr(scheduler, "ask_after_events", counted)
    assert (await chat.app.event_jobs.run_once())["feedback_asked"] == 250
    assert per_chunk == [100, 100, 50]
    assert (await chat.app.event_jobs.run_once())["feedback_asked"] == 0
    async with chat.app.uow() as uow:
        rows = await uow.session.execute(
            select(OutboxMessage.user_id, OutboxMessage.payload).where(
                OutboxMessage.kind == "feedback"
            )
        )
        asked = [(str(user), dict(payload)) for user, payload in rows.all()]
    assert sorted(user for user, _ in asked) == sorted(users)  # each once
    assert all("Tak, fordi du var med til Skovtur" in payload["text"] for _, payload in asked)

"""Reminders on time: fire lag, many due at once, start-up with many overdue, chat steps.

    python -m benchmarks.reminders [--burst 2000] [--overdue 10000] [--rounds 5]

Real SQLite files, the real `EventJobs` (woken at due times, 200 reminders a transaction)
and the real clock. Every figure stands next to a baseline measured in this process:

- the old job (`benchmarks/_old_reminder_job.py`: once a minute, one transaction of at most
  500 reminders with their own queries each) on an identical database;
- the floor: the same number of outbox rows written by plain aiosqlite (one executemany in
  one transaction), what any design pays at least;
- for start-up, the same start with nothing overdue.

(a) fire lag: a reminder made due `--lead` seconds ahead, the job woken (as an answer wakes
    it); lag = due time until a separate reader sees its outbox row. Target ≤ 2 s.
(b) burst: `--burst` reminders due at the same moment; from then until all are in the
    outbox (target ≤ 10 s), and the rows' lag p50/p99. The old job needed one run a minute
    per 500; its work alone (the runs back to back) is shown next to it.
(c) start-up: `BotApp.run` with `--overdue` reminders overdue and a platform that answers in
    50-150 ms; until the first update ("/help") is answered, i.e. its reply reaches the
    platform. Target ≤ 2 s.
(d) chat steps: "/help" from a different person every 25 ms while `--burst` reminders are
    handed over; each step's time to its reply over the idle median: the longest is the
    longest a chat step waited behind the job.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from benchmarks._old_reminder_job import OldEventJobs
from benchmarks._reminder_rows import PLATFORM, OutboxWatch, database, floor_insert, seed
from bot.app import BotApp
from bot.i18n import catalogs
from bot.scheduler import EventJobs
from bot.settings import Settings
from bot.transports.base import Dispatch
from conversations.core.messages import ChatRef, ChoiceEcho, Inbound, OutMessage, Sent
from storage.unit_of_work import UnitOfWorkFactory

TIMEZONE = "Europe/Copenhagen"
STEP_INTERVAL = 0.025
STEP_PEOPLE = 40


def new_jobs(uow: UnitOfWorkFactory) -> EventJobs:
    return EventJobs(uow, uow.clock, catalogs(), TIMEZONE)


def old_jobs(uow: UnitOfWorkFactory) -> OldEventJobs:
    return OldEventJobs(uow, uow.clock, catalogs(), TIMEZONE)


async def old_work(uow: UnitOfWorkFactory) -> float:
    """Seconds for the old job's runs, back to back, until nothing is due."""
    jobs = old_jobs(uow)
    started = time.perf_counter()
    while any((await jobs.run_once()).values()):
        pass
    return time.perf_counter() - started


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


# --- a platform that takes its time ---------------------------------------------------------


@dataclass
class SlowPlatform:
    """Answers every request in 50-150 ms; notes when each chat's messages arrived."""

    platform: str = PLATFORM
    first_update: Inbound | None = None
    arrived: dict[str, list[float]] = field(default_factory=dict)
    _stopped: asyncio.Event = field(default_factory=asyncio.Event)
    _random: random.Random = field(default_factory=lambda: random.Random(7))
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def run(self, dispatch: Dispatch) -> None:
        if self.first_update is not None:
            task = asyncio.create_task(dispatch(self.first_update))
            self._tasks.add(task)
        await self._stopped.wait()

    async def stop(self) -> None:
        self._stopped.set()

    async def send(self, ref: ChatRef, message: OutMessage) -> Sent:
        self.arrived.setdefault(ref.user_id, []).append(time.perf_counter())
        await asyncio.sleep(self._random.uniform(0.05, 0.15))
        return Sent(uuid.uuid4().hex[:8])

    async def echo(self, ref: ChatRef, echo: ChoiceEcho) -> None:
        await asyncio.sleep(self._random.uniform(0.05, 0.15))

    async def edit(self, ref: ChatRef, message_id: str, message: OutMessage) -> None:
        await asyncio.sleep(self._random.uniform(0.05, 0.15))

    def first_after(self, user: str, moment: float) -> float | None:
        return next((t for t in self.arrived.get(user, []) if t >= moment), None)


def settings_for(path: Path) -> Settings:
    return Settings(database_url=f"sqlite+aiosqlite:///{path}", _env_file=None)  # type: ignore[call-arg]


def help_from(user: str) -> Inbound:
    return Inbound(ChatRef(PLATFORM, user, user), uuid.uuid4().hex, text="/help")


# --- (a) one reminder ------------------------------------------------------------------------


@dataclass
class Lag:
    ours: list[float]
    old_work: float
    floor: float


async def fire_lag(folder: Path, rounds: int, lead: float) -> Lag:
    async with database(folder, "lag") as (path, uow):
        jobs = new_jobs(uow)
        jobs.start()
        watch = OutboxWatch(path)
        lags = []
        try:
            for done in range(rounds):
                due = uow.clock.now() + timedelta(seconds=lead)
                await seed(uow, people=1, due_at=due)
                jobs.wake()  # as the answer that made the reminder would
                seen = await watch.until(done + 1, patience=lead + 60)
                lags.append((seen[-1] - due).total_seconds())
        finally:
            jobs.stop()
            watch.close()
    async with database(folder, "lag-old") as (_, uow):
        await seed(uow, people=1, due_at=uow.clock.now())
        old = await old_work(uow)
    async with database(folder, "lag-floor") as (path, _):
        floor = await floor_insert(path, 1)
    return Lag(lags, old, floor)


# --- (b) many at once --------------------------------------------------------------------------


@dataclass
class Burst:
    all_in: float
    lags: list[float]
    old_work: float
    floor: float


async def burst(folder: Path, count: int) -> Burst:
    async with database(folder, "burst") as (path, uow):
        due = uow.clock.now() + timedelta(seconds=2 + count / 2000)  # after the seeding
        await seed(uow, people=count, due_at=due)
        jobs = new_jobs(uow)
        jobs.start()
        watch = OutboxWatch(path)
        try:
            seen = await watch.until(count, patience=300, every=0.005)
        finally:
            jobs.stop()
            watch.close()
        lags = [(moment - due).total_seconds() for moment in seen]
    async with database(folder, "burst-old") as (_, uow):
        await seed(uow, people=count, due_at=uow.clock.now())
        old = await old_work(uow)
    async with database(folder, "burst-floor") as (path, _):
        floor = await floor_insert(path, count)
    return Burst(max(lags), lags, old, floor)


# --- (c) start-up with overdue work -------------------------------------------------------------


async def first_answer(folder: Path, name: str, overdue: int, *, old: bool) -> float:
    """Seconds from `BotApp.run` until the reply to the first update reaches the platform."""
    async with database(folder, name) as (path, uow):
        [user] = await seed(uow, people=1, due_at=None)
        if overdue:
            await seed(uow, people=overdue, due_at=uow.clock.now() - timedelta(minutes=10))
    platform = SlowPlatform(first_update=help_from(user))
    app = BotApp(settings_for(path), [platform])
    if old:
        app.event_jobs = OldEventJobs(app.uow, app.clock, catalogs(), TIMEZONE)  # type: ignore[assignment]
    started = time.perf_counter()
    running = asyncio.create_task(app.run())
    try:
        while platform.first_after(user, started) is None:
            if running.done():
                running.result()
                raise RuntimeError("the bot stopped before answering")
            await asyncio.sleep(0.002)
    finally:
        await app.stop()
        await running
    answered = platform.first_after(user, started)
    assert answered is not None
    return answered - started


# --- (d) chat steps while the job runs ------------------------------------------------------------


async def chat_steps(folder: Path, name: str, count: int, job: str) -> list[float]:
    """Each step's seconds until its reply reached the platform, "/help" every 25 ms from
    one of 40 people, while the job (`new`, `old` or `none`) hands over `count` reminders."""
    async with database(folder, name) as (path, uow):
        users = await seed(uow, people=STEP_PEOPLE, due_at=None)
        if job != "none":
            await seed(uow, people=count, due_at=uow.clock.now() - timedelta(seconds=1))
    platform = SlowPlatform()
    app = BotApp(settings_for(path), [platform])
    durations: list[float] = []
    done = asyncio.Event()

    async def step(user: str) -> None:
        started = time.perf_counter()
        await app.dispatch(help_from(user))
        answered = platform.first_after(user, started)
        if answered is not None:
            durations.append(answered - started)

    async def steps() -> None:
        tasks = []
        for number in range(10**9):
            if done.is_set():
                break
            tasks.append(asyncio.create_task(step(users[number % len(users)])))
            await asyncio.sleep(STEP_INTERVAL)
        await asyncio.gather(*tasks)

    try:
        stepping = asyncio.create_task(steps())
        await asyncio.sleep(0.2)
        if job == "new":
            await app.event_jobs.run_once()
        elif job == "old":
            await old_work(app.uow)
        else:
            await asyncio.sleep(1.0)
        await asyncio.sleep(0.1)
        done.set()
        await stepping
    finally:
        await app.close()
    return durations


# --- the report -----------------------------------------------------------------------------------


def ratio(a: float, b: float) -> str:
    return f"× {a / b:.3g}" if b > 0 else "× –"


def verdict(value: float, target: float) -> str:
    return "target met" if value <= target else "TARGET MISSED"


async def run(burst_size: int, overdue: int, rounds: int, lead: float) -> int:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        print("reminders: SQLite, real clock; chunks of 200; old job ≤ 500 a minute", flush=True)

        lag = await fire_lag(folder, rounds, lead)
        worst = max(lag.ours)
        print(f"(a) one reminder's fire lag, due → outbox row committed ({rounds} rounds):")
        print(
            f"    ours: median {1000 * statistics.median(lag.ours):.0f} ms, "
            f"max {1000 * worst:.0f} ms ({verdict(worst, 2.0)}: ≤ 2 s)"
        )
        print(
            f"    old job's own work for it: {1000 * lag.old_work:.0f} ms "
            f"(ours {ratio(worst, lag.old_work)}), after waiting up to 60 s for its minute"
        )
        print(
            f"    floor, one plain aiosqlite insert: {1000 * lag.floor:.1f} ms "
            f"(ours {ratio(worst, lag.floor)})"
        )

        many = await burst(folder, burst_size)
        runs = math.ceil(burst_size / 500)
        print(f"(b) {burst_size:,} reminders due at the same moment:")
        print(
            f"    ours: all in the outbox {many.all_in:.2f} s after their due time "
            f"({verdict(many.all_in, 10.0)}: ≤ 10 s); lag p50 {percentile(many.lags, 0.5):.2f} s, "
            f"p99 {percentile(many.lags, 0.99):.2f} s"
        )
        print(
            f"    old job's work alone: {many.old_work:.2f} s in {runs} runs "
            f"(ours {ratio(many.all_in, many.old_work)}); with its minute between runs, "
            f"≥ {60 * (runs - 1)} s more"
        )
        print(
            f"    floor, plain aiosqlite executemany of {burst_size:,} rows: {many.floor:.3f} s "
            f"(ours {ratio(many.all_in, many.floor)})"
        )

        empty = await first_answer(folder, "start-empty", 0, old=False)
        old_start = await first_answer(folder, "start-old", overdue, old=True)
        ours = await first_answer(folder, "start-new", overdue, old=False)
        print("(c) start-up, first update answered (platform answers in 50-150 ms):")
        print(f"    nothing overdue: {empty:.2f} s")
        print(
            f"    {overdue:,} overdue, ours: {ours:.2f} s "
            f"({ratio(ours, empty)} of the empty start; {verdict(ours, 2.0)}: ≤ 2 s)"
        )
        print(f"    {overdue:,} overdue, old job: {old_start:.2f} s ({ratio(old_start, empty)})")

        idle = await chat_steps(folder, "steps-idle", burst_size, "none")
        base = statistics.median(idle)
        waits = {
            job: [d - base for d in await chat_steps(folder, f"steps-{job}", burst_size, job)]
            for job in ("new", "old")
        }
        print(f"(d) chat steps (/help every 25 ms) while {burst_size:,} reminders are handed over:")
        print(f"    idle: median {1000 * base:.0f} ms to the reply ({len(idle)} steps)")
        for job, label in (("new", "ours"), ("old", "old job")):
            print(
                f"    {label}: longest wait behind the job {1000 * max(waits[job]):.0f} ms, "
                f"p99 {1000 * percentile(waits[job], 0.99):.0f} ms ({len(waits[job])} steps)"
            )
        print(f"    longest wait, ours ÷ old job: {ratio(max(waits['new']), max(waits['old']))}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.reminders")
    parser.add_argument("--burst", type=int, default=2_000, help="reminders due at once")
    parser.add_argument("--overdue", type=int, default=10_000, help="overdue at start")
    parser.add_argument("--rounds", type=int, default=5, help="single reminders timed")
    parser.add_argument("--lead", type=float, default=1.0, help="seconds ahead each is due")
    args = parser.parse_args(argv)
    return asyncio.run(run(args.burst, args.overdue, args.rounds, args.lead))


if __name__ == "__main__":
    raise SystemExit(main())

"""Updates a second through the whole stack versus PTB's bare dispatch, in one run.

All sides get the same PTB `Update` objects through `Application.update_queue`, with the
same concurrency (64 updates at a time), a fresh database each (an SQLite file, or with
`--postgres URL` a PostgreSQL database) and the same storage layer (storage/db.py,
storage/unit_of_work.py):

- full stack: our `TelegramTransport` handler -> `Inbound` -> `BotApp.dispatch` (per-chat
  order) -> router -> onboarding flow -> database writes, and the replies rendered through
  PTB's `Bot` to an in-process Bot API that answers at once (no network in the numbers);
- bare PTB + equivalent write (the baseline of the target): a PTB `TypeHandler` that
  stores, by hand, what the step stores: in one transaction the update log row, the person
  and identity on first contact, the answer (language, consent with its record, name) and
  the onboarding state. No router, flow engine, stored questions or replies;
- bare PTB + one row (the floor, for reference): the same handler writing only the update
  log row. No chat step can store an answer and its state in one row, so this line shows
  the cost of the database round trips themselves.

Each person sends "/start", "en", "yes" and a name: four updates, each one flow step.
Every side runs `--rounds` times (3), interleaved; printed are each round's updates/s and
handler latency, then the median of the rounds' ratios: full stack / equivalent write (the
target, >= 0.5), full stack / floor and full stack / app only, and latency p50/p99.

    python -m benchmarks.telegram_updates [--people 150] [--rounds 3] [--postgres URL]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import secrets
import statistics
import tempfile
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import func, insert, select
from sqlalchemy import update as sql_update
from sqlalchemy.engine import make_url
from telegram import Update
from telegram.ext import Application, ApplicationBuilder, BaseUpdateProcessor, TypeHandler
from telegram.request import BaseRequest, RequestData

from bot.app import BotApp
from bot.demo import seed_starter_topics
from bot.intake import Intake
from bot.rate_limit import RateLimits
from bot.settings import Settings
from bot.transports.telegram import TelegramTransport
from conversations.core.messages import Inbound
from storage.clock import SystemClock
from storage.db import create_engine, create_sessionmaker
from storage.migrate import upgrade_to_head_async
from storage.models import ConsentRecord, Conversation, Identity, Person
from storage.unit_of_work import UnitOfWorkFactory

BOT_USER = {"id": 1, "is_bot": True, "first_name": "Bench", "username": "BenchBot"}
CONCURRENCY = 64

GET_UPDATES_LIMIT = 100  # updates a getUpdates call hands out at most
# Telegram's ~30 messages a second would cap both sides alike (the baselines send no
# replies at all): the benchmark measures the bot's own work, so the ceiling is lifted.
UNLIMITED = {"telegram": RateLimits(per_second=1_000_000)}


class ChatOrderedUpdateProcessor(BaseUpdateProcessor):
    """Updates run concurrently across chats, strictly one after another within a chat.

    PTB starts one task per update in the order it received them; each task takes its
    chat's lock (FIFO) before any other await, so a chat's updates keep their order.
    """

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        lock = self._locks.get(chat.id)
        if lock is None:
            lock = self._locks[chat.id] = asyncio.Lock()
        async with lock:
            await coroutine

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


class InstantBotAPI(BaseRequest):
    """Answers every Bot API call in-process, as Telegram would, without a network."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self.calls = 0

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        self.calls += 1
        name = url.rsplit("/", 1)[-1]
        params = request_data.parameters if request_data is not None else {}
        result: Any = True
        if name == "getMe":
            result = BOT_USER
        elif name.startswith(("send", "edit")):
            result = {
                "message_id": next(self._ids),
                "date": 0,
                "chat": {"id": int(str(params.get("chat_id", 0))), "type": "private"},
                "text": "ok",
            }
        return 200, json.dumps({"ok": True, "result": result}).encode()


def make_updates(people: int) -> list[Update]:
    updates: list[Update] = []
    update_ids = itertools.count(1)
    steps = ["/start", "en", "yes", "Benchmark Person"]
    for step in steps:
        for person in range(people):
            user = {"id": 10_000 + person, "is_bot": False, "first_name": f"P{person}"}
            message: dict[str, Any] = {
                "message_id": next(update_ids),
                "date": 0,
                "chat": {"id": user["id"], "type": "private"},
                "from": user,
                "text": step,
            }
            if step.startswith("/"):
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(step)}]
            update = Update.de_json({"update_id": message["message_id"], "message": message}, None)
            assert update is not None
            updates.append(update)
    return updates


@dataclass
class Result:
    name: str
    updates: int
    seconds: float
    latencies: list[float]

    @property
    def per_second(self) -> float:
        return self.updates / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    def line(self) -> str:
        return (
            f"{self.name:<11} {self.updates:>6} updates in {self.seconds:6.2f} s = "
            f"{self.per_second:8.1f}/s   handler p50 {self.percentile(0.5):7.2f} ms   "
            f"p99 {self.percentile(0.99):7.2f} ms"
        )


async def _drive(
    application: Application[Any, Any, Any, Any, Any, Any],
    updates: list[Update],
    done: asyncio.Event,
) -> float:
    await application.start()
    started = time.perf_counter()
    for update in updates:
        application.update_queue.put_nowait(update)
    await done.wait()
    elapsed = time.perf_counter() - started
    await application.stop()
    return elapsed


def _timed(
    handler: Callable[[Update], Awaitable[None]],
    latencies: list[float],
    total: int,
    done: asyncio.Event,
) -> Callable[[Update, Any], Coroutine[Any, Any, None]]:
    async def timed(update: Update, context: Any) -> None:
        start = time.perf_counter()
        try:
            await handler(update)
        finally:
            latencies.append(time.perf_counter() - start)
            if len(latencies) >= total:
                done.set()

    return timed


async def full_stack(updates: list[Update], url: str, concurrency: int) -> Result:
    """Update -> the transport's batch -> kept in the inbox -> router -> flow -> DB (with the
    replies as outbox rows) -> replies sent through PTB's Bot and recorded."""
    settings = Settings(database_url=url, _env_file=None)
    api = InstantBotAPI()
    transport = TelegramTransport("1:bench", request=api)
    app = BotApp(settings, [transport], limits=UNLIMITED)
    await app.migrate()
    await seed_starter_topics(app.uow)
    latencies: list[float] = []
    done = asyncio.Event()
    arrived: dict[str, float] = {}

    async def timed(inbound: Inbound) -> None:
        try:
            await app.dispatch(inbound)
        finally:
            latencies.append(time.perf_counter() - arrived[inbound.event_id])
            if len(latencies) >= len(updates):
                done.set()

    app.intake = Intake(app.uow, timed, concurrency=concurrency)
    await transport.application.initialize()
    transport._dispatch = app.intake
    started = time.perf_counter()
    for first in range(0, len(updates), GET_UPDATES_LIMIT):  # as getUpdates hands them out
        batch = updates[first : first + GET_UPDATES_LIMIT]
        now = time.perf_counter()
        arrived.update((str(update.update_id), now) for update in batch)
        await transport._receive(batch)
    await done.wait()
    seconds = time.perf_counter() - started
    await transport.application.shutdown()
    async with app.uow() as uow:
        onboarded = 0
        for update in updates[: len(updates) // 4]:
            assert update.effective_user is not None
            identity = await uow.persons.find_identity("telegram", str(update.effective_user.id))
            assert identity is not None
            person = await uow.persons.get(identity.person_id)
            assert person is not None
            onboarded += person.display_name == "Benchmark Person"
    await app.close()
    if onboarded != len(updates) // 4:
        raise RuntimeError(f"only {onboarded} of {len(updates) // 4} people got through")
    return Result("full stack", len(updates), seconds, latencies)


async def app_only(updates: list[Update], url: str, concurrency: int) -> Result:
    """The same steps handed straight to BotApp.dispatch: what the app costs without PTB."""
    settings = Settings(database_url=url, _env_file=None)
    transport = TelegramTransport("1:bench", request=InstantBotAPI())
    await transport.application.initialize()
    app = BotApp(settings, [transport], limits=UNLIMITED)
    await app.migrate()
    await seed_starter_topics(app.uow)
    inbounds = [transport.to_inbound(update) for update in updates]
    latencies: list[float] = []
    gate = asyncio.Semaphore(concurrency)

    async def one(inbound: Inbound | None) -> None:
        assert inbound is not None
        async with gate:
            start = time.perf_counter()
            await app.dispatch(inbound)
            latencies.append(time.perf_counter() - start)

    started = time.perf_counter()
    await asyncio.gather(*(one(inbound) for inbound in inbounds))
    seconds = time.perf_counter() - started
    await transport.application.shutdown()
    await app.close()
    return Result("app only", len(updates), seconds, latencies)


Write = Callable[[UnitOfWorkFactory, Update], Awaitable[None]]


async def one_row(uow: UnitOfWorkFactory, update: Update) -> None:
    async with uow() as work:
        await work.inbox.begin_handling("telegram", str(update.update_id))
        await work.commit()


NEXT_STATE = {"language": "consent", "consent": "name", "name": "interests"}


async def equivalent_write(uow: UnitOfWorkFactory, update: Update) -> None:
    """What the onboarding step stores, written by hand in one transaction."""
    assert update.effective_user is not None
    assert update.message is not None
    user_id, text = str(update.effective_user.id), update.message.text or ""
    async with uow() as work:
        session, now = work.session, work.clock.now()
        if not await work.inbox.begin_handling("telegram", str(update.update_id)):
            return
        found = (
            await session.execute(
                select(Identity.person_id, Conversation.id, Conversation.state)
                .outerjoin(
                    Conversation,
                    (Conversation.platform == Identity.platform)
                    & (Conversation.user_id == Identity.user_id),
                )
                .where(Identity.platform == "telegram", Identity.user_id == user_id)
            )
        ).first()
        if found is None:
            person_id = (
                await session.execute(
                    insert(Person)
                    .values(language="da", created_at=now, updated_at=now)
                    .returning(Person.id)
                )
            ).scalar_one()
            await session.execute(
                insert(Identity).values(
                    person_id=person_id,
                    platform="telegram",
                    user_id=user_id,
                    chat_id=user_id,
                    created_at=now,
                )
            )
            await session.execute(
                insert(Conversation).values(
                    platform="telegram",
                    chat_id=user_id,
                    user_id=user_id,
                    person_id=person_id,
                    flow="onboarding",
                    state="language",
                    data={},
                    history=[],
                    started_at=now,
                    updated_at=now,
                    expires_at=now + timedelta(days=1),
                )
            )
        else:
            person_id, conversation_id, state = found
            answer: dict[str, Any] = {"updated_at": now}
            if state == "language":
                answer["language"] = text
            elif state == "consent":
                answer.update(consent="given", consent_version="1", consent_at=now)
                await session.execute(
                    insert(ConsentRecord).values(
                        person_id=person_id, version="1", given=True, recorded_at=now
                    )
                )
            elif state == "name":
                answer["display_name"] = text
            await session.execute(sql_update(Person).where(Person.id == person_id).values(answer))
            await session.execute(
                sql_update(Conversation)
                .where(Conversation.id == conversation_id)
                .values(state=NEXT_STATE.get(state, state), updated_at=now)
            )
        await work.commit()


async def bare_ptb(
    updates: list[Update], url: str, concurrency: int, name: str, write: Write
) -> Result:
    await upgrade_to_head_async(url)
    engine = create_engine(url)
    uow = UnitOfWorkFactory(create_sessionmaker(engine), SystemClock())
    application = (
        ApplicationBuilder()
        .token("1:bench")
        .request(InstantBotAPI())
        .get_updates_request(InstantBotAPI())
        .concurrent_updates(ChatOrderedUpdateProcessor(concurrency))
        .job_queue(None)
        .build()
    )

    async def handle(update: Update) -> None:
        await write(uow, update)

    latencies: list[float] = []
    done = asyncio.Event()
    application.add_handler(TypeHandler(Update, _timed(handle, latencies, len(updates), done)))
    await application.initialize()
    seconds = await _drive(application, updates, done)
    await application.shutdown()
    if write is equivalent_write:
        async with uow() as work:
            named = await work.session.scalar(
                select(func.count(Person.id)).where(Person.display_name == "Benchmark Person")
            )
        if named != len(updates) // 4:
            raise RuntimeError(f"the baseline onboarded {named} of {len(updates) // 4} people")
    await engine.dispose()
    return Result(name, len(updates), seconds, latencies)


class Databases:
    """A fresh, empty database for each side: a file in a temporary folder, or, given a
    PostgreSQL URL, a database created on that server for the side and dropped after."""

    def __init__(self, folder: Path, postgres_url: str | None = None) -> None:
        self._folder = folder
        self._postgres = postgres_url

    @asynccontextmanager
    async def fresh(self, name: str) -> AsyncIterator[str]:
        if self._postgres is None:
            yield f"sqlite+aiosqlite:///{self._folder / (name + '.db')}"
            return
        database = f"tmm_bench_{name}_{secrets.token_hex(4)}"
        await self._administer(f'CREATE DATABASE "{database}"')
        try:
            yield (
                make_url(self._postgres)
                .set(database=database)
                .render_as_string(hide_password=False)
            )
        finally:
            await self._administer(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    async def _administer(self, statement: str) -> None:
        assert self._postgres is not None
        dsn = make_url(self._postgres).set(drivername="postgresql")
        connection = await asyncpg.connect(dsn.render_as_string(hide_password=False))
        try:
            await connection.execute(statement)
        finally:
            await connection.close()


async def one_round(people: int, concurrency: int, databases: Databases) -> dict[str, Result]:
    results: dict[str, Result] = {}
    async with databases.fresh("one_row") as url:
        results["floor"] = await bare_ptb(
            make_updates(people), url, concurrency, "bare 1 row", one_row
        )
    async with databases.fresh("equivalent_write") as url:
        results["bare"] = await bare_ptb(
            make_updates(people), url, concurrency, "bare equiv.", equivalent_write
        )
    async with databases.fresh("full") as url:
        results["full"] = await full_stack(make_updates(people), url, concurrency)
    async with databases.fresh("app") as url:
        results["app"] = await app_only(make_updates(people), url, concurrency)
    return results


def _median_ratio(rounds: list[dict[str, Result]], top: str, bottom: str) -> float:
    return statistics.median(r[top].per_second / r[bottom].per_second for r in rounds)


async def main(
    people: int,
    concurrency: int = CONCURRENCY,
    rounds: int = 3,
    postgres_url: str | None = None,
) -> float:
    """Runs every side `rounds` times, interleaved, so a slow moment on a shared machine
    hits all sides alike; reports the median of each round's ratio. Returns the ratio."""
    results: list[dict[str, Result]] = []
    for number in range(rounds):
        with tempfile.TemporaryDirectory() as tmp:
            databases = Databases(Path(tmp), postgres_url)
            results.append(await one_round(people, concurrency, databases))
        print(f"round {number + 1} of {rounds}:")
        for result in results[-1].values():
            print("  " + result.line())
    backend = "PostgreSQL" if postgres_url else "SQLite"
    print(
        f"Telegram updates: {people} people x 4 onboarding steps, concurrency {concurrency}, "
        f"{backend}, median of {rounds} interleaved rounds"
    )
    ratio = _median_ratio(results, "full", "bare")
    print(
        f"ratio full stack / bare PTB + equivalent write: {ratio:.2f} (target >= 0.5)"
        + ("" if ratio >= 0.5 else "   BELOW TARGET")
    )
    print(
        f"ratio full stack / bare PTB + one row: {_median_ratio(results, 'full', 'floor'):.2f} "
        "(the floor: round trips only, no answer stored)"
    )
    print(
        f"ratio full stack / app only: {_median_ratio(results, 'full', 'app'):.2f} "
        "(what the Telegram transport and PTB cost on top of the app)"
    )
    latencies = [latency for r in results for latency in r["full"].latencies]
    ordered = sorted(latencies)
    print(
        f"handler latency, full stack (64 updates queued at once): "
        f"p50 {statistics.median(ordered) * 1000:.1f} ms, "
        f"p99 {ordered[int(0.99 * (len(ordered) - 1))] * 1000:.1f} ms"
    )
    return ratio


def run(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks telegram_updates")
    parser.add_argument("--people", type=int, default=150)
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="run every side on PostgreSQL instead (postgresql+asyncpg://user@host/db; "
        "a database is created per side and dropped after)",
    )
    args = parser.parse_args(argv)
    asyncio.run(main(args.people, args.concurrency, args.rounds, args.postgres))


if __name__ == "__main__":
    run()

"""Updates a second through the whole stack versus PTB's bare dispatch, in one run.

Both sides get the same PTB `Update` objects through `Application.update_queue`, with the
same concurrency (64 updates at a time) and a fresh SQLite file each:

- full stack: our `TelegramTransport` handler -> `Inbound` -> `BotApp.dispatch` (per-chat
  order) -> router -> onboarding flow -> database writes, and the replies rendered through
  PTB's `Bot` to an in-process Bot API that answers at once (no network in the numbers);
- bare: a PTB `TypeHandler` doing one equivalent database write (an update-log row in its
  own transaction) per update.

Each person sends "/start", "en", "yes" and a name: four updates, each one flow step.
Prints updates/s for both, the ratio (target >= 0.5) and handler latency p50/p99.

    python -m benchmarks telegram_updates [--people 150]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import Application, ApplicationBuilder, TypeHandler
from telegram.request import BaseRequest, RequestData

from bot.app import BotApp
from bot.demo import seed_starter_topics
from bot.settings import Settings
from bot.transports.telegram import ChatOrderedUpdateProcessor, TelegramTransport
from conversations.messages import Inbound
from storage.clock import SystemClock
from storage.db import create_engine, create_sessionmaker
from storage.migrate import upgrade_to_head_async
from storage.unit_of_work import UnitOfWorkFactory

BOT_USER = {"id": 1, "is_bot": True, "first_name": "Bench", "username": "BenchBot"}
CONCURRENCY = 64


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


async def full_stack(updates: list[Update], folder: Path, concurrency: int) -> Result:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{folder / 'full.db'}",
        _env_file=None,
    )
    api = InstantBotAPI()
    transport = TelegramTransport(
        "1:bench", rate_limit=0, concurrent_updates=concurrency, request=api
    )
    app = BotApp(settings, [transport])
    await app.migrate()
    await seed_starter_topics(app.uow)
    latencies: list[float] = []
    done = asyncio.Event()
    application = transport.application
    await application.initialize()
    transport._dispatch = app.dispatch
    # our own handler, timed: Update -> Inbound -> router -> flow -> DB -> replies
    application.handlers.clear()
    application.add_handler(
        TypeHandler(
            Update,
            _timed(lambda u: transport._on_update(u, None), latencies, len(updates), done),  # type: ignore[arg-type]
        )
    )
    seconds = await _drive(application, updates, done)
    await application.shutdown()
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


async def app_only(updates: list[Update], folder: Path, concurrency: int) -> Result:
    """The same steps handed straight to BotApp.dispatch: what the app costs without PTB."""
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{folder / 'app.db'}",
        _env_file=None,
    )
    transport = TelegramTransport("1:bench", rate_limit=0, request=InstantBotAPI())
    await transport.application.initialize()
    app = BotApp(settings, [transport])
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


async def bare_ptb(updates: list[Update], folder: Path, concurrency: int) -> Result:
    url = f"sqlite+aiosqlite:///{folder / 'bare.db'}"
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

    async def one_write(update: Update) -> None:
        async with uow() as work:
            await work.updates.first_time("bare", str(update.update_id))
            await work.commit()

    latencies: list[float] = []
    done = asyncio.Event()
    application.add_handler(TypeHandler(Update, _timed(one_write, latencies, len(updates), done)))
    await application.initialize()
    seconds = await _drive(application, updates, done)
    await application.shutdown()
    await engine.dispose()
    return Result("bare PTB", len(updates), seconds, latencies)


async def main(people: int, concurrency: int = CONCURRENCY) -> None:
    updates = make_updates(people)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        bare = await bare_ptb(updates, folder, concurrency)
        full = await full_stack(make_updates(people), folder, concurrency)
        app = await app_only(make_updates(people), folder, concurrency)
    print(f"Telegram updates: {people} people x 4 onboarding steps, concurrency {concurrency}")
    print(bare.line())
    print(full.line())
    print(app.line())
    ratio = full.per_second / bare.per_second
    print(f"ratio full stack / bare PTB: {ratio:.2f} (target >= 0.5)")
    print(
        f"ratio full stack / app only: {full.per_second / app.per_second:.2f} "
        "(what the Telegram transport and PTB cost on top of the app)"
    )
    print(f"median handler time, full stack: {statistics.median(full.latencies) * 1000:.2f} ms")


def run(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks telegram_updates")
    parser.add_argument("--people", type=int, default=150)
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY)
    args = parser.parse_args(argv)
    asyncio.run(main(args.people, args.concurrency))


if __name__ == "__main__":
    run()

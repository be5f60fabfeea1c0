"""Replies during a broadcast: people write at 10 updates a second while 3,000 invitations go
out at the platform's limit.

    python -m benchmarks.reply_latency [--recipients 3000] [--seconds 20] [--rate 10]

The whole bot (`BotApp.run`, the real Telegram transport and delivery worker) against the
fake Bot API: every request answered after 50-150 ms, Telegram's flood control at 30/s, the
bot's limit 30/s. `--rate` updates a second (/hjaelp, from 40 people in turn, so no one
writes twice within their chat's second) for `--seconds`, while the broadcast runs. Measured:

- a reply's wait for its send slot: from the reply being handed to the limiter until the
  limiter lets it go (`RateLimiter.ready`), p50/p99 (target p99 ≤ 50 ms);
- the handler: the router's unit of work for the update (`Router.handle`), p50/p99
  (target p99 ≤ 100 ms);
- update to reply at the platform, p50/p99;
- the broadcast's rate at the wire while people wrote ÷ the limit (target ≥ 0.9).

Baseline in the same run: the same updates with no broadcast; ratios are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import tempfile
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.app import BotApp
from bot.rate_limit import Push, RateLimiter
from bot.settings import Settings
from bot.transports.telegram import TelegramTransport
from conversations.core.messages import Inbound
from tests.fake_api_wire import FloodControl
from tests.fault_transport import enqueue_broadcast, seed_people
from tests.telegram_fake_api import FakeBotAPI

TOKEN = "4242:reply-latency"
WRITERS = 40
FIRST_WRITER = 900_000
LIMIT = 30
HELP = "Det her kan jeg hjælpe med"


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


@dataclass
class Run:
    name: str
    slot_waits: list[float] = field(default_factory=list)
    handlers: list[float] = field(default_factory=list)
    round_trips: list[float] = field(default_factory=list)
    broadcast_rate: float = 0.0
    refusals: int = 0


def _watch_slots(run: Run) -> Callable[[], None]:
    """Times `RateLimiter.ready` for replies (urgent pushes); returns the undo."""
    original = RateLimiter.ready

    async def ready(self: RateLimiter, push: Push) -> None:
        started = time.perf_counter()
        await original(self, push)
        if push.urgent:
            run.slot_waits.append(time.perf_counter() - started)

    RateLimiter.ready = ready  # type: ignore[method-assign]

    def undo() -> None:
        RateLimiter.ready = original  # type: ignore[method-assign]

    return undo


def _watch_handler(app: BotApp, run: Run) -> None:
    handle: Callable[..., Coroutine[Any, Any, Any]] = app.router.handle

    async def timed(inbound: Inbound, **options: Any) -> Any:
        started = time.perf_counter()
        try:
            return await handle(inbound, **options)
        finally:
            run.handlers.append(time.perf_counter() - started)

    app.router.handle = timed  # type: ignore[method-assign]


async def _seed(app: BotApp, recipients: int) -> None:
    async with app.uow() as uow:
        now = uow.clock.now()
        for user_id in range(FIRST_WRITER, FIRST_WRITER + WRITERS):
            person, _ = await uow.persons.get_or_create(
                "telegram", str(user_id), str(user_id), language="da"
            )
            await uow.persons.record_consent(person, app.settings.consent_version, given=True)
            person.display_name, person.onboarded_at = f"P{user_id}", now
        await uow.commit()
    if recipients:
        people = await seed_people(app.uow, app.clock, recipients, prefix="r")
        await enqueue_broadcast(app.uow, people, batch="bc:reply-latency")


async def one_run(recipients: int, seconds: float, rate: float, *, seed: int) -> Run:
    run = Run("during a broadcast" if recipients else "baseline (no broadcast)")
    fake = FakeBotAPI(flood=FloodControl(per_second=LIMIT), latency=(0.05, 0.15), seed=seed)
    await fake.start()
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{Path(folder) / 'bot.db'}",
            media_path=Path(folder) / "media",
            telegram_rate_per_second=LIMIT,
            _env_file=None,  # type: ignore[call-arg]
        )
        app = BotApp(settings, [TelegramTransport(TOKEN, api_base_url=fake.url, poll_timeout=1)])
        await app.migrate()
        await _seed(app, recipients)
        _watch_handler(app, run)
        undo = _watch_slots(run)
        bot = asyncio.create_task(app.run())
        try:
            await _wait_for(lambda: "getUpdates" in fake.requests, 60)
            await _wait_for(lambda: _invitations(fake) >= min(recipients, 60), 120)
            pushed: list[tuple[str, float]] = []
            began = time.monotonic()
            before = _invitations(fake)
            for number in range(int(seconds * rate)):
                await asyncio.sleep(max(0.0, began + number / rate - time.monotonic()))
                chat = str(FIRST_WRITER + number % WRITERS)
                pushed.append((chat, time.monotonic()))
                fake.push_update(fake.message_update(int(chat), "/hjaelp"))
            ended = time.monotonic()
            run.broadcast_rate = (_invitations(fake) - before) / (ended - began)
            await _wait_for(lambda: _replies(fake) >= len(pushed), 60)
            run.round_trips = _round_trips(fake, pushed)
            run.refusals = fake.wire.refusals
        finally:
            undo()
            await app.stop()
            await asyncio.wait_for(bot, 60)
            await fake.stop()
    return run


def _invitations(fake: FakeBotAPI) -> int:
    return sum(len(items) for chat, items in fake.wire.arrived.items() if not _writer(chat))


def _writer(chat: str) -> bool:
    return FIRST_WRITER <= int(chat) < FIRST_WRITER + WRITERS


def _replies(fake: FakeBotAPI) -> int:
    return sum(1 for chat, items in fake.wire.arrived.items() for a in items if HELP in a.text)


def _round_trips(fake: FakeBotAPI, pushed: list[tuple[str, float]]) -> list[float]:
    """Each update's time to its reply: the replies to a chat taken in order."""
    answers = {
        chat: sorted(a.at for a in items if HELP in a.text)
        for chat, items in fake.wire.arrived.items()
    }
    taken: dict[str, int] = {}
    trips = []
    for chat, at in pushed:
        index = taken.get(chat, 0)
        taken[chat] = index + 1
        trips.append(answers[chat][index] - at)
    return trips


async def _wait_for(condition: Callable[[], bool], patience: float) -> None:
    deadline = time.monotonic() + patience
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the bot did not get there")
        await asyncio.sleep(0.02)


def _line(run: Run) -> str:
    ms = 1000
    return (
        f"  {run.name:<24} slot wait p50 {ms * percentile(run.slot_waits, 0.5):6.1f} "
        f"p99 {ms * percentile(run.slot_waits, 0.99):6.1f} ms | handler p50 "
        f"{ms * percentile(run.handlers, 0.5):6.1f} p99 {ms * percentile(run.handlers, 0.99):6.1f}"
        f" ms | to the platform p50 {ms * percentile(run.round_trips, 0.5):6.1f} p99 "
        f"{ms * percentile(run.round_trips, 0.99):6.1f} ms | 429s {run.refusals}"
    )


async def measure(recipients: int, seconds: float, rate: float) -> tuple[Run, Run]:
    baseline = await one_run(0, seconds, rate, seed=1)
    during = await one_run(recipients, seconds, rate, seed=1)
    return baseline, during


def report(baseline: Run, during: Run) -> bool:
    print(_line(baseline))
    print(_line(during))
    for what, values in (("slot wait", "slot_waits"), ("handler", "handlers")):
        base = percentile(getattr(baseline, values), 0.99)
        ratio = percentile(getattr(during, values), 0.99) / base if base else float("nan")
        print(f"  {what} p99, during ÷ baseline: {ratio:.2f}")
    share = during.broadcast_rate / LIMIT
    print(f"  broadcast while people wrote: {during.broadcast_rate:.1f}/s = {share:.3f} × limit")
    targets = {
        "reply slot wait p99 ≤ 50 ms": percentile(during.slot_waits, 0.99) <= 0.050,
        "handler p99 ≤ 100 ms": percentile(during.handlers, 0.99) <= 0.100,
        "broadcast ≥ 0.9 × limit": share >= 0.9,
    }
    for what, met in targets.items():
        print(f"  {'met' if met else 'NOT MET'}: {what}")
    return all(targets.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.reply_latency")
    parser.add_argument("--recipients", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=10.0, help="updates a second")
    args = parser.parse_args(argv)
    print(
        f"reply_latency: {args.rate:g} updates/s for {args.seconds:g} s, a broadcast to "
        f"{args.recipients:,} at {LIMIT}/s; fake Bot API 50-150 ms with flood control",
        flush=True,
    )
    baseline, during = asyncio.run(measure(args.recipients, args.seconds, args.rate))
    return 0 if report(baseline, during) else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""SIGKILL cycles: the bot killed at random moments during a broadcast, reminders and replies.

    python -m benchmarks.kill_cycles [--cycles 80] [--people 3000] [--seed 1]

A real `python -m bot run` (SQLite file) against the fake Bot API (each request answered
after 50-150 ms, Telegram's flood control at 30/s). The world: everybody invited to one
event (a broadcast with buttons, at the bot's 30/s), groups of people with a reminder due at
times spread over the run, and people who press "count me in" on the invitation that reached
them or write /hjaelp (about 8 updates a second) while the bot runs. Each cycle starts the
bot, waits until it talks to the platform, lets it work a random 0.2-2.5 s and kills it with
SIGKILL. After the last cycle the bot runs until everything is done, and what arrived at the
platform is counted per recipient (tests/telegram_bot_process.py):

- duplicates: a message that arrived twice (target 0);
- lost answers: a press with no RSVP row (target 0);
- lost replies: an update never answered, with no row in doubt for it (target 0);
- lost messages: an invitation or reminder that never arrived, its row not in doubt (0);
- unknown rows, as a share of all rows (target < 0.5 %), and of those how many arrived:
  a row is `unknown` when its request had begun as the process died; one that never arrived
  had not reached the platform yet (the bot cannot tell, and names it to the coordinator).

"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from storage.clock import SystemClock
from tests.fake_api_wire import FloodControl
from tests.telegram_bot_process import BotProcess, People, Tally, World, seed_world, settle, tally
from tests.telegram_fake_api import FakeBotAPI

UPDATES_PER_SECOND = 8
REMINDER_GROUPS = 8
PATIENCE = 300.0


async def _people_act(
    world: World, people: People, rng: random.Random, stop: asyncio.Event
) -> None:
    """Presses on invitations that arrived, and /hjaelp from the writers, at a steady pace."""
    while not stop.is_set():
        if rng.random() < 0.6:
            for chat in rng.sample(world.invited, min(50, len(world.invited))):
                if people.press_yes(chat):
                    break
        else:
            people.ask_help(rng.choice(world.writers))
        await asyncio.sleep(1 / UPDATES_PER_SECOND)


async def _until_talking(fake: FakeBotAPI, bot: BotProcess, seen: int) -> None:
    """Until the new process has made a request of the platform."""
    deadline = time.monotonic() + 60
    while len(fake.requests) <= seen:
        assert bot.running, f"the bot stopped by itself:\n{bot.tail()}"
        assert time.monotonic() < deadline, f"the bot never called the platform:\n{bot.tail()}"
        await asyncio.sleep(0.01)


@dataclass
class Run:
    tally: Tally
    seconds: float
    arrived: int  # messages that arrived at the platform
    refusals: int  # requests the platform answered with 429
    torn: int  # requests the platform saw begin but never whole (the process died)


async def run_cycles(cycles: int, people_count: int, seed: int) -> Run:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        fake = FakeBotAPI(flood=FloodControl(per_second=30), latency=(0.05, 0.15), seed=seed)
        await fake.start()
        expected = cycles * 3.0  # seconds the cycles take, roughly
        now = SystemClock().now()
        dues = [
            now + timedelta(seconds=2 + expected * i / REMINDER_GROUPS)
            for i in range(REMINDER_GROUPS)
        ]
        reminded_each = max(5, people_count // 100)
        world = await seed_world(
            folder,
            invited=people_count,
            reminders_due=dues,
            reminded_each=reminded_each,
            writers=max(5, people_count // 75),
        )
        bot = BotProcess(fake.url, world, folder, telegram_rate_per_second="30")
        people = People(fake)
        started = time.perf_counter()
        try:
            for _ in range(cycles):
                seen = len(fake.requests)
                await bot.start()
                await _until_talking(fake, bot, seen)
                stop = asyncio.Event()
                acting = asyncio.create_task(_people_act(world, people, rng, stop))
                await asyncio.sleep(rng.uniform(0.2, 2.5))
                await bot.kill()
                stop.set()
                await acting
            await bot.start()
            await settle(world, people, bot, PATIENCE)
            await bot.kill()
            return Run(
                tally(world, people),
                time.perf_counter() - started,
                sum(len(a) for a in fake.wire.arrived.values()),
                fake.wire.refusals,
                fake.wire.torn,
            )
        finally:
            await bot.kill()
            await fake.stop()


def report(run: Run, cycles: int) -> bool:
    result = run.tally
    share = result.unknown / result.rows if result.rows else 0.0
    print(
        f"  {cycles} SIGKILL cycles in {run.seconds:.0f} s; {run.arrived:,} messages arrived; "
        f"{run.refusals} answered 429"
    )
    print(f"  duplicates: {len(result.duplicates)}  {result.duplicates[:3]}  (target 0)")
    print(f"  lost answers: {len(result.lost_answers)}  (presses without an RSVP; target 0)")
    print(f"  lost replies: {len(result.lost_replies)}  {result.lost_replies[:3]}  (target 0)")
    print(f"  lost invitations and reminders: {len(result.lost_messages)}  (target 0)")
    print(
        f"  unknown rows: {result.unknown} of {result.rows:,} ({100 * share:.2f} %; target "
        f"< 0.5 %): {result.unknown_arrived} arrived, {len(result.unknown_not_arrived)} never "
        f"reached the platform {result.unknown_not_arrived[:3]}; requests the platform saw "
        f"begin but never whole: {run.torn}"
    )
    print(f"  updates kept: {result.updates}")
    return not (
        result.duplicates or result.lost_answers or result.lost_replies or result.lost_messages
    ) and (share < 0.005)


async def main_async(cycles: int, people_count: int, seed: int) -> int:
    print(
        f"kill_cycles: {people_count:,} invited, a real bot process killed {cycles} times; "
        "fake Bot API 50-150 ms, flood control 30/s",
        flush=True,
    )
    met = report(await run_cycles(cycles, people_count, seed), cycles)
    if not met:
        print("  note: a target was not met (see above)")
    return 0 if met else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.kill_cycles")
    parser.add_argument("--cycles", type=int, default=80)
    parser.add_argument("--people", type=int, default=3000, help="people invited")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    return asyncio.run(main_async(args.cycles, args.people, args.seed))


if __name__ == "__main__":
    raise SystemExit(main())

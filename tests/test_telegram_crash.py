"""The bot as its own process (`python -m bot run`, SQLite file) against the fake Bot API
(50-150 ms a request, Telegram's flood control), killed with SIGKILL mid-update, mid-reply and
mid-broadcast, then started again. Counted per recipient at the platform, not in the bot's
rows: nothing arrives twice, every press has its RSVP and its one reply, every /hjaelp its
one answer, and every invitation and reminder arrived once, or its row is `unknown` and it
did arrive (only what was on the wire may be in doubt)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from storage.clock import SystemClock
from tests.fake_api_wire import Arrival, FloodControl
from tests.telegram_bot_process import (
    CONFIRMED,
    HELP,
    BotProcess,
    People,
    Tally,
    World,
    seed_world,
    settle,
    tally,
)
from tests.telegram_fake_api import FakeBotAPI

PATIENCE = 90.0
IN_FLIGHT = 8 + 30  # the worker's sends in flight, and the replies of the updates in hand


@dataclass
class Rig:
    fake: FakeBotAPI
    world: World
    bot: BotProcess
    people: People
    kills: int = 0
    tally: Tally | None = None

    async def until(self, condition: Callable[[], bool], what: str) -> None:
        for _ in range(int(PATIENCE * 50)):
            if condition():
                return
            assert self.bot.running, f"the bot stopped by itself:\n{self.bot.tail()}"
            await asyncio.sleep(0.02)
        raise AssertionError(f"waited in vain for {what}:\n{self.bot.tail()}")

    def invitations(self) -> int:
        return sum(1 for c in self.world.invited if self.people.invitation_of(c) is not None)

    async def restart(self) -> None:
        self.kills += 1
        await self.bot.kill()
        await self.bot.start()

    async def finish(self) -> None:
        await settle(self.world, self.people, self.bot, PATIENCE)
        await self.bot.kill()
        result = tally(self.world, self.people)
        assert result.duplicates == []
        assert result.lost_answers == []
        assert result.lost_replies == []
        assert result.lost_messages == []
        # in doubt and never arrived: the request had begun (its row was marked) when the
        # process died, but it never reached the platform; at most what was in flight
        assert len(result.unknown_not_arrived) <= self.kills * IN_FLIGHT, result
        self.tally = result
        refused = {
            chat: (times, [(a.at, a.text[:20]) for a in self.fake.wire.arrived[chat]])
            for chat, times in self.fake.wire.refused.items()
        }
        assert self.fake.wire.refusals == 0, refused  # never over Telegram's flood control


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    fake = FakeBotAPI(flood=FloodControl(), latency=(0.05, 0.15), seed=12)
    await fake.start()
    soon = SystemClock().now() + timedelta(seconds=4)
    world = await seed_world(
        tmp_path, invited=60, reminders_due=[soon], reminded_each=20, writers=10
    )
    # Below the fake's 30/s: the fake stamps arrivals in this (test) process, and when the
    # machine is loaded a stall here bunches its stamps (two 429s in one CI run at 30/s).
    # This test counts what is lost or doubled; keeping exactly to the limit at the wire is
    # measured by `benchmarks broadcast_wire`, with the fake in a process of its own.
    bot = BotProcess(fake.url, world, tmp_path, telegram_rate_per_second="25")
    await bot.start()
    try:
        yield Rig(fake, world, bot, People(fake))
    finally:
        await bot.kill()
        await fake.stop()


async def test_killed_mid_update_every_press_and_message_is_answered_once(rig: Rig) -> None:
    await rig.until(lambda: rig.invitations() >= 20, "20 invitations")
    # the twenty whose invitation arrived first (not always the first twenty invited)
    arrived = [chat for chat in rig.world.invited if rig.people.invitation_of(chat)][:20]
    for chat in arrived:
        assert rig.people.press_yes(chat)
    for chat in rig.world.writers:
        rig.people.ask_help(chat)
    # the bot dies with the presses in hand: some kept, some handled, some not yet fetched
    await rig.until(lambda: rig.fake.unconfirmed_updates < 30, "the bot to fetch updates")
    await rig.restart()
    await rig.finish()
    assert len(rig.people.pressed) == 20


async def test_killed_mid_reply_every_reply_arrives_once(rig: Rig) -> None:
    await rig.until(lambda: rig.invitations() >= 30, "30 invitations")
    replies: list[str] = []

    def kill_at_the_third_reply(chat: str, arrival: Arrival) -> None:
        if CONFIRMED in arrival.text or HELP in arrival.text:
            replies.append(chat)
            if len(replies) == 3:
                rig.bot.kill_now()  # with the other replies still to go, or on the wire

    rig.fake.on_arrival.append(kill_at_the_third_reply)
    for chat in rig.world.invited[:30]:
        rig.people.press_yes(chat)
    for chat in rig.world.writers:
        rig.people.ask_help(chat)
    await rig.until(lambda: len(replies) >= 3, "three replies")
    rig.fake.on_arrival.remove(kill_at_the_third_reply)
    await rig.restart()
    await rig.finish()


async def test_killed_mid_broadcast_each_invitation_arrives_once(rig: Rig) -> None:
    for count in (15, 45):
        await rig.until(lambda n=count: rig.invitations() >= n, f"{count} invitations")  # type: ignore[misc]
        await rig.restart()
    for chat in rig.world.invited[:10]:
        rig.people.press_yes(chat)
    await rig.finish()
    assert rig.bot.starts == 3

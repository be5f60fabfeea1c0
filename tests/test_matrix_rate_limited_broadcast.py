"""A broadcast to 30 people from a bot that Synapse rate-limits (it is not exempt): every
invitation arrives once with every one of its reactions, counted at the homeserver, in each
room. The bot runs as its own process with its default pacing (full speed until the
homeserver says 429), so it meets 429s and has to wait them out rather than drop what was
refused.

Synapse's stock limit (0.2 messages a second, bursts of 10) would make 180 requests take a
quarter of an hour; the limit here has the stock burst and a higher rate, so the bot meets
429s through the broadcast and the test ends in minutes."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from pathlib import Path

from storage.models import OutboxStatus
from tests.matrix_people import BotMessage, Citizen
from tests.synapse import Synapse
from tests.test_matrix_broadcast_crash import invitations, rows_by_status, seed_people_and_broadcast
from tests.test_matrix_crash import BotProcess

PEOPLE = 30
ANSWER_REACTIONS = ["✅", "🤔", "❌", "ℹ️", "📅"]
LIMITED_PER_SECOND = 2
STOCK_BURST = 10


GENEROUS_SECONDS = 900.0  # 180 requests at 2 a second take 90 s on an idle machine


async def eventually(check: Callable[[], bool], what: str) -> None:
    """Longer than one wait of a citizen's: the broadcast is paced by the homeserver."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + GENEROUS_SECONDS
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"waited in vain for {what}")
        await asyncio.sleep(0.5)


def reactions_at_homeserver(
    synapse: Synapse, citizen: Citizen, room: str, message: BotMessage, bot_user_id: str
) -> list[str]:
    events = synapse.room_events(room, citizen.client.access_token)
    return sorted(
        event["content"]["m.relates_to"]["key"]
        for event in events
        if event.get("type") == "m.reaction"
        and event.get("sender") == bot_user_id
        and event["content"].get("m.relates_to", {}).get("event_id") == message.event_id
    )


async def test_a_rate_limited_broadcast_to_30_ends_with_every_reaction(
    synapse: Synapse, tmp_path: Path
) -> None:
    bot = BotProcess(synapse, tmp_path, localpart="limitedbot")
    database_url = bot.env["TMM_DATABASE_URL"]
    citizens = await asyncio.gather(
        *(Citizen.connect(synapse, f"limited{n}", tmp_path) for n in range(PEOPLE))
    )
    try:
        await bot.start()
        rooms = await asyncio.gather(*(c.open_dm(bot.user_id, encrypted=False) for c in citizens))
        people = list(zip(citizens, rooms, strict=True))
        assert await bot.signal(signal.SIGTERM, within=60.0) == 0
        await seed_people_and_broadcast(database_url, people)
        # limited only now: joining 30 rooms is not what is measured
        admin = synapse.register("admin", admin=True)
        synapse.override_ratelimit(
            admin,
            bot.user_id,
            messages_per_second=LIMITED_PER_SECOND,
            burst_count=STOCK_BURST,
        )
        await bot.start()

        def all_there() -> bool:
            return all(
                bool(found := invitations(c, r)) and len(found[0].reactions) >= 5 for c, r in people
            )

        await eventually(all_there, "every invitation with its reactions")
        for citizen, room in people:
            [invitation] = invitations(citizen, room)
            counted = await asyncio.to_thread(
                reactions_at_homeserver, synapse, citizen, room, invitation, bot.user_id
            )
            assert counted == sorted(ANSWER_REACTIONS), (room, counted)  # each one, once
        statuses = await rows_by_status(database_url)
        assert statuses == {OutboxStatus.SENT: PEOPLE}, (statuses, bot.log.read_text()[-3000:])
        assert "matrix: 429, every send waits" in bot.log.read_text()  # it really was held back
    finally:
        await bot.stop()
        await asyncio.gather(*(c.close() for c in citizens))

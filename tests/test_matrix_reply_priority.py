"""A person's reply goes before the rest of a broadcast held back by the homeserver's limit.

The bot (its own process, default pacing) broadcasts an invitation to six people while
Synapse holds its account to a burst of 10 and then one event a second; once the limit
binds (the bot has met a 429 and sends one at a time), a seventh person writes /start. At
the homeserver, the bot's answer comes at most a couple of broadcast events after the
person's message (those already on their way), with most of the broadcast's invitations
and reactions still after it, and the broadcast then ends with every reaction there.

Orders are read from the homeserver's own timestamps (`origin_server_ts`) of the events it
made: one event a second keeps them far apart; nothing here is timed against a clock."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

from tests.matrix_people import Citizen
from tests.synapse import Synapse
from tests.test_matrix_broadcast_crash import invitations, seed_people_and_broadcast
from tests.test_matrix_crash import BotProcess
from tests.test_matrix_rate_limited_broadcast import STOCK_BURST, eventually

PEOPLE = 6
EVENTS_PER_INVITATION = 6  # the text and its 5 answer reactions
ONE_A_SECOND = 1
# Broadcast events the answer may come after: the one that had its slot when the person's
# message arrived, and one more while the bot read it and wrote the answer's row.
ALREADY_ON_THEIR_WAY = 2
# Still to go after the answer, to show the broadcast really was held back behind it.
STILL_QUEUED = 10


def bot_events(synapse: Synapse, citizen: Citizen, room: str, bot_user_id: str) -> list[Any]:
    return [
        event
        for event in synapse.room_events(room, citizen.client.access_token)
        if event.get("sender") == bot_user_id
        and event.get("type") in ("m.room.message", "m.reaction")
    ]


async def test_a_reply_goes_before_the_rest_of_a_broadcast_held_back_by_the_limit(
    synapse: Synapse, tmp_path: Path
) -> None:
    bot = BotProcess(synapse, tmp_path, localpart="prioritybot")
    database_url = bot.env["TMM_DATABASE_URL"]
    citizens = await asyncio.gather(
        *(Citizen.connect(synapse, f"waiting{n}", tmp_path) for n in range(PEOPLE))
    )
    asker = await Citizen.connect(synapse, "asker", tmp_path)
    try:
        await bot.start()
        rooms = await asyncio.gather(*(c.open_dm(bot.user_id, encrypted=False) for c in citizens))
        asker_room = await asker.open_dm(bot.user_id, encrypted=False)
        people = list(zip(citizens, rooms, strict=True))
        assert await bot.signal(signal.SIGTERM, within=60.0) == 0
        await seed_people_and_broadcast(database_url, people)
        admin = synapse.register("admin", admin=True)
        synapse.override_ratelimit(
            admin, bot.user_id, messages_per_second=ONE_A_SECOND, burst_count=STOCK_BURST
        )
        await bot.start()
        await eventually(
            lambda: "matrix: 429, every send waits" in bot.log.read_text(), "the limit to bind"
        )

        asked = await asker.say(asker_room, "/start")
        await asker.replies(asker_room, 0)

        def all_there() -> bool:
            return all(
                bool(found := invitations(c, r)) and len(found[0].reactions) >= 5 for c, r in people
            )

        await eventually(all_there, "every invitation with its reactions")
        asker_events = await asyncio.to_thread(
            synapse.room_events, asker_room, asker.client.access_token
        )
        asked_at = next(e["origin_server_ts"] for e in asker_events if e["event_id"] == asked)
        answered_at = min(
            e["origin_server_ts"]
            for e in asker_events
            if e.get("sender") == bot.user_id
            and e.get("type") == "m.room.message"
            and e["origin_server_ts"] > asked_at
        )
        broadcast = [
            event["origin_server_ts"]
            for citizen, room in people
            for event in await asyncio.to_thread(bot_events, synapse, citizen, room, bot.user_id)
        ]
        assert len(broadcast) == PEOPLE * EVENTS_PER_INVITATION  # all there, each once
        before_the_answer = [at for at in broadcast if asked_at < at < answered_at]
        after_the_answer = [at for at in broadcast if at > answered_at]
        assert len(before_the_answer) <= ALREADY_ON_THEIR_WAY, (before_the_answer, answered_at)
        assert len(after_the_answer) >= STILL_QUEUED, (after_the_answer, answered_at)
    finally:
        await bot.stop()
        await asyncio.gather(*(c.close() for c in [*citizens, asker]))

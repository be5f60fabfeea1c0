"""Housekeeping: expired conversations, old prompts and the update log are trimmed."""

from __future__ import annotations

from datetime import timedelta

from bot.scheduler import PROMPT_RETENTION, UPDATE_LOG_RETENTION
from bot.settings import Settings
from storage.clock import FrozenClock
from tests.fakes import Chat
from tests.helpers import conversation_of, known_person, onboard_en


async def test_housekeeping_trims_only_what_is_old(
    chat: Chat, clock: FrozenClock, settings: Settings
) -> None:
    await onboard_en(chat, "anna")
    await chat.say("anna", "/settings")
    housekeeping = chat.app.housekeeping
    assert await housekeeping.run_once() == {"conversations": 0, "prompts": 0, "updates": 0}
    assert await conversation_of(chat, "anna") is not None

    clock.advance(max(UPDATE_LOG_RETENTION, settings.conversation_ttl) + timedelta(minutes=1))
    counts = await housekeeping.run_once()
    assert counts["conversations"] == 1
    assert counts["updates"] > 0
    assert counts["prompts"] == 0
    assert await conversation_of(chat, "anna") is None

    clock.advance(PROMPT_RETENTION)
    assert (await housekeeping.run_once())["prompts"] > 0
    assert (await known_person(chat, "anna")).display_name == "Anna"  # nothing else goes
    replies = await chat.say("anna", "/settings")
    assert replies[-1].choices

"""From ideas to the next meeting, as chats: the report's "next time" ideas become a new
event draft in one tap (the idea as its text), and those who gave it hear when it
happens; only the event's own coordinator gets the taps."""

from __future__ import annotations

from storage.clock import FrozenClock
from tests.fakes import Chat
from tests.test_feedback import after_event, answer_all, event_with_yes


async def give_idea(chat: Chat, user: str, idea: str) -> None:
    await chat.tap(user, "start")
    await chat.tap(user, "came")
    await answer_all(chat, user, ["good"] * 6)
    await chat.tap(user, "skip")  # what matters
    await chat.say(user, idea)  # next time
    await chat.tap(user, "anon")


async def test_an_idea_becomes_the_next_meeting_and_its_giver_is_told(
    chat: Chat, clock: FrozenClock
) -> None:
    event = await event_with_yes(chat, "anna", "bo")
    await after_event(chat, clock, event)
    await give_idea(chat, "anna", "Bålmad ved søen")
    await chat.say("kim", "/rapport")
    await chat.tap("kim", f"e{event.id}")
    offer = chat.last_question("kim")
    assert "næste møde" in offer.text
    [idea] = offer.choices
    assert "Bålmad ved søen" in idea.label
    # a citizen pressing the coordinator's idea gets nothing made
    assert offer.prompt_id is not None
    await chat.press("bo", offer.prompt_id, idea.id)
    replies = await chat.tap("kim", idea.id)
    assert "Bålmad ved søen" in replies[0].text
    await chat.say("kim", "lørdag kl 10-13")
    await chat.tap("kim", "once")
    preview = chat.last_question("kim")
    assert "Bålmad ved søen" in preview.text
    await chat.tap("kim", "publish")
    delivered = await chat.deliver_outbox()
    # anna reads English
    told = [
        d.message.text for d in delivered if d.ref.user_id == "anna" and "idea" in d.message.text
    ]
    assert len(told) == 1
    assert "/start ev_" in told[0]
    assert not [d for d in delivered if d.ref.user_id == "bo" and "idea" in d.message.text]

"""A restart half-way: a new app, engine and database connection on the same file."""

from __future__ import annotations

from bot.app import BotApp
from bot.settings import Settings
from storage.clock import FrozenClock
from tests.fakes import Chat, RecordingTransport
from tests.helpers import choice_ids, conversation_of, known_person, topics_of


async def restarted(old: Chat, settings: Settings, clock: FrozenClock) -> Chat:
    await old.app.close()
    transport = RecordingTransport()
    app = BotApp(settings, [transport], clock=clock)
    await app.migrate()  # as at every start; nothing to do
    return Chat(app, transport)


async def test_onboarding_continues_after_a_restart(
    chat: Chat, settings: Settings, clock: FrozenClock
) -> None:
    await chat.say("anna", "/start")
    await chat.tap("anna", "en")
    await chat.tap("anna", "yes")  # the name question is pending

    second = await restarted(chat, settings, clock)
    try:
        replies = await second.say("anna", "Anna")  # typed answer to the pending question
        assert (await known_person(second, "anna")).display_name == "Anna"
        assert "What would you like to hear about?" in replies[-1].text
        interests = replies[-1]
    finally:
        await second.app.close()

    third = await restarted(second, settings, clock)
    try:
        # a tap on the button sent before the restart, by its old prompt id
        assert interests.prompt_id is not None
        first_topic = interests.choices[0].id
        replies = await third.press("anna", interests.prompt_id, first_topic)
        assert replies[-1].choices[0].label.startswith("✅")
        assert await topics_of(third, "anna") == {int(first_topic[1:])}
        pending = replies[-1]
    finally:
        await third.app.close()

    fourth = await restarted(third, settings, clock)
    try:
        assert pending.prompt_id is not None
        await fourth.press("anna", pending.prompt_id, "done")  # interests done
        await fourth.tap("anna", "done")  # areas done
        await fourth.tap("anna", "no")  # citizens' initiatives
        replies = await fourth.tap("anna", "22-08")
        assert "Thank you, that's all!" in replies[-1].text
        person = await known_person(fourth, "anna")
        assert person.onboarded_at is not None
        assert (person.quiet_start_minute, person.quiet_end_minute) == (22 * 60, 8 * 60)
        assert await conversation_of(fourth, "anna") is None
    finally:
        await fourth.app.close()


async def test_an_answered_prompt_stays_answered_after_a_restart(
    chat: Chat, settings: Settings, clock: FrozenClock
) -> None:
    await chat.say("bo", "/start")
    language_prompt = chat.last_question("bo").prompt_id
    assert language_prompt is not None
    await chat.tap("bo", "en")
    second = await restarted(chat, settings, clock)
    try:
        replies = await second.press("bo", language_prompt, "da")
        assert "You have already answered that one" in replies[0].text
        assert choice_ids(replies[-1]) == ["yes", "more", "no"]
        assert (await known_person(second, "bo")).language == "en"
    finally:
        await second.app.close()

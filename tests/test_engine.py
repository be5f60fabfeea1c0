"""The conversation engine through the chat: typed answers, buttons, reactions, expiry."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from bot.settings import Settings
from conversations.core.messages import Inbound
from storage.clock import FrozenClock
from tests.fakes import Chat
from tests.helpers import (
    choice_ids,
    conversation_of,
    known_person,
    onboard_en,
    snapshot,
    texts,
)

# -- typed answers, matched tolerantly ------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "language"),
    [
        ("2", "en"),
        ("1", "da"),
        ("nr. 2", "en"),
        ("English", "en"),
        ("english", "en"),
        ("Englsh", "en"),  # a typo
        ("Dansk", "da"),
        ("dansk", "da"),
        ("Dnsk", "da"),  # a typo
        ("engelsk", "en"),  # Danish word for the English choice
        ("danish", "da"),  # English word for the Danish choice
        ("🇬🇧", "en"),
        ("🇩🇰", "da"),
    ],
)
async def test_the_language_question_understands_typed_answers(
    chat: Chat, typed: str, language: str
) -> None:
    await chat.say("anna", "/start")
    await chat.say("anna", typed)
    person = await known_person(chat, "anna")
    assert person.language == language
    conversation = await conversation_of(chat, "anna")
    assert conversation is not None
    assert conversation.state == "consent"


@pytest.mark.parametrize("typed", ["ja", "yes", "Yes, thats fine", "✅", "✅\ufe0f", "1", "OK"])
async def test_consent_understands_typed_yes(chat: Chat, typed: str) -> None:
    await chat.say("anna", "/start")
    await chat.tap("anna", "en")
    await chat.say("anna", typed)
    assert (await known_person(chat, "anna")).consent == "given"


@pytest.mark.parametrize("typed", ["nej", "no thanks", "🚫", "3"])
async def test_consent_understands_typed_no(chat: Chat, typed: str) -> None:
    await chat.say("anna", "/start")
    await chat.tap("anna", "en")
    await chat.say("anna", typed)
    assert (await known_person(chat, "anna")).consent == "refused"


async def test_an_answer_that_fits_nothing_asks_again(chat: Chat) -> None:
    await chat.say("anna", "/start")
    await chat.tap("anna", "en")
    before = await snapshot(chat, "anna")
    replies = await chat.say("anna", "purple elephants")
    assert "I didn't quite catch that" in replies[0].text
    assert choice_ids(replies[-1]) == ["yes", "more", "no"]
    assert await snapshot(chat, "anna") == before
    replies = await chat.say("anna", "7")  # no seventh choice
    assert "I didn't quite catch that" in replies[0].text
    assert await snapshot(chat, "anna") == before


async def test_tell_me_more_stays_on_consent(chat: Chat) -> None:
    await chat.say("anna", "/start")
    await chat.tap("anna", "en")
    replies = await chat.tap("anna", "more")
    assert "How we look after your information" in replies[0].text
    assert choice_ids(replies[-1]) == ["yes", "more", "no"]


# -- forged and stale choices ---------------------------------------------------------------


async def _at_consent(chat: Chat, user: str) -> str:
    await chat.say(user, "/start")
    replies = await chat.tap(user, "en")
    prompt_id = replies[-1].prompt_id
    assert prompt_id is not None
    return prompt_id


async def test_a_choice_on_another_persons_prompt_is_refused(chat: Chat) -> None:
    await _at_consent(chat, "anna")
    bos_prompt = await _at_consent(chat, "bo")
    before = await snapshot(chat, "anna")
    replies = await chat.press("anna", bos_prompt, "yes")
    assert "That choice is no longer open" in replies[0].text
    assert choice_ids(replies[-1]) == ["yes", "more", "no"]  # anna's own question again
    assert await snapshot(chat, "anna") == before
    assert (await known_person(chat, "anna")).consent == "unasked"
    assert (await known_person(chat, "bo")).consent == "unasked"


async def test_a_choice_id_that_was_not_offered_is_refused(chat: Chat) -> None:
    prompt_id = await _at_consent(chat, "anna")
    before = await snapshot(chat, "anna")
    for forged in ("maybe", "da", "", "yes " * 100, "t1"):
        replies = await chat.press("anna", prompt_id, forged)
        assert "That choice is no longer open" in replies[0].text
        assert await snapshot(chat, "anna") == before
    assert (await known_person(chat, "anna")).consent == "unasked"


async def test_a_random_prompt_id_is_refused(chat: Chat) -> None:
    await _at_consent(chat, "anna")
    before = await snapshot(chat, "anna")
    for forged in ("nonsense", "", "x" * 500, "'; drop table prompts; --"):
        replies = await chat.press("anna", forged, "yes")
        assert "That choice is no longer open" in replies[0].text
        assert await snapshot(chat, "anna") == before


async def test_a_forged_choice_without_a_conversation_gets_a_friendly_word(chat: Chat) -> None:
    await onboard_en(chat, "anna")
    replies = await chat.press("anna", "nonsense", "settings")
    assert texts(replies).startswith("That choice is no longer open")
    assert await conversation_of(chat, "anna") is None


async def test_an_old_prompt_of_the_same_conversation_is_already_answered(chat: Chat) -> None:
    await chat.say("anna", "/start")
    language_prompt = chat.last_question("anna").prompt_id
    assert language_prompt is not None
    await chat.tap("anna", "en")
    before = await snapshot(chat, "anna")
    replies = await chat.press("anna", language_prompt, "da")
    assert "You have already answered that one" in replies[0].text
    assert choice_ids(replies[-1]) == ["yes", "more", "no"]  # the current question
    assert await snapshot(chat, "anna") == before
    assert (await known_person(chat, "anna")).language == "en"


async def test_a_prompt_of_a_finished_conversation_is_already_answered(chat: Chat) -> None:
    await onboard_en(chat, "anna")
    await chat.say("anna", "/settings")
    menu_prompt = chat.last_question("anna").prompt_id
    assert menu_prompt is not None
    await chat.tap("anna", "done")
    replies = await chat.press("anna", menu_prompt, "name")
    assert "You have already answered that one" in texts(replies)
    assert await conversation_of(chat, "anna") is None


async def test_a_button_press_is_echoed_on_the_prompt(chat: Chat) -> None:
    await chat.say("anna", "/start")
    message_id = chat.transport.to("anna")[-1].message_id
    await chat.tap("anna", "en")
    assert [(echo.prompt_message_id, echo.label) for _, echo in chat.transport.echoes] == [
        (message_id, "English")
    ]


# -- reactions ------------------------------------------------------------------------------


async def test_a_reaction_on_a_prompt_answers_it(chat: Chat) -> None:
    await chat.say("anna", "/start")
    delivered = chat.transport.to("anna")[-1]
    assert delivered.message.choices
    replies = await chat.react("anna", delivered.message_id, "🇬🇧")
    assert (await known_person(chat, "anna")).language == "en"
    assert choice_ids(replies[-1]) == ["yes", "more", "no"]
    consent = chat.transport.to("anna")[-1]
    await chat.react("anna", consent.message_id, "✅\ufe0f")  # with a variation selector
    assert (await known_person(chat, "anna")).consent == "given"


async def test_other_reactions_are_just_reactions(chat: Chat) -> None:
    await chat.say("anna", "/start")
    delivered = chat.transport.to("anna")[-1]
    await chat.say("bo", "/start")
    before = await snapshot(chat, "anna")
    [hint] = await chat.react("anna", delivered.message_id, "❤️")  # no such choice
    assert "ikke et af svarene" in hint.text
    assert await chat.react("anna", "999999", "🇬🇧") == []  # not a prompt
    assert await chat.react("bo", delivered.message_id, "🇬🇧") == []  # not bo's prompt
    assert await snapshot(chat, "anna") == before
    assert (await known_person(chat, "bo")).language == "da"


# -- expiry and odd messages ----------------------------------------------------------------


async def test_a_stale_conversation_expires_with_a_note(
    chat: Chat, clock: FrozenClock, settings: Settings
) -> None:
    await onboard_en(chat, "anna")
    await chat.say("anna", "/settings")
    await chat.tap("anna", "name")
    clock.advance(settings.conversation_ttl + timedelta(minutes=1))
    replies = await chat.say("anna", "Annabel")
    assert replies[0].text.startswith("It has been a while")
    assert (await known_person(chat, "anna")).display_name == "Anna"  # not taken as a name
    assert await conversation_of(chat, "anna") is None


async def test_a_conversation_kept_alive_does_not_expire(
    chat: Chat, clock: FrozenClock, settings: Settings
) -> None:
    await onboard_en(chat, "anna")
    await chat.say("anna", "/settings")
    for _ in range(3):
        clock.advance(settings.conversation_ttl - timedelta(minutes=1))
        replies = await chat.say("anna", "/help")
        assert "It has been a while" not in texts(replies)
    await chat.tap("anna", "name")
    await chat.say("anna", "Annabel")
    assert (await known_person(chat, "anna")).display_name == "Annabel"


async def test_an_expired_onboarding_starts_again(
    chat: Chat, clock: FrozenClock, settings: Settings
) -> None:
    await chat.say("anna", "/start")
    await chat.tap("anna", "en")
    clock.advance(settings.conversation_ttl + timedelta(seconds=1))
    replies = await chat.say("anna", "yes")
    assert replies[0].text.startswith("It has been a while")
    assert choice_ids(replies[-1]) == ["da", "en", "ar", "uk"]
    assert (await known_person(chat, "anna")).language == "en"  # kept


async def test_a_very_long_message_gets_a_clear_answer(chat: Chat) -> None:
    await chat.say("anna", "/start")
    await chat.tap("anna", "en")
    await chat.tap("anna", "yes")
    before = await snapshot(chat, "anna")
    replies = await chat.say("anna", "A" * 10_000)
    assert "That message is very long" in replies[0].text
    assert replies[-1].expects_text  # the name question again
    assert await snapshot(chat, "anna") == before
    assert (await known_person(chat, "anna")).display_name is None


async def test_a_long_name_is_refused_kindly(chat: Chat) -> None:
    await chat.say("anna", "/start")
    await chat.tap("anna", "en")
    await chat.tap("anna", "yes")
    replies = await chat.say("anna", "A" * 300)
    assert "Please use at most 40 characters" in texts(replies)
    assert (await known_person(chat, "anna")).display_name is None


@pytest.mark.parametrize("odd", ["", "   ", "🌿", "🙂🙂🙂", "\u200b", "\x00\x07"])
async def test_empty_and_emoji_only_messages_get_a_clear_answer(chat: Chat, odd: str) -> None:
    await chat.say("anna", "/start")
    await chat.tap("anna", "en")
    before = await snapshot(chat, "anna")
    replies = await chat.say("anna", odd)
    assert "I didn't quite catch that" in replies[0].text
    assert choice_ids(replies[-1]) == ["yes", "more", "no"]
    assert await snapshot(chat, "anna") == before


@pytest.mark.parametrize("odd", ["", "   ", "\u200b", "\x00\x07"])
async def test_an_empty_name_is_asked_again(chat: Chat, odd: str) -> None:
    await chat.say("anna", "/start")
    await chat.tap("anna", "en")
    await chat.tap("anna", "yes")
    replies = await chat.say("anna", odd)
    assert "Please write a name, or choose Skip." in texts(replies)
    assert (await known_person(chat, "anna")).display_name is None


@pytest.mark.parametrize("odd", ["", "🌿", "   "])
async def test_odd_messages_without_a_conversation(chat: Chat, odd: str) -> None:
    await onboard_en(chat, "anna")
    replies = await chat.say("anna", odd)
    assert "I'm not sure what you mean" in replies[-1].text


# -- the same update twice ------------------------------------------------------------------


async def test_the_same_update_is_handled_once(chat: Chat) -> None:
    await chat.say("anna", "/start")
    question = chat.last_question("anna")
    assert question.prompt_id is not None
    inbound = Inbound(chat.ref("anna"), uuid.uuid4().hex, text="English")
    await chat.app.dispatch(inbound)
    after_first = await snapshot(chat, "anna")
    sent = len(chat.transport.sent)
    await chat.app.dispatch(inbound)
    assert len(chat.transport.sent) == sent
    assert await snapshot(chat, "anna") == after_first
    # a different update with the same content is a new message
    await chat.app.dispatch(Inbound(chat.ref("anna"), uuid.uuid4().hex, text="/help"))
    assert len(chat.transport.sent) > sent


async def test_the_same_update_id_on_another_platform_is_another_update(chat: Chat) -> None:
    inbound = Inbound(chat.ref("anna"), "update-1", text="/start")
    await chat.app.dispatch(inbound)
    async with chat.app.uow() as uow:
        assert not await uow.inbox.begin_handling("fake", "update-1")
        assert await uow.inbox.begin_handling("telegram", "update-1")


async def test_the_suggested_name_is_taken_from_the_question_on_a_tap(chat: Chat) -> None:
    await chat.say("anna", "/start")
    await chat.tap("anna", "en")
    replies = await chat.say("anna", "yes", name="Anna  Bee\u200b")  # a platform's profile name
    assert [c.label for c in replies[-1].choices] == ["Anna Bee", "Skip"]
    await chat.tap("anna", "suggested")  # a button press carries no name
    assert (await known_person(chat, "anna")).display_name == "Anna Bee"


async def test_a_profile_name_too_long_to_keep_is_not_offered(chat: Chat) -> None:
    await chat.say("anna", "/start")
    await chat.tap("anna", "en")
    replies = await chat.say("anna", "yes", name="A" * 500)
    assert choice_ids(replies[-1]) == ["skip"]

"""Consent, read as a chat: a no is respected, and a command typed before a yes is not lost."""

from __future__ import annotations

from datetime import timedelta

from conversations.messages import Media, MediaKind
from storage.models import ConsentState, Role
from tests.fakes import Chat
from tests.helpers import choice_ids, conversation_of, known_person, texts


async def refuse(chat: Chat, user: str, language: str = "en") -> None:
    await chat.say(user, "/start")
    await chat.tap(user, language)
    await chat.tap(user, "no")


async def new_code(chat: Chat) -> str:
    async with chat.app.uow() as uow:
        code = await uow.invites.create(
            Role.COORDINATOR, valid_for=timedelta(days=7), created_by=None, note="test"
        )
        await uow.commit()
    return code


# -- after a no -------------------------------------------------------------------------------


async def test_plain_words_after_a_no_get_a_short_note_and_no_question(chat: Chat) -> None:
    await refuse(chat, "bo")
    replies = await chat.say("bo", "hello?")
    assert len(replies) == 1
    assert not replies[0].choices
    assert "nothing" in replies[0].text
    assert "/start" in replies[0].text
    assert await conversation_of(chat, "bo") is None
    assert (await known_person(chat, "bo")).consent == ConsentState.REFUSED


async def test_the_note_after_a_no_is_in_danish_for_danish_speakers(chat: Chat) -> None:
    await refuse(chat, "bo", language="da")
    replies = await chat.say("bo", "hej")
    assert len(replies) == 1
    assert not replies[0].choices
    assert "/start" in replies[0].text
    assert "intet" in replies[0].text or "ikke noget" in replies[0].text


async def test_an_old_consent_button_after_a_no_gets_the_note(chat: Chat) -> None:
    await chat.say("bo", "/start")
    await chat.tap("bo", "en")
    consent = chat.last_question("bo")
    await chat.tap("bo", "no")
    assert consent.prompt_id is not None
    replies = await chat.press("bo", consent.prompt_id, "yes")
    assert not any(reply.choices for reply in replies)
    assert "/start" in texts(replies)
    assert await conversation_of(chat, "bo") is None
    assert (await known_person(chat, "bo")).consent == ConsentState.REFUSED


async def test_a_photo_after_a_no_gets_the_note(chat: Chat) -> None:
    await refuse(chat, "bo")
    replies = await chat.send_media("bo", Media(MediaKind.PHOTO, "photo-1"))
    assert len(replies) == 1
    assert "/start" in replies[0].text
    assert await conversation_of(chat, "bo") is None


async def test_start_after_a_no_asks_for_consent_again(chat: Chat) -> None:
    await refuse(chat, "bo")
    await chat.say("bo", "/start")
    replies = await chat.tap("bo", "en")
    assert choice_ids(replies[-1]) == ["yes", "more", "no"]
    await chat.tap("bo", "yes")
    assert (await known_person(chat, "bo")).consent == ConsentState.GIVEN


async def test_a_command_that_needs_consent_after_a_no_explains_and_asks(chat: Chat) -> None:
    await refuse(chat, "bo")
    replies = await chat.say("bo", "/offer")
    assert "First I need your OK" in replies[0].text
    assert choice_ids(replies[-1]) == ["da", "en"]


async def test_mydata_after_a_no_still_works(chat: Chat) -> None:
    await refuse(chat, "bo")
    replies = await chat.say("bo", "/mydata")
    assert "You said no" in replies[0].text


async def test_someone_never_asked_is_welcomed_into_onboarding(chat: Chat) -> None:
    replies = await chat.say("cy", "hello")
    assert choice_ids(replies[-1]) == ["da", "en"]

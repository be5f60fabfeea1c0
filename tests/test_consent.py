"""Consent, read as a chat: a no is respected, and a command typed before a yes is not lost."""

from __future__ import annotations

from datetime import timedelta

from conversations.core.messages import Media, MediaKind
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
    assert choice_ids(replies[-1]) == ["da", "en", "ar", "uk"]


async def test_mydata_after_a_no_still_works(chat: Chat) -> None:
    await refuse(chat, "bo")
    replies = await chat.say("bo", "/mydata")
    assert "everything I keep about you" in replies[0].text
    assert "You said no, so I keep nothing else" in replies[0].text


async def test_a_menu_button_after_a_no_still_works_tapped_or_typed(chat: Chat) -> None:
    await refuse(chat, "bo")
    await chat.say("bo", "/help")
    replies = await chat.tap("bo", "mydata")
    assert "everything I keep about you" in replies[0].text
    menu = await chat.say("bo", "/help")
    number = choice_ids(menu[-1]).index("mydata") + 1
    replies = await chat.say("bo", str(number))
    assert "everything I keep about you" in replies[0].text


async def test_someone_never_asked_is_welcomed_into_onboarding(chat: Chat) -> None:
    replies = await chat.say("cy", "hello")
    assert choice_ids(replies[-1]) == ["da", "en", "ar", "uk"]


# -- a command before consent -----------------------------------------------------------------


async def finish_onboarding(chat: Chat, user: str, name: str) -> list[str]:
    """From the consent question on: yes, a name, no topics, no initiatives, no quiet hours."""
    await chat.tap(user, "yes")
    await chat.say(user, name)
    while chat.last_question(user).choices[-1].id == "done":
        await chat.tap(user, "done")
    await chat.tap(user, "no")  # citizens' initiatives
    return [reply.text for reply in await chat.tap(user, "none")]


async def test_a_coordinator_code_typed_before_consent_is_used_after_onboarding(
    chat: Chat,
) -> None:
    code = await new_code(chat)
    replies = await chat.say("eva", f"/coordinator {code}")
    assert "Først skal jeg have dit ja" in replies[0].text  # a newcomer is spoken to in Danish
    await chat.tap("eva", "en")
    said = await finish_onboarding(chat, "eva", "Eva")
    assert "Thank you, that's all" in said[0]
    assert "Welcome as a coordinator" in said[-1]
    assert (await known_person(chat, "eva")).role == Role.COORDINATOR


async def test_the_danish_command_keeps_its_code_too(chat: Chat) -> None:
    code = await new_code(chat)
    await chat.say("eva", f"/koordinator {code}")
    await chat.tap("eva", "da")
    said = await finish_onboarding(chat, "eva", "Eva")
    assert "koordinator" in said[-1].lower()
    assert (await known_person(chat, "eva")).role == Role.COORDINATOR


async def test_a_code_that_is_no_link_still_reaches_the_coordinator_flow(chat: Chat) -> None:
    await chat.say("eva", "/coordinator not a code")
    await chat.tap("eva", "en")
    said = await finish_onboarding(chat, "eva", "Eva")
    assert "doesn't work" in said[-1]
    assert (await known_person(chat, "eva")).role == Role.CITIZEN


async def test_refusing_consent_does_not_go_on_into_the_command(chat: Chat) -> None:
    code = await new_code(chat)
    await chat.say("eva", f"/coordinator {code}")
    await chat.tap("eva", "en")
    replies = await chat.tap("eva", "no")
    assert "Welcome as a coordinator" not in texts(replies)
    assert (await known_person(chat, "eva")).role == Role.CITIZEN
    assert await conversation_of(chat, "eva") is None
    # the code is still unused: someone who says yes later can redeem it
    await chat.say("eva", "/start")
    await chat.tap("eva", "en")
    await finish_onboarding(chat, "eva", "Eva")
    replies = await chat.say("eva", f"/coordinator {code}")
    assert "Welcome as a coordinator" in texts(replies)


async def test_a_command_without_arguments_goes_on_into_its_flow(chat: Chat) -> None:
    await chat.say("fia", "/offer")
    await chat.tap("fia", "en")
    await finish_onboarding(chat, "fia", "Fia")
    conversation = await conversation_of(chat, "fia")
    assert conversation is not None
    assert conversation.flow == "offer"
    assert "What can you give?" in chat.last_text("fia")


async def test_settings_before_consent_is_not_asked_twice(chat: Chat) -> None:
    # onboarding has just asked every setting; its summary says how to change them
    await chat.say("gus", "/settings")
    await chat.tap("gus", "en")
    said = await finish_onboarding(chat, "gus", "Gus")
    assert "Thank you, that's all" in said[-1]
    assert await conversation_of(chat, "gus") is None


async def test_a_menu_button_before_consent_goes_on_into_its_command(chat: Chat) -> None:
    await chat.say("hal", "/help")
    await chat.tap("hal", "offer")
    await chat.tap("hal", "en")
    await finish_onboarding(chat, "hal", "Hal")
    conversation = await conversation_of(chat, "hal")
    assert conversation is not None
    assert conversation.flow == "offer"

"""/settings, read as a chat: every section from the menu, and the one-shot sections."""

from __future__ import annotations

from conversations.core.messages import Location, Media, MediaKind
from storage.models import TopicKind
from tests.fakes import Chat
from tests.helpers import (
    choice_ids,
    conversation_of,
    known_person,
    onboard_en,
    texts,
    topics_of,
)


async def test_settings_menu_offers_every_section(chat: Chat) -> None:
    await onboard_en(chat, "anna")
    replies = await chat.say("anna", "/settings")
    menu = replies[-1]
    assert choice_ids(menu) == [
        "language",
        "name",
        "interests",
        "areas",
        "quiet",
        "initiatives",
        "photos",
        "done",
    ]
    assert "Name: Anna" in menu.text
    assert "Photos and voice notes: not asked yet" in menu.text


async def test_changing_the_name_from_the_menu_comes_back_to_the_menu(chat: Chat) -> None:
    await onboard_en(chat, "anna")
    await chat.say("anna", "/settings")
    replies = await chat.tap("anna", "name")
    assert replies[-1].expects_text
    assert "keep" in choice_ids(replies[-1])
    replies = await chat.say("anna", "Anna Bee")
    assert "Saved." in texts(replies)
    assert "done" in choice_ids(replies[-1])
    assert (await known_person(chat, "anna")).display_name == "Anna Bee"
    conversation = await conversation_of(chat, "anna")
    assert conversation is not None
    assert (conversation.flow, conversation.state) == ("settings", "menu")


async def test_keep_my_name_leaves_it(chat: Chat) -> None:
    await onboard_en(chat, "anna")
    await chat.say("anna", "/settings")
    await chat.tap("anna", "name")
    await chat.tap("anna", "keep")
    assert (await known_person(chat, "anna")).display_name == "Anna"


async def test_changing_the_language_from_the_menu(chat: Chat) -> None:
    await onboard_en(chat, "anna")
    await chat.say("anna", "/settings")
    await chat.tap("anna", "language")
    await chat.tap("anna", "da")
    assert (await known_person(chat, "anna")).language == "da"
    await chat.tap("anna", "language")
    replies = await chat.tap("anna", "en")
    assert "Saved." in texts(replies)
    assert (await known_person(chat, "anna")).language == "en"


async def test_interests_and_areas_toggle_from_the_menu(chat: Chat) -> None:
    await onboard_en(chat, "anna")
    assert await topics_of(chat, "anna") == set()
    await chat.say("anna", "/settings")
    replies = await chat.tap("anna", "interests")
    interest = replies[-1].choices[0]
    replies = await chat.tap("anna", interest.id)
    assert replies[-1].choices[0].label.startswith("✅")
    await chat.tap("anna", "done")
    await chat.tap("anna", "areas")
    replies = await chat.tap("anna", 1)
    area = replies[-1].choices[0]
    await chat.tap("anna", "done")
    chosen = await topics_of(chat, "anna")
    assert chosen == {int(interest.id[1:]), int(area.id[1:])}
    async with chat.app.uow() as uow:
        kinds = {(await uow.topics.get(topic_id)).kind for topic_id in chosen}  # type: ignore[union-attr]
    assert kinds == {TopicKind.INTEREST, TopicKind.AREA}
    # tapping again removes it
    await chat.tap("anna", "interests")
    await chat.tap("anna", interest.id)
    await chat.tap("anna", "done")
    assert await topics_of(chat, "anna") == {int(area.id[1:])}


async def test_quiet_hours_from_the_menu_by_preset_and_by_typing(chat: Chat) -> None:
    await onboard_en(chat, "anna")
    await chat.say("anna", "/settings")
    await chat.tap("anna", "quiet")
    await chat.tap("anna", "21-09")
    person = await known_person(chat, "anna")
    assert (person.quiet_start_minute, person.quiet_end_minute) == (21 * 60, 9 * 60)
    await chat.tap("anna", "quiet")
    replies = await chat.say("anna", "kl. 23.30 til 6")
    assert "Saved." in texts(replies)
    person = await known_person(chat, "anna")
    assert (person.quiet_start_minute, person.quiet_end_minute) == (23 * 60 + 30, 6 * 60)
    await chat.tap("anna", "quiet")
    replies = await chat.say("anna", "sometime tomorrow")
    assert "couldn't read those times" in texts(replies)
    await chat.tap("anna", "none")
    person = await known_person(chat, "anna")
    assert (person.quiet_start_minute, person.quiet_end_minute) == (None, None)


async def test_done_closes_the_settings(chat: Chat) -> None:
    await onboard_en(chat, "anna")
    await chat.say("anna", "/settings")
    replies = await chat.tap("anna", "done")
    assert "All saved." in texts(replies)
    assert await conversation_of(chat, "anna") is None


async def test_settings_language_is_one_shot(chat: Chat) -> None:
    await onboard_en(chat, "anna")
    replies = await chat.say("anna", "/settings language")
    assert choice_ids(replies[-1]) == ["da", "en", "ar", "uk"]
    replies = await chat.tap("anna", "da")
    assert not replies[-1].choices  # no menu afterwards
    assert await conversation_of(chat, "anna") is None
    assert (await known_person(chat, "anna")).language == "da"


async def test_language_command_and_danish_section_names(chat: Chat) -> None:
    await onboard_en(chat, "anna")
    replies = await chat.say("anna", "/sprog")
    assert choice_ids(replies[-1]) == ["da", "en", "ar", "uk"]
    await chat.tap("anna", "en")
    replies = await chat.say("anna", "/indstillinger navn")
    assert replies[-1].expects_text
    await chat.say("anna", "Anne")
    assert await conversation_of(chat, "anna") is None
    assert (await known_person(chat, "anna")).display_name == "Anne"


async def test_unknown_section_shows_the_menu(chat: Chat) -> None:
    await onboard_en(chat, "anna")
    replies = await chat.say("anna", "/settings colour")
    assert "done" in choice_ids(replies[-1])


# -- a photo or a pin where a choice or words are wanted ---------------------------------------


async def test_a_photo_while_the_menu_is_open_asks_again_and_keeps_the_menu(chat: Chat) -> None:
    await onboard_en(chat, "anna")
    await chat.say("anna", "/settings")
    replies = await chat.send_media("anna", Media(MediaKind.PHOTO, "photo-1", caption="done"))
    assert "can't use that here" in replies[0].text
    assert "tap one of the choices" in replies[0].text
    assert "done" in choice_ids(replies[-1])  # the same menu again
    assert "All saved." not in texts(replies)
    conversation = await conversation_of(chat, "anna")
    assert conversation is not None
    assert (conversation.flow, conversation.state) == ("settings", "menu")
    await chat.tap("anna", "quiet")  # and it still works
    await chat.tap("anna", "21-09")
    assert (await known_person(chat, "anna")).quiet_start_minute == 21 * 60


async def test_a_location_while_the_menu_is_open_asks_again(chat: Chat) -> None:
    await onboard_en(chat, "anna")
    await chat.say("anna", "/settings")
    replies = await chat.send_location("anna", Location(56.1, 9.5))
    assert "can't use that here" in replies[0].text
    assert "done" in choice_ids(replies[-1])
    conversation = await conversation_of(chat, "anna")
    assert conversation is not None
    assert conversation.state == "menu"


async def test_a_photo_at_the_name_question_asks_for_words(chat: Chat) -> None:
    await onboard_en(chat, "anna")
    await chat.say("anna", "/settings name")
    replies = await chat.send_media("anna", Media(MediaKind.PHOTO, "photo-1", caption="Me!"))
    assert "Please write your answer, or tap one of the choices." in replies[0].text
    assert replies[-1].expects_text
    assert (await known_person(chat, "anna")).display_name == "Anna"
    conversation = await conversation_of(chat, "anna")
    assert conversation is not None
    assert conversation.state == "name"


# -- photos and voice notes -------------------------------------------------------------------


async def snap_consent_of(chat: Chat, user: str) -> bool | None:
    person = await known_person(chat, user)
    async with chat.app.uow() as uow:
        return await uow.feedback.snap_consent(person.id)


async def test_photo_sharing_can_be_switched_on_and_off_from_the_menu(chat: Chat) -> None:
    await onboard_en(chat, "anna")
    await chat.say("anna", "/settings")
    replies = await chat.tap("anna", "photos")
    assert choice_ids(replies[-1]) == ["yes", "no"]
    replies = await chat.tap("anna", "yes")
    assert "Saved." in texts(replies)
    assert await snap_consent_of(chat, "anna") is True
    assert "Photos and voice notes: shared with the organisers" in replies[-1].text
    await chat.tap("anna", "photos")
    replies = await chat.tap("anna", "no")
    assert await snap_consent_of(chat, "anna") is False
    assert "Photos and voice notes: not kept" in replies[-1].text
    assert "already shared" not in texts(replies)  # there was nothing shared to speak of


async def test_photo_sharing_is_a_one_shot_section_in_danish_too(chat: Chat) -> None:
    await chat.onboard("anna")
    replies = await chat.say("anna", "/indstillinger billeder")
    assert choice_ids(replies[-1]) == ["yes", "no"]
    assert "arrangørerne" in replies[-1].text
    await chat.say("anna", "ja")
    assert await snap_consent_of(chat, "anna") is True
    assert await conversation_of(chat, "anna") is None


async def test_mydata_says_whether_photos_are_shared(chat: Chat) -> None:
    await onboard_en(chat, "anna")
    replies = await chat.say("anna", "/mydata")
    assert "Photos and voice notes: not asked yet" in replies[0].text
    await chat.say("anna", "/settings photos")
    await chat.tap("anna", "no")
    replies = await chat.say("anna", "/mydata")
    assert "Photos and voice notes: not kept" in replies[0].text


async def test_the_end_of_onboarding_does_not_list_what_it_never_asked(chat: Chat) -> None:
    await onboard_en(chat, "anna")
    assert "Thank you, that's all" in chat.last_text("anna")
    assert "Photos and voice notes" not in chat.last_text("anna")

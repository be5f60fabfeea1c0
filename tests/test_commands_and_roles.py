"""/help and its buttons, roles checked on the server, coordinator codes, unknown commands."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.i18n import catalogs
from conversations.core.messages import OutMessage
from storage.clock import FrozenClock
from storage.models import Conversation, InviteCode, Role, Topic, TopicKind
from tests.fakes import Chat
from tests.helpers import (
    choice_ids,
    conversation_of,
    known_person,
    onboard_en,
    snapshot,
    texts,
)


def menu_of(replies: list[OutMessage]) -> OutMessage:
    menus = [m for m in replies if m.choices and "/" in m.text and " – " in m.text]
    assert menus, f"no menu in {[m.text[:40] for m in replies]}"
    return menus[-1]


async def new_code(chat: Chat, *, days: float = 7) -> str:
    async with chat.app.uow() as uow:
        code = await uow.invites.create(
            Role.COORDINATOR, valid_for=timedelta(days=days), created_by=None, note="test"
        )
        await uow.commit()
    return code


# -- /help and the menu ---------------------------------------------------------------------


async def test_help_shows_the_menu_as_text_and_buttons(chat: Chat) -> None:
    await onboard_en(chat, "anna")
    replies = await chat.say("anna", "/help")
    menu = menu_of(replies)
    assert "/settings" in menu.text
    assert "/mydata" in menu.text
    assert "/forget" in menu.text
    assert "/topics" not in menu.text  # a citizen does not see coordinator commands
    assert "topics" not in choice_ids(menu)
    assert menu.prompt_id is not None


async def test_help_in_the_middle_of_something_asks_the_question_again(chat: Chat) -> None:
    await onboard_en(chat, "anna")
    await chat.say("anna", "/settings")
    replies = await chat.say("anna", "/hjælp")
    menu_of(replies[:1])
    assert "done" in choice_ids(replies[-1])  # the settings menu again


async def test_a_tap_on_a_menu_button_starts_that_command(chat: Chat) -> None:
    await onboard_en(chat, "anna")
    await chat.say("anna", "/help")
    replies = await chat.tap("anna", "settings")
    assert "done" in choice_ids(replies[-1])
    conversation = await conversation_of(chat, "anna")
    assert conversation is not None
    assert conversation.flow == "settings"


async def test_a_menu_tap_before_consent_leads_to_onboarding(chat: Chat) -> None:
    await chat.say("bo", "/start")
    await chat.tap("bo", "en")
    await chat.tap("bo", "no")
    await chat.say("bo", "/help")
    replies = await chat.tap("bo", "settings")
    assert choice_ids(replies[-1]) == ["da", "en", "ar", "uk"]
    conversation = await conversation_of(chat, "bo")
    assert conversation is not None
    assert conversation.flow == "onboarding"


async def test_plain_words_from_an_onboarded_person_get_the_menu(chat: Chat) -> None:
    await onboard_en(chat, "anna")
    replies = await chat.say("anna", "what can you do")
    assert "I'm not sure what you mean" in replies[-1].text
    menu_of(replies)


# -- coordinator-only commands ----------------------------------------------------------------


async def test_topics_is_refused_for_a_citizen(chat: Chat) -> None:
    await onboard_en(chat, "anna")
    replies = await chat.say("anna", "/topics")
    assert "Only coordinators can do that." in texts(replies)
    assert await conversation_of(chat, "anna") is None
    replies = await chat.say("anna", "/emner")
    assert "Only coordinators can do that." in texts(replies)


async def test_a_forged_menu_tap_for_topics_is_refused(chat: Chat) -> None:
    await onboard_en(chat, "anna")
    await onboard_en(chat, "kim", name="Kim")
    await chat.say("anna", "/help")
    own_menu = chat.last_question("anna")
    assert own_menu.prompt_id is not None
    # "topics" is not on anna's menu
    replies = await chat.press("anna", own_menu.prompt_id, "topics")
    assert "That choice is no longer open" in texts(replies)
    assert await conversation_of(chat, "anna") is None
    # kim's menu has it, but it was not sent to anna
    await chat.say("kim", "/help")
    kims_menu = chat.last_question("kim")
    assert "newevent" in choice_ids(kims_menu)  # coordinator-only, and on kim's menu
    assert kims_menu.prompt_id is not None
    replies = await chat.press("anna", kims_menu.prompt_id, "newevent")
    assert "That choice is no longer open" in texts(replies)
    assert await conversation_of(chat, "anna") is None


async def test_a_coordinator_adds_and_removes_a_topic(chat: Chat) -> None:
    await onboard_en(chat, "kim", name="Kim")
    replies = await chat.say("kim", "/help")
    assert "/topics" in menu_of(replies).text
    replies = await chat.say("kim", "/topics")
    assert choice_ids(replies[-1]) == ["add_interest", "add_area", "remove", "names", "done"]
    replies = await chat.tap("kim", "add_interest")
    assert replies[-1].expects_text
    replies = await chat.say("kim", "")
    assert "Please type a short name" in texts(replies)
    replies = await chat.say("kim", "Fuglekig / Bird watching")
    assert "Added." in texts(replies)
    assert "Bird watching" in replies[-1].text
    async with chat.app.uow() as uow:
        topic = (
            await uow.session.execute(select(Topic).where(Topic.name_da == "Fuglekig"))
        ).scalar_one()
    assert (topic.kind, topic.name_en, topic.active) == (TopicKind.INTEREST, "Bird watching", True)

    await chat.tap("kim", "add_area")
    await chat.say("kim", "Havnen")
    await chat.tap("kim", "remove")
    replies = await chat.tap("kim", f"t{topic.id}")
    assert "Bird watching" not in replies[-1].text
    async with chat.app.uow() as uow:
        removed = await uow.topics.get(topic.id)
        areas = [t.name_da for t in await uow.topics.active(TopicKind.AREA)]
    assert removed is not None
    assert not removed.active
    assert "Havnen" in areas
    replies = await chat.tap("kim", "done")
    assert await conversation_of(chat, "kim") is None


async def test_a_role_taken_away_mid_conversation_is_checked_again(chat: Chat) -> None:
    await onboard_en(chat, "lis", name="Lis")
    code = await new_code(chat)
    await chat.say("lis", f"/coordinator {code}")
    await chat.say("lis", "/topics")
    await chat.tap("lis", "add_interest")
    person = await known_person(chat, "lis")
    async with chat.app.uow() as uow:
        stored = await uow.persons.get(person.id)
        assert stored is not None
        await uow.persons.set_role(stored, Role.CITIZEN)
        await uow.commit()
    replies = await chat.say("lis", "Sneaky / Sneaky")
    assert "Only coordinators can do that." in texts(replies)
    async with chat.app.uow() as uow:
        names = [t.name_da for t in await uow.topics.active(TopicKind.INTEREST)]
    assert "Sneaky" not in names


# -- coordinator codes ------------------------------------------------------------------------


async def test_a_valid_code_makes_a_coordinator(chat: Chat) -> None:
    await onboard_en(chat, "lis", name="Lis")
    code = await new_code(chat)
    replies = await chat.say("lis", f"/coordinator {code}")
    assert "Welcome as a coordinator!" in texts(replies)
    assert (await known_person(chat, "lis")).role == Role.COORDINATOR
    replies = await chat.say("lis", "/topics")
    assert "add_interest" in choice_ids(replies[-1])


async def test_a_code_typed_after_asking_and_in_lower_case(chat: Chat) -> None:
    await onboard_en(chat, "lis", name="Lis")
    code = await new_code(chat)
    replies = await chat.say("lis", "/koordinator")
    assert replies[-1].expects_text
    replies = await chat.say("lis", f"  {code.lower()} ")
    assert "Welcome as a coordinator!" in texts(replies)
    assert (await known_person(chat, "lis")).role == Role.COORDINATOR


async def test_a_code_works_once(chat: Chat) -> None:
    await onboard_en(chat, "lis", name="Lis")
    await onboard_en(chat, "max", name="Max")
    code = await new_code(chat)
    await chat.say("lis", f"/coordinator {code}")
    replies = await chat.say("max", f"/coordinator {code}")
    assert "That code doesn't work." in texts(replies)
    assert (await known_person(chat, "max")).role == Role.CITIZEN
    async with chat.app.uow() as uow:
        invite = (await uow.session.execute(select(InviteCode))).scalar_one()
    lis = await known_person(chat, "lis")
    assert invite.redeemed_by_id == lis.id


async def test_an_expired_code_does_not_work(chat: Chat, clock: FrozenClock) -> None:
    await onboard_en(chat, "lis", name="Lis")
    code = await new_code(chat, days=7)
    clock.advance(timedelta(days=7, seconds=1))
    replies = await chat.say("lis", f"/coordinator {code}")
    assert "That code doesn't work." in texts(replies)
    assert (await known_person(chat, "lis")).role == Role.CITIZEN


async def test_a_wrong_code_does_not_work(chat: Chat) -> None:
    await onboard_en(chat, "lis", name="Lis")
    await new_code(chat)
    replies = await chat.say("lis", "/coordinator ABCDE-FGHJK")
    assert "That code doesn't work." in texts(replies)
    assert (await known_person(chat, "lis")).role == Role.CITIZEN


async def test_a_coordinator_code_needs_consent_first(chat: Chat) -> None:
    code = await new_code(chat)
    replies = await chat.say("nina", f"/coordinator {code}")
    assert choice_ids(replies[-1]) == ["da", "en", "ar", "uk"]
    assert (await known_person(chat, "nina")).role == Role.CITIZEN


# -- unknown commands, /cancel and /back ------------------------------------------------------


async def test_an_unknown_command_suggests_the_likely_one(chat: Chat) -> None:
    await onboard_en(chat, "anna")
    replies = await chat.say("anna", "/setings")
    assert "I don't know /setings. Did you mean /settings?" in texts(replies)
    replies = await chat.say("anna", "/xyzzy")
    assert "Write /help to see what I can do." in texts(replies)


async def test_an_unknown_command_in_a_conversation_repeats_the_question(chat: Chat) -> None:
    await onboard_en(chat, "anna")
    await chat.say("anna", "/settings")
    before = await snapshot(chat, "anna")
    replies = await chat.say("anna", "/hlep")
    assert "Did you mean /help?" in replies[0].text
    assert "done" in choice_ids(replies[-1])
    assert await snapshot(chat, "anna") == before


async def test_cancel_and_back_with_no_conversation(chat: Chat) -> None:
    replies = await chat.say("nina", "/cancel")  # a newcomer: Danish until they choose
    assert "Der er ikke noget at stoppe lige nu." in texts(replies)
    replies = await chat.say("nina", "/back")
    assert replies[0].text == catalogs().get("da").gettext("There is nothing to go back to.")
    await onboard_en(chat, "anna")
    replies = await chat.say("anna", "/annuller")
    assert "There is nothing to stop right now." in texts(replies)
    replies = await chat.say("anna", "/tilbage")
    assert "There is nothing to go back to." in texts(replies)


async def test_cancel_in_every_flow_keeps_what_was_answered(chat: Chat) -> None:
    await onboard_en(chat, "kim", name="Kim")
    for command in ("/settings", "/settings name", "/forget", "/coordinator", "/topics"):
        await chat.say("kim", command)
        assert await conversation_of(chat, "kim") is not None
        replies = await chat.say("kim", "/cancel")
        assert "OK, we'll stop here. What you already answered is saved." in texts(replies), command
        assert await conversation_of(chat, "kim") is None
    assert (await known_person(chat, "kim")).display_name == "Kim"
    # onboarding too: the answers given so far stay
    await chat.say("ole", "/start")
    await chat.tap("ole", "en")
    await chat.tap("ole", "yes")
    await chat.say("ole", "Ole")
    await chat.say("ole", "/cancel")
    person = await known_person(chat, "ole")
    assert (person.display_name, person.language) == ("Ole", "en")
    async with chat.app.uow() as uow:
        assert (await uow.session.execute(select(Conversation))).first() is None


async def test_back_in_every_flow(chat: Chat) -> None:
    await onboard_en(chat, "kim", name="Kim")
    await chat.say("kim", "/settings")
    replies = await chat.say("kim", "/back")
    assert "This is the first question" in texts(replies)
    await chat.tap("kim", "quiet")
    replies = await chat.say("kim", "/back")
    assert "done" in choice_ids(replies[-1])
    conversation = await conversation_of(chat, "kim")
    assert conversation is not None
    assert conversation.state == "menu"

    await chat.say("kim", "/topics")
    await chat.tap("kim", "remove")
    replies = await chat.say("kim", "/back")
    assert choice_ids(replies[-1]) == ["add_interest", "add_area", "remove", "names", "done"]

    await chat.say("kim", "/forget")
    replies = await chat.say("kim", "/back")
    assert choice_ids(replies[-1]) == ["delete", "keep"]
    await chat.say("kim", "/cancel")
    assert (await known_person(chat, "kim")).display_name == "Kim"


async def test_an_old_menu_button_respects_a_pause(chat: Chat) -> None:
    await onboard_en(chat, "anna")
    await chat.say("anna", "/help")
    menu = chat.last_question("anna")
    assert menu.prompt_id is not None
    await chat.say("anna", "/stop")
    replies = await chat.press("anna", menu.prompt_id, "settings")
    assert "You have paused messages from me." in texts(replies)
    assert await conversation_of(chat, "anna") is None
    replies = await chat.press("anna", menu.prompt_id, "mydata")  # allowed while paused
    assert replies[-1].attachment is not None


async def test_topic_names_lose_control_characters(chat: Chat) -> None:
    await onboard_en(chat, "kim", name="Kim")
    await chat.say("kim", "/topics")
    await chat.tap("kim", "add_interest")
    replies = await chat.say("kim", "Fugle\x00kig\u200b /  Bird\x07 watching ")
    assert "Added." in texts(replies)
    async with chat.app.uow() as uow:
        names = [(t.name_da, t.name_en) for t in await uow.topics.active(TopicKind.INTEREST)]
    assert ("Fuglekig", "Bird watching") in names
    await chat.tap("kim", "add_area")
    replies = await chat.say("kim", "\x00\x01 / Nothing")
    assert "Please type a short name" in texts(replies)

"""Onboarding, read as a chat."""

from __future__ import annotations

from sqlalchemy import select

from conversations.core.messages import OutMessage
from storage.models import ConsentRecord, ConsentState, Person, PersonTopic
from tests.fakes import Chat


async def person_of(chat: Chat, user: str) -> Person:
    async with chat.app.uow() as uow:
        identity = await uow.persons.find_identity("fake", user)
        assert identity is not None
        person = await uow.persons.get(identity.person_id)
        assert person is not None
        return person


async def test_first_hello_greets_in_danish_and_asks_for_language(chat: Chat) -> None:
    replies = await chat.say("anna", "hej")
    assert "Velkommen" in replies[0].text or "velkommen" in replies[0].text
    assert [c.id for c in replies[-1].choices] == ["da", "en", "ar", "uk"]


async def test_full_onboarding_stores_answers_and_consent(chat: Chat) -> None:
    await chat.say("anna", "/start")
    await chat.tap("anna", "da")
    await chat.tap("anna", "yes")
    await chat.say("anna", "Anna B")
    await chat.tap("anna", 1)  # the first interest
    await chat.tap("anna", "done")
    await chat.tap("anna", "done")  # no area
    await chat.tap("anna", "yes")  # citizens' initiatives
    await chat.say("anna", "22-7")

    person = await person_of(chat, "anna")
    assert person.display_name == "Anna B"
    assert person.consent == ConsentState.GIVEN
    assert person.onboarded_at is not None
    assert (person.quiet_start_minute, person.quiet_end_minute) == (22 * 60, 7 * 60)
    async with chat.app.uow() as uow:
        records = (await uow.session.execute(select(ConsentRecord))).scalars().all()
        topics = (await uow.session.execute(select(PersonTopic))).scalars().all()
    assert [(r.version, r.given) for r in records] == [("2026-11", True)]
    assert len(topics) == 1
    assert person.hear_initiatives is True
    assert "22:00–07:00" in chat.last_text("anna")
    assert "Borgernes initiativer: ja" in chat.last_text("anna")  # in the summary


async def until_initiatives(chat: Chat, user: str) -> list[OutMessage]:
    await chat.say(user, "/start")
    await chat.tap(user, "en")
    await chat.tap(user, "yes")
    await chat.say(user, "Bo")
    replies: list[OutMessage] = []
    while chat.last_question(user).choices[-1].id == "done":
        replies = await chat.tap(user, "done")
    return replies


async def test_onboarding_asks_about_citizens_initiatives_before_quiet_hours(
    chat: Chat,
) -> None:
    replies = await until_initiatives(chat, "bo")
    question = replies[-1]
    assert "citizens' own initiatives" in question.text
    assert [c.id for c in question.choices] == ["yes", "no"]
    replies = await chat.tap("bo", "yes")
    assert (await person_of(chat, "bo")).hear_initiatives is True
    assert replies[-1].choices[0].id == "none"  # quiet hours next
    replies = await chat.tap("bo", "none")
    assert "Citizens' initiatives: yes" in replies[-1].text


async def test_initiatives_can_be_skipped_and_stay_off(chat: Chat) -> None:
    await until_initiatives(chat, "bo")
    replies = await chat.say("bo", "skip")
    assert len(replies) == 1  # no "please choose" first
    assert replies[-1].choices[0].id == "none"  # quiet hours next
    await chat.tap("bo", "none")
    person = await person_of(chat, "bo")
    assert person.hear_initiatives is False
    assert person.onboarded_at is not None
    assert "Citizens' initiatives: no" in chat.last_text("bo")


async def test_back_from_quiet_hours_returns_to_the_initiatives_question(chat: Chat) -> None:
    await until_initiatives(chat, "bo")
    await chat.tap("bo", "no")
    replies = await chat.say("bo", "/back")
    assert [c.id for c in replies[-1].choices] == ["yes", "no"]
    await chat.tap("bo", "yes")
    assert (await person_of(chat, "bo")).hear_initiatives is True


async def test_english_choice_switches_every_later_message(chat: Chat) -> None:
    await chat.say("bo", "/start")
    replies = await chat.tap("bo", "en")
    assert "Is that all right with you?" in replies[-1].text
    person = await person_of(chat, "bo")
    assert person.language == "en"


async def test_refusing_consent_keeps_only_the_refusal(chat: Chat) -> None:
    await chat.say("bo", "/start")
    await chat.tap("bo", "en")
    replies = await chat.tap("bo", "no")
    assert "/start" in replies[-1].text
    person = await person_of(chat, "bo")
    assert person.consent == ConsentState.REFUSED
    assert person.display_name is None
    # without consent, commands that keep data lead back to the question
    replies = await chat.say("bo", "/settings")
    assert any(m.choices and m.choices[0].id == "da" for m in replies)


async def test_typed_name_that_starts_like_a_choice_is_taken_as_a_name(chat: Chat) -> None:
    await chat.say("cy", "/start", name="Cy")
    await chat.tap("cy", "da")
    await chat.tap("cy", "yes")
    await chat.say("cy", "Cy Twombly")
    assert (await person_of(chat, "cy")).display_name == "Cy Twombly"


async def test_back_returns_to_the_previous_question(chat: Chat) -> None:
    await chat.say("di", "/start")
    await chat.tap("di", "da")
    replies = await chat.say("di", "/back")
    assert [c.id for c in replies[-1].choices] == ["da", "en", "ar", "uk"]
    replies = await chat.tap("di", "en")
    assert "Is that all right with you?" in replies[-1].text


async def test_deep_link_is_remembered_through_onboarding(chat: Chat) -> None:
    async with chat.app.uow() as uow:
        from datetime import timedelta

        from storage.models import Role

        code = await uow.invites.create(
            Role.COORDINATOR, valid_for=timedelta(days=1), created_by=None, note=None
        )
        await uow.commit()
    await chat.say("eva", f"/start co_{code}")
    await chat.tap("eva", "da")
    await chat.tap("eva", "yes")
    await chat.say("eva", "Eva")
    await chat.tap("eva", "done")
    await chat.tap("eva", "done")
    await chat.tap("eva", "no")
    replies = await chat.tap("eva", "none")
    assert "/hjaelp" in replies[-1].text  # she chose Danish, so the Danish command name
    person = await person_of(chat, "eva")
    assert person.role == "coordinator"


async def test_group_chat_gets_pointed_to_a_private_chat_and_chatter_is_ignored(chat: Chat) -> None:
    import uuid

    from conversations.core.messages import ChatRef, Inbound

    group = ChatRef("fake", "group-1", "anna")
    await chat.app.dispatch(Inbound(group, uuid.uuid4().hex, text="/start", private_chat=False))
    await chat.app.dispatch(Inbound(group, uuid.uuid4().hex, text="hej alle", private_chat=False))
    to_group = [d for d in chat.transport.sent if d.ref == group]
    assert len(to_group) == 1
    assert "privat" in to_group[0].message.text.lower()
    async with chat.app.uow() as uow:
        assert await uow.persons.find_identity("fake", "anna") is None


async def test_a_typed_number_answers_the_newest_menu_outside_a_conversation(chat: Chat) -> None:
    await chat.onboard("fia", name="Fia")
    await chat.say("fia", "/hjaelp")
    replies = await chat.say("fia", "5")  # the fifth menu button: settings
    assert any("indstillinger" in m.text.lower() for m in replies)
    assert replies[-1].choices[0].id == "language"


async def test_chatter_outside_a_conversation_is_not_taken_as_a_choice(chat: Chat) -> None:
    await chat.onboard("gus", name="Gus")
    await chat.say("gus", "/hjaelp")
    replies = await chat.say("gus", "hvordan har du det i dag")
    assert replies[0].choices  # the menu again, with a friendly intro, nothing chosen
    assert not any(
        "indstillinger" in m.text.lower() and m.choices[0].id == "language"
        for m in replies
        if m.choices
    )

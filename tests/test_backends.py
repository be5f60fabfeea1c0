"""Whole chats on each database backend (SQLite always, PostgreSQL when configured)."""

from __future__ import annotations

import json
from datetime import timedelta

from storage.clock import FrozenClock
from storage.models import ConsentState, Role
from tests.fakes import Chat
from tests.helpers import conversation_of, known_person, person_of, texts, topics_of


async def test_a_life_in_the_bot(backend_chat: Chat, clock: FrozenClock) -> None:
    chat = backend_chat
    await chat.say("anna", "/start", name="Anna")
    await chat.tap("anna", "en")
    await chat.say("anna", "ja", name="Anna")  # the name comes with the message
    await chat.tap("anna", "suggested")
    await chat.tap("anna", 2)
    await chat.tap("anna", "done")
    await chat.say("anna", "nord")
    await chat.say("anna", "done")
    await chat.say("anna", "yes please")  # citizens' initiatives, typed
    replies = await chat.say("anna", "22.30-7")
    assert "Thank you, that's all!" in texts(replies)
    person = await known_person(chat, "anna")
    assert (person.display_name, person.consent, person.language) == (
        "Anna",
        ConsentState.GIVEN,
        "en",
    )
    assert len(await topics_of(chat, "anna")) == 2
    assert person.hear_initiatives is True
    assert person.consent_at == clock.now()

    # settings, with a stale button and a forged one on the way
    await chat.say("anna", "/settings")
    menu = chat.last_question("anna")
    await chat.tap("anna", "name")
    assert menu.prompt_id is not None
    replies = await chat.press("anna", menu.prompt_id, "quiet")
    assert "already answered that one" in texts(replies)
    replies = await chat.press("anna", "forged", "quiet")
    assert "That choice is no longer open" in texts(replies)
    await chat.say("anna", "Anna Bee")
    await chat.tap("anna", "done")
    assert (await known_person(chat, "anna")).display_name == "Anna Bee"

    # a coordinator code
    async with chat.app.uow() as uow:
        code = await uow.invites.create(
            Role.COORDINATOR, valid_for=timedelta(days=1), created_by=None, note=None
        )
        await uow.commit()
    await chat.say("anna", f"/coordinator {code}")
    assert (await known_person(chat, "anna")).role == Role.COORDINATOR
    await chat.say("anna", "/topics")
    await chat.tap("anna", "add_interest")
    await chat.say("anna", "Fugle\x00kig / Birds")
    await chat.tap("anna", "done")

    # everything about her, then nothing
    replies = await chat.say("anna", "/mydata")
    attachment = replies[-1].attachment
    assert attachment is not None
    exported = json.loads(attachment.content)
    assert exported["persons"][0]["display_name"] == "Anna Bee"
    assert {"identities", "consent_records", "person_topics", "invite_codes"} <= set(exported)
    await chat.say("anna", "/forget")
    await chat.tap("anna", "delete")
    assert await person_of(chat, "anna") is None
    assert await conversation_of(chat, "anna") is None
    async with chat.app.uow() as uow:
        invite = await uow.invites.redeem(code, 1)
    assert invite is None  # used, and no longer pointing at her


async def test_expiry_and_duplicates_on_each_backend(
    backend_chat: Chat, clock: FrozenClock
) -> None:
    chat = backend_chat
    await chat.say("bo", "/start")
    await chat.tap("bo", "en")
    clock.advance(chat.app.settings.conversation_ttl + timedelta(seconds=1))
    replies = await chat.say("bo", "yes")
    assert replies[0].text.startswith("It has been a while")
    from conversations.core.messages import Inbound

    inbound = Inbound(chat.ref("bo"), "same-update", text="/help")
    await chat.app.dispatch(inbound)
    sent = len(chat.transport.sent)
    await chat.app.dispatch(inbound)
    assert len(chat.transport.sent) == sent


async def test_forged_button_data_with_a_nul_is_refused_on_each_backend(backend_chat: Chat) -> None:
    # PostgreSQL refuses a NUL in text: the lookup must not reach it
    chat = backend_chat
    await chat.say("anna", "/start", name="Anna")
    await chat.tap("anna", "en")
    before = await conversation_of(chat, "anna")
    assert before is not None
    replies = await chat.press("anna", "ab\x00cd", "yes")
    assert "That choice is no longer open" in texts(replies)
    after = await conversation_of(chat, "anna")
    assert after is not None
    assert (after.flow, after.state) == (before.flow, before.state) == ("onboarding", "consent")

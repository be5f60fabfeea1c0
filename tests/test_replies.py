"""Delivering replies: prompt message ids recorded, a blocked person marked and unmarked."""

from __future__ import annotations

from tests.fakes import Chat
from tests.helpers import onboard_en


async def blocked_at(chat: Chat, user: str) -> object:
    async with chat.app.uow() as uow:
        identity = await uow.persons.find_identity("fake", user)
        assert identity is not None
        return identity.blocked_at


async def test_each_prompt_knows_the_message_it_was_sent_in(chat: Chat) -> None:
    await chat.say("anna", "/start")
    delivered = chat.transport.to("anna")[-1]
    assert delivered.message.prompt_id is not None
    async with chat.app.uow() as uow:
        prompt = await uow.prompts.by_message("fake", "chat-anna", delivered.message_id)
    assert prompt is not None
    assert prompt.id == delivered.message.prompt_id


async def test_a_person_who_blocked_the_bot_is_marked_and_unmarked(chat: Chat) -> None:
    await onboard_en(chat, "anna")
    assert await blocked_at(chat, "anna") is None
    chat.transport.blocked.add("anna")
    assert await chat.say("anna", "/help") == []
    assert await blocked_at(chat, "anna") == chat.app.clock.now()
    chat.transport.blocked.discard("anna")
    replies = await chat.say("anna", "/help")  # writing again means they can hear us
    assert replies
    assert await blocked_at(chat, "anna") is None

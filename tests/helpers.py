"""Small readers of the database for tests: a person, their conversation, their topics."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from conversations.core.messages import OutMessage
from storage.models import Conversation, Person, PersonTopic, Prompt
from tests.fakes import PLATFORM, Chat


async def person_of(chat: Chat, user: str) -> Person | None:
    async with chat.app.uow() as uow:
        identity = await uow.persons.find_identity(PLATFORM, user)
        if identity is None:
            return None
        return await uow.persons.get(identity.person_id)


async def known_person(chat: Chat, user: str) -> Person:
    person = await person_of(chat, user)
    assert person is not None, f"{user} is not in the database"
    return person


async def conversation_of(chat: Chat, user: str) -> Conversation | None:
    ref = chat.ref(user)
    async with chat.app.uow() as uow:
        return await uow.conversations.get(ref.platform, ref.chat_id, ref.user_id)


@dataclass(frozen=True)
class ConversationSnapshot:
    flow: str
    state: str
    data: dict[str, Any]
    history: list[Any]


async def snapshot(chat: Chat, user: str) -> ConversationSnapshot | None:
    """Where a person is in a conversation, without the parts a re-ask refreshes."""
    conversation = await conversation_of(chat, user)
    if conversation is None:
        return None
    return ConversationSnapshot(
        conversation.flow, conversation.state, dict(conversation.data), list(conversation.history)
    )


async def topics_of(chat: Chat, user: str) -> set[int]:
    person = await known_person(chat, user)
    async with chat.app.uow() as uow:
        result = await uow.session.execute(
            select(PersonTopic.topic_id).where(PersonTopic.person_id == person.id)
        )
        return set(result.scalars().all())


async def prompt(chat: Chat, prompt_id: str) -> Prompt | None:
    async with chat.app.uow() as uow:
        return await uow.prompts.get(prompt_id)


def texts(replies: list[OutMessage]) -> str:
    return "\n".join(reply.text for reply in replies)


def choice_ids(message: OutMessage) -> list[str]:
    return [choice.id for choice in message.choices]


async def onboard_en(chat: Chat, user: str, name: str = "Anna") -> None:
    """Onboard in English, so assertions on texts do not depend on the Danish catalog."""
    await chat.onboard(user, language="en", name=name)

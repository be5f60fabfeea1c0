"""Where each chat is in a multi-step flow (a conversation row and its question)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Conversation, Prompt

# Asked on every message, built once with bound parameters (see people.py).
_CONVERSATION_BY_CHAT = (
    select(Conversation, Prompt)
    .outerjoin(Prompt, Prompt.id == Conversation.prompt_id)
    .where(
        Conversation.platform == bindparam("platform"),
        Conversation.chat_id == bindparam("chat_id"),
        Conversation.user_id == bindparam("user_id"),
    )
)


class ConversationRepository:
    """Conversations by chat. Within one unit of work a chat's conversation is looked up
    once: the router and the engine ask several times while handling one message."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._by_chat: dict[tuple[str, str, str], Conversation | None] = {}
        self._questions: list[Prompt] = []

    async def get(self, platform: str, chat_id: str, user_id: str) -> Conversation | None:
        key = (platform, chat_id, user_id)
        if key in self._by_chat:
            return self._by_chat[key]
        # The question it is waiting on comes in the same query: answering needs both, and
        # once loaded the session hands the prompt out without asking the database again.
        result = await self._session.execute(
            _CONVERSATION_BY_CHAT,
            {"platform": platform, "chat_id": chat_id, "user_id": user_id},
        )
        row = result.first()
        conversation, prompt = (row[0], row[1]) if row is not None else (None, None)
        self.loaded(platform, chat_id, user_id, conversation, prompt)
        return conversation

    def loaded(
        self,
        platform: str,
        chat_id: str,
        user_id: str,
        conversation: Conversation | None,
        prompt: Prompt | None,
    ) -> None:
        """Take a chat's conversation (or its absence) and its question, read by another query."""
        self._by_chat[(platform, chat_id, user_id)] = conversation
        if prompt is not None:
            # The session only holds loaded objects weakly; without this the prompt would be
            # gone (and read again) by the time the answer is checked against it.
            self._questions.append(prompt)

    def add(self, conversation: Conversation) -> None:
        self._session.add(conversation)
        self._by_chat[_chat_key(conversation)] = conversation

    async def remove(self, conversation: Conversation) -> None:
        self._by_chat[_chat_key(conversation)] = None
        if conversation in self._session:
            await self._session.delete(conversation)
            await self._session.flush()
        else:  # already gone with its person (after /forget)
            await self._session.execute(
                delete(Conversation).where(Conversation.id == conversation.id)
            )

    async def remove_expired(self, now: datetime) -> int:
        self._by_chat.clear()
        result = await self._session.execute(
            delete(Conversation).where(Conversation.expires_at < now)
        )
        return int(getattr(result, "rowcount", 0) or 0)


def _chat_key(conversation: Conversation) -> tuple[str, str, str]:
    return (conversation.platform, conversation.chat_id, conversation.user_id)

"""One chat's steps one at a time across processes (PostgreSQL): a transaction-scoped
advisory lock per chat, held until the step commits or rolls back."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_TURN = text("SELECT pg_advisory_xact_lock(hashtextextended(:chat, 0))")


class ChatTurns:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._shared = session.get_bind().dialect.name == "postgresql"

    async def wait_turn(self, platform: str, chat_id: str) -> None:
        """Wait until no other transaction, in any process, is handling a step of this chat.
        (On SQLite the process's own per-chat lock and the one writer do this already.)"""
        if self._shared:
            await self._session.execute(_TURN, {"chat": f"chat:{platform}:{chat_id}"})

"""Questions with choices that were sent, so a later answer to one can be checked."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.clock import Clock
from storage.models import Base, Prompt
from storage.types import UTCDateTime


class PromptRepository:
    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    async def create(
        self,
        *,
        platform: str,
        chat_id: str,
        user_id: str,
        person_id: int,
        flow: str,
        state: str,
        choices: list[dict[str, Any]],
        context: dict[str, Any] | None = None,
        bound: bool = True,
        sent: bool = True,
    ) -> Prompt:
        prompt = Prompt(
            id=secrets.token_urlsafe(6),
            platform=platform,
            chat_id=chat_id,
            user_id=user_id,
            person_id=person_id,
            flow=flow,
            state=state,
            choices=choices,
            context=context or {},
            bound=bound,
            created_at=self._clock.now(),
            sent_at=self._clock.now() if sent else None,
        )
        # The id is made here, so the row can wait for the next flush: flushing now would
        # write the conversation twice (once before, once after it points at this prompt).
        self._session.add(prompt)
        return prompt

    async def get(self, prompt_id: str) -> Prompt | None:
        if "\x00" in prompt_id:  # forged button data: no prompt has one, PostgreSQL refuses it
            return None
        return await self._session.get(Prompt, prompt_id)

    async def by_message(self, platform: str, chat_id: str, message_id: str) -> Prompt | None:
        result = await self._session.execute(
            select(Prompt).where(
                Prompt.platform == platform,
                Prompt.chat_id == chat_id,
                Prompt.platform_message_id == message_id,
            )
        )
        return result.scalars().first()

    async def on_its_way(self, platform: str, chat_id: str, *, since: datetime) -> bool:
        """Whether a question made since `since` for this chat still waits to be tied to
        the message that carries it (in the outbox, or sent and its outcome not written)."""
        result = await self._session.execute(
            select(Prompt.id)
            .where(
                Prompt.platform == platform,
                Prompt.chat_id == chat_id,
                Prompt.platform_message_id.is_(None),
                Prompt.sent_at.is_(None),
                Prompt.created_at >= since,
            )
            .limit(1)
        )
        return result.first() is not None

    async def latest_detached(
        self, platform: str, chat_id: str, user_id: str, *, since: datetime
    ) -> Prompt | None:
        """The newest delivered question outside a conversation (an invitation, a menu)."""
        result = await self._session.execute(
            select(Prompt)
            .where(
                Prompt.platform == platform,
                Prompt.chat_id == chat_id,
                Prompt.user_id == user_id,
                Prompt.bound.is_(False),
                Prompt.sent_at.is_not(None),
                Prompt.created_at >= since,
            )
            .order_by(Prompt.created_at.desc(), Prompt.id.desc())
            .limit(1)
        )
        return result.scalar_one_or_none()

    async def set_message_id(self, prompt_id: str, message_id: str) -> None:
        await self.set_message_ids({prompt_id: message_id})

    async def set_message_ids(
        self, message_ids: Mapping[str, str] | Sequence[tuple[str, str]]
    ) -> None:
        """Record the platform message that carried each prompt (and that it was sent)."""
        message_ids = dict(message_ids)
        if not message_ids:
            return
        table = Base.metadata.tables[Prompt.__tablename__]
        now = self._clock.now()
        await self._session.execute(
            update(table)
            .where(table.c.id == bindparam("prompt_key"))
            .values(
                platform_message_id=bindparam("message_key"),
                sent_at=func.coalesce(table.c.sent_at, bindparam("sent_key", type_=UTCDateTime())),
            ),
            [{"prompt_key": p, "message_key": m, "sent_key": now} for p, m in message_ids.items()],
        )

    async def remove_older_than(self, moment: datetime) -> int:
        result = await self._session.execute(delete(Prompt).where(Prompt.created_at < moment))
        return int(getattr(result, "rowcount", 0) or 0)

    async def records(self, prompt_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Stored questions as plain rows, by id (to copy many at once)."""
        if not prompt_ids:
            return {}
        table = Base.metadata.tables[Prompt.__tablename__]
        result = await self._session.execute(select(table).where(table.c.id.in_(prompt_ids)))
        return {row["id"]: dict(row) for row in result.mappings()}

    async def add_many(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Store many prompts at once (every column given), for messages in the outbox."""
        if not rows:
            return
        table = Base.metadata.tables[Prompt.__tablename__]
        for start in range(0, len(rows), 500):
            chunk = [dict(row) for row in rows[start : start + 500]]
            await self._session.execute(table.insert(), chunk)

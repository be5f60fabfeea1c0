"""Broadcasts as a whole: who hears of their progress, and when they are finished."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.clock import Clock
from storage.models import Batch


class ChatLike(Protocol):
    """Anything with the three fields of a chat reference (`ChatRef` is one)."""

    @property
    def platform(self) -> str: ...

    @property
    def chat_id(self) -> str: ...

    @property
    def user_id(self) -> str: ...


class BatchRepository:
    """Broadcasts as a whole, for the progress message a coordinator sees."""

    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    async def create(
        self,
        batch_id: str,
        *,
        kind: str,
        reporter: ChatLike | None = None,
        reporter_person_id: int | None = None,
        total: int = 0,
    ) -> Batch:
        """Record a broadcast; enqueue its rows with `batch=batch_id` in the same commit."""
        batch = Batch(
            id=batch_id,
            kind=kind,
            reporter_platform=reporter.platform if reporter else None,
            reporter_chat_id=reporter.chat_id if reporter else None,
            reporter_user_id=reporter.user_id if reporter else None,
            reporter_person_id=reporter_person_id,
            total=total,
            created_at=self._clock.now(),
        )
        self._session.add(batch)
        await self._session.flush()
        return batch

    async def get(self, batch_id: str) -> Batch | None:
        return await self._session.get(Batch, batch_id)

    async def unfinished(self, reporter_platform: str) -> Sequence[Batch]:
        result = await self._session.execute(
            select(Batch)
            .where(Batch.finished_at.is_(None), Batch.reporter_platform == reporter_platform)
            .order_by(Batch.created_at)
        )
        return result.scalars().all()

    async def claim_progress_message(self, batch_id: str, marker: str) -> bool:
        """Take the right to send the progress message (so two processes send one)."""
        result = await self._session.execute(
            update(Batch)
            .where(Batch.id == batch_id, Batch.progress_message_id.is_(None))
            .values(progress_message_id=marker)
        )
        return bool(getattr(result, "rowcount", 0))

    async def set_progress_message(self, batch_id: str, message_id: str | None) -> None:
        await self._session.execute(
            update(Batch).where(Batch.id == batch_id).values(progress_message_id=message_id)
        )

    async def finish(self, batch_id: str) -> bool:
        result = await self._session.execute(
            update(Batch)
            .where(Batch.id == batch_id, Batch.finished_at.is_(None))
            .values(finished_at=self._clock.now())
        )
        return bool(getattr(result, "rowcount", 0))

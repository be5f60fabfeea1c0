"""A broadcast's rows in bulk: its prompts, outbox rows and invitations, stored or called off."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.clock import Clock
from storage.models import Invitation, OutboxMessage, OutboxStatus, Prompt, Rsvp
from storage.repositories.dialect_insert import insert_for

BULK_CHUNK = 500


class BroadcastRepository:
    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    async def _insert_ignoring_duplicates(
        self, model: type[Any], rows: Sequence[dict[str, Any]], conflict: Sequence[str]
    ) -> None:
        if not rows:
            return
        statement = insert_for(self._session)(model).on_conflict_do_nothing(index_elements=conflict)
        for start in range(0, len(rows), BULK_CHUNK):
            # executemany with one compiled statement: fast, and the same on both backends
            await self._session.execute(statement, list(rows[start : start + BULK_CHUNK]))

    async def _outbox_count(self, batch: str) -> int:
        result = await self._session.execute(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.batch == batch)
        )
        return int(result.scalar_one())

    async def broadcast(
        self,
        *,
        prompts: Sequence[dict[str, Any]],
        outbox: Sequence[dict[str, Any]],
        invitations: Sequence[dict[str, Any]],
    ) -> int:
        """Store many invitations at once: their prompts, outbox rows and who was invited.

        Idempotent on the outbox dedupe keys and on (event, person); returns how many
        outbox rows were new. A few statements per 500 people instead of several per person,
        so a broadcast to thousands holds the write lock for well under a second or two.
        """
        batches = {str(row["batch"]) for row in outbox}
        before = sum([await self._outbox_count(batch) for batch in batches])
        await self._insert_ignoring_duplicates(Prompt, prompts, ["id"])
        await self._insert_ignoring_duplicates(OutboxMessage, outbox, ["dedupe_key"])
        await self._insert_ignoring_duplicates(Invitation, invitations, ["event_id", "person_id"])
        after = sum([await self._outbox_count(batch) for batch in batches])
        return after - before

    async def cancel_pending_outbox(self, batch_prefixes: Sequence[str]) -> int:
        total = 0
        for prefix in batch_prefixes:
            result = await self._session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.batch == prefix,
                    OutboxMessage.status == OutboxStatus.PENDING,
                )
                .values(status=OutboxStatus.CANCELLED)
            )
            total += int(getattr(result, "rowcount", 0) or 0)
        return total

    async def delivered_unanswered(self, batch: str, event_id: int) -> Sequence[OutboxMessage]:
        """Messages of `batch` that arrived (with the platform's id) at people who have not
        answered `event_id`: the invitations a change can still be written into."""
        answered = select(Rsvp.person_id).where(
            Rsvp.event_id == event_id, Rsvp.person_id.is_not(None)
        )
        result = await self._session.execute(
            select(OutboxMessage).where(
                OutboxMessage.batch == batch,
                OutboxMessage.status == OutboxStatus.SENT,
                OutboxMessage.platform_message_id.is_not(None),
                OutboxMessage.person_id.is_not(None),
                OutboxMessage.person_id.not_in(answered),
            )
        )
        return result.scalars().all()

    async def pending_outbox(self, batch: str) -> Sequence[OutboxMessage]:
        result = await self._session.execute(
            select(OutboxMessage).where(
                OutboxMessage.batch == batch, OutboxMessage.status == OutboxStatus.PENDING
            )
        )
        return result.scalars().all()

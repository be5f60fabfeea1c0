"""Broadcasts as a whole: who hears of their progress, when they are finished, and who in
them may not have got the message.

A row in doubt (`unknown`) that was sent again is not marked on the row itself: its copy
has the dedupe key `sent_again_key(row id)`, so the unique key both records it and keeps
a second tap, or a second process, from adding another copy. The copies of broadcast `b`
form broadcast `again_batch(b)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, String, cast, exists, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.clock import Clock
from storage.models import Batch, OutboxMessage, OutboxStatus, Person
from storage.repositories.dialect_insert import insert_for

SENT_AGAIN = "again:"
AGAIN = ":again"


def sent_again_key(row_id: int) -> str:
    """The dedupe key of the copy of outbox row `row_id` that was sent again."""
    return f"{SENT_AGAIN}{row_id}"


def again_batch(batch_id: str) -> str:
    """The broadcast that copies sent again go in; copies of copies join the same one."""
    return batch_id if batch_id.endswith(AGAIN) else batch_id + AGAIN


@dataclass(frozen=True, slots=True)
class InDoubt:
    """An outbox row that may not have arrived, with what it takes to copy it: the row's
    columns and its person's quiet hours (read as plain values: there may be thousands)."""

    id: int
    person_id: int
    platform: str
    chat_id: str
    user_id: str
    kind: str
    payload: dict[str, Any]
    expires_at: datetime | None
    quiet_start_minute: int | None
    quiet_end_minute: int | None


@dataclass(frozen=True, slots=True)
class Recipients:
    """Some of a broadcast's recipients: the first few names (None for a person who gave
    none), oldest row first, and how many there are in all."""

    names: tuple[str | None, ...] = ()
    total: int = 0


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

    # --- who may not have got it, and sending it to them again --------------------------

    def _sent_again(self) -> ColumnElement[bool]:
        again = aliased(OutboxMessage)
        # (|| rather than concat(): SQLite has no concat() before 3.44)
        key = literal(SENT_AGAIN, String).concat(cast(OutboxMessage.id, String))
        return exists().where(again.dedupe_key == key)

    async def recipients(
        self, batch_id: str, status: str, *, limit: int, not_sent_again: bool = False
    ) -> Recipients:
        """The people whose row in the broadcast has `status` (`not_sent_again`: leaving out
        the rows that were sent again)."""
        o = OutboxMessage
        conditions: list[ColumnElement[bool]] = [o.batch == batch_id, o.status == status]
        if not_sent_again:
            conditions.append(~self._sent_again())
        total = await self._session.execute(select(func.count(o.id)).where(*conditions))
        count = int(total.scalar_one())
        if not count:
            return Recipients()
        names = await self._session.execute(
            select(Person.display_name)
            .join(o, o.person_id == Person.id)
            .where(*conditions)
            .order_by(o.id)
            .limit(limit)
        )
        return Recipients(tuple(names.scalars().all()), count)

    async def in_doubt(self, batch_id: str) -> list[InDoubt]:
        """The broadcast's rows that may not have arrived and were not sent again yet (a
        forgotten person's rows are gone with them), oldest first."""
        o = OutboxMessage
        result = await self._session.execute(
            select(
                o.id,
                o.person_id,
                o.platform,
                o.chat_id,
                o.user_id,
                o.kind,
                o.payload,
                o.expires_at,
                Person.quiet_start_minute,
                Person.quiet_end_minute,
            )
            .join(Person, Person.id == o.person_id)
            .where(o.batch == batch_id, o.status == OutboxStatus.UNKNOWN, ~self._sent_again())
            .order_by(o.id)
        )
        return [InDoubt(*row) for row in result.all()]

    async def sent_again_count(self, batch_id: str) -> int:
        """How many of the broadcast's rows in doubt were sent again already."""
        o = OutboxMessage
        result = await self._session.execute(
            select(func.count(o.id)).where(
                o.batch == batch_id, o.status == OutboxStatus.UNKNOWN, self._sent_again()
            )
        )
        return int(result.scalar_one())

    async def follow_up(self, original: Batch, batch_id: str, added: int) -> None:
        """Count `added` more rows in broadcast `batch_id`, reported to whoever hears of
        `original`: made on first use, opened again if it had finished (its progress
        message then follows the new rows)."""
        values: dict[str, Any] = {
            "id": batch_id,
            "kind": original.kind,
            "reporter_platform": original.reporter_platform,
            "reporter_chat_id": original.reporter_chat_id,
            "reporter_user_id": original.reporter_user_id,
            "reporter_person_id": original.reporter_person_id,
            "total": 0,
            "created_at": self._clock.now(),
        }
        await self._session.execute(
            insert_for(self._session)(Batch)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["id"])
        )
        await self._session.execute(
            update(Batch)
            .where(Batch.id == batch_id)
            .values(total=Batch.total + added, finished_at=None)
        )

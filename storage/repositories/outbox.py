"""The outbox: messages waiting for delivery, and what the delivery worker asks of it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.clock import Clock
from storage.models import Base, Identity, OutboxMessage, OutboxStatus, Person, PersonStatus
from storage.repositories.dialect_insert import insert_for


@dataclass(frozen=True, slots=True)
class DueMessage:
    id: int
    chat_id: str
    user_id: str
    person_id: int
    expires_at: datetime | None
    person_stopped: bool
    blocked: bool


@dataclass(frozen=True, slots=True)
class ClaimedMessage:
    id: int
    chat_id: str
    user_id: str
    person_id: int
    payload: dict[str, Any]
    attempts: int
    deferrals: int
    batch: str | None


class OutboxRepository:
    """Messages waiting for delivery. Enqueue is idempotent on the dedupe key."""

    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    async def enqueue(
        self,
        *,
        dedupe_key: str,
        person_id: int,
        platform: str,
        chat_id: str,
        user_id: str,
        kind: str,
        payload: dict[str, Any],
        batch: str | None = None,
        not_before: datetime | None = None,
        expires_at: datetime | None = None,
    ) -> bool:
        """Add a message unless one with the same key exists. Returns whether it was added."""
        now = self._clock.now()
        values = {
            "dedupe_key": dedupe_key,
            "person_id": person_id,
            "platform": platform,
            "chat_id": chat_id,
            "user_id": user_id,
            "kind": kind,
            "batch": batch,
            "payload": payload,
            "status": OutboxStatus.PENDING,
            "attempts": 0,
            "next_attempt_at": not_before or now,
            "expires_at": expires_at,
            "created_at": now,
        }
        statement = (
            insert_for(self._session)(OutboxMessage)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
        )
        result = await self._session.execute(statement)
        return bool(getattr(result, "rowcount", 0))

    async def enqueue_many(self, messages: Sequence[dict[str, Any]]) -> None:
        """`enqueue` for many messages in one statement (a broadcast to thousands).

        Each dict has `enqueue`'s keyword arguments; keys already present are skipped.
        """
        if not messages:
            return
        now = self._clock.now()
        rows = [
            {
                "dedupe_key": m["dedupe_key"],
                "person_id": m["person_id"],
                "platform": m["platform"],
                "chat_id": m["chat_id"],
                "user_id": m["user_id"],
                "kind": m["kind"],
                "batch": m.get("batch"),
                "payload": m["payload"],
                "status": OutboxStatus.PENDING.value,
                "attempts": 0,
                "deferrals": 0,
                "next_attempt_at": m.get("not_before") or now,
                "expires_at": m.get("expires_at"),
                "created_at": now,
            }
            for m in messages
        ]
        table = Base.metadata.tables[OutboxMessage.__tablename__]
        statement = insert_for(self._session)(table).on_conflict_do_nothing(
            index_elements=["dedupe_key"]
        )
        await self._session.execute(statement, rows)

    async def get(self, message_id: int) -> OutboxMessage | None:
        return await self._session.get(OutboxMessage, message_id)

    async def by_key(self, dedupe_key: str) -> OutboxMessage | None:
        result = await self._session.execute(
            select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key)
        )
        return result.scalar_one_or_none()

    async def counts(self, batch: str) -> dict[str, int]:
        result = await self._session.execute(
            select(OutboxMessage.status, func.count(OutboxMessage.id))
            .where(OutboxMessage.batch == batch)
            .group_by(OutboxMessage.status)
        )
        return {str(status): int(count) for status, count in result.all()}

    # --- for the delivery worker -------------------------------------------------------

    async def due(self, platform: str, now: datetime, limit: int) -> list[DueMessage]:
        """Pending messages for a platform whose time has come, oldest first.

        Only what the worker needs to decide (not the payload), with whether the person
        has stopped or blocked the bot, so those rows can be closed without sending.
        """
        o = OutboxMessage
        result = await self._session.execute(
            select(
                o.id,
                o.chat_id,
                o.user_id,
                o.person_id,
                o.expires_at,
                Person.status,
                Identity.blocked_at,
            )
            .join(Person, Person.id == o.person_id)
            .outerjoin(
                Identity, and_(Identity.platform == o.platform, Identity.user_id == o.user_id)
            )
            .where(
                o.status == OutboxStatus.PENDING, o.platform == platform, o.next_attempt_at <= now
            )
            .order_by(o.next_attempt_at, o.id)
            .limit(limit)
        )
        return [
            DueMessage(
                id=row[0],
                chat_id=row[1],
                user_id=row[2],
                person_id=row[3],
                expires_at=row[4],
                person_stopped=row[5] == PersonStatus.STOPPED,
                blocked=row[6] is not None,
            )
            for row in result.all()
        ]

    async def next_due_at(self, platform: str) -> datetime | None:
        result = await self._session.execute(
            select(func.min(OutboxMessage.next_attempt_at)).where(
                OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.platform == platform
            )
        )
        # min() keeps the column's type, so this is an aware UTC datetime (or None).
        value: datetime | None = result.scalar_one_or_none()
        return value

    async def claim(self, ids: Sequence[int]) -> list[ClaimedMessage]:
        """Mark pending messages as being sent; returns those this caller got.

        The update is conditional on the row still being pending, so when two workers
        reach for the same row only one of them gets it back (row locks on PostgreSQL,
        the write lock on SQLite). Commit before sending.
        """
        if not ids:
            return []
        o = OutboxMessage
        result = await self._session.execute(
            update(o)
            .where(o.id.in_(ids), o.status == OutboxStatus.PENDING)
            .values(status=OutboxStatus.SENDING, attempts=o.attempts + 1)
            .returning(
                o.id, o.chat_id, o.user_id, o.person_id, o.payload, o.attempts, o.deferrals, o.batch
            )
        )
        claimed = {
            row[0]: ClaimedMessage(
                id=row[0],
                chat_id=row[1],
                user_id=row[2],
                person_id=row[3],
                payload=row[4],
                attempts=row[5],
                deferrals=row[6],
                batch=row[7],
            )
            for row in result.all()
        }
        return [claimed[i] for i in ids if i in claimed]

    async def close_pending(self, closes: Iterable[tuple[int, str, str | None]]) -> int:
        """Give pending messages a final status without sending (expired, blocked, ...)."""
        changed = 0
        for message_id, status, error in closes:
            result = await self._session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.PENDING)
                .values(status=status, last_error=error)
            )
            changed += int(getattr(result, "rowcount", 0) or 0)
        return changed

    async def postpone_pending(self, postpones: Iterable[tuple[int, datetime]]) -> None:
        """Move pending messages to a later time (their chat is at its rate limit)."""
        for message_id, moment in postpones:
            await self._session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.PENDING)
                .values(next_attempt_at=moment)
            )

    async def mark_sent(
        self, message_id: int, *, sent_at: datetime, platform_message_id: str | None
    ) -> bool:
        # `unknown` too: another process may have called this row in doubt meanwhile, but
        # we know better now.
        result = await self._session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message_id,
                OutboxMessage.status.in_((OutboxStatus.SENDING, OutboxStatus.UNKNOWN)),
            )
            .values(
                status=OutboxStatus.SENT,
                sent_at=sent_at,
                platform_message_id=platform_message_id,
                last_error=None,
            )
        )
        return bool(getattr(result, "rowcount", 0))

    async def mark_many_sent(
        self, sent: Sequence[tuple[int, str | None]], sent_at: datetime
    ) -> None:
        """`mark_sent` for many messages in one statement: (outbox id, platform message id)."""
        if not sent:
            return
        table = Base.metadata.tables[OutboxMessage.__tablename__]
        statement = (
            update(table)
            .where(
                table.c.id == bindparam("outbox_id"),
                # (an IN list cannot be used with many parameter sets)
                (table.c.status == OutboxStatus.SENDING.value)
                | (table.c.status == OutboxStatus.UNKNOWN.value),
            )
            .values(
                status=OutboxStatus.SENT.value,
                sent_at=sent_at,
                platform_message_id=bindparam("message_id"),
                last_error=None,
            )
        )
        await self._session.execute(statement, [{"outbox_id": i, "message_id": m} for i, m in sent])

    async def mark_final(self, message_id: int, status: str, error: str | None) -> bool:
        """Close a message that was being sent: failed, blocked or unknown."""
        result = await self._session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.SENDING)
            .values(status=status, last_error=error)
        )
        return bool(getattr(result, "rowcount", 0))

    async def retry_at(
        self,
        message_id: int,
        moment: datetime,
        error: str,
        *,
        attempts: int | None = None,
        deferrals: int | None = None,
    ) -> bool:
        """Put a message that was being sent back in the queue for a later try."""
        values: dict[str, Any] = {
            "status": OutboxStatus.PENDING,
            "next_attempt_at": moment,
            "last_error": error,
        }
        if attempts is not None:
            values["attempts"] = attempts
        if deferrals is not None:
            values["deferrals"] = deferrals
        result = await self._session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.SENDING)
            .values(**values)
        )
        return bool(getattr(result, "rowcount", 0))

    async def recover_interrupted(self, platform: str, error: str) -> int:
        """Messages left `sending` by a process that stopped: they may or may not have
        arrived, so they become `unknown` (counted and reported, never sent again)."""
        result = await self._session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.platform == platform, OutboxMessage.status == OutboxStatus.SENDING)
            .values(status=OutboxStatus.UNKNOWN, last_error=error)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def batches_numbered(self, prefix: str) -> int:
        """How many batches of messages have a name that starts with `prefix`."""
        counted = await self._session.execute(
            select(func.count(func.distinct(OutboxMessage.batch))).where(
                OutboxMessage.batch.like(prefix + "%")
            )
        )
        return int(counted.scalar_one())

    async def enqueue_new(self, rows: Sequence[dict[str, Any]]) -> set[str]:
        """Add whole rows (every column but the id), skipping keys already present.

        Returns the keys that were added: a caller that races another process for the same
        keys learns which rows are its own (conversations/events/rules/resending.py).
        """
        if not rows:
            return set()
        table = Base.metadata.tables[OutboxMessage.__tablename__]
        statement = (
            insert_for(self._session)(table)
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(table.c.dedupe_key)
        )
        # many rows with RETURNING: SQLAlchemy's "insertmanyvalues", one compiled statement
        result = await self._session.execute(statement, list(rows))
        return {str(key) for key in result.scalars()}

"""The outbox: messages waiting for delivery, and what the delivery worker asks of it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.clock import Clock
from storage.models import (
    Base,
    OutboxMessage,
    OutboxStatus,
    Priority,
)
from storage.repositories.dialect_insert import insert_for

# A row a worker holds: claimed, and perhaps on the wire. Its outcome may close it from
# either (a row that could not even be read is failed before its request).
ON_THE_WAY = (OutboxStatus.SENDING, OutboxStatus.ATTEMPTING)


@dataclass(frozen=True, slots=True)
class DueMessage:
    id: int
    chat_id: str
    user_id: str
    person_id: int | None
    expires_at: datetime | None
    person_stopped: bool
    blocked: bool
    priority: int = Priority.NOTICE


@dataclass(frozen=True, slots=True)
class ClaimedMessage:
    """A row on its way out: claimed by a worker, or a reply about to be sent."""

    id: int
    chat_id: str
    user_id: str
    person_id: int | None
    payload: dict[str, Any]
    attempts: int
    deferrals: int
    batch: str | None
    priority: int = Priority.NOTICE
    # Sent with the row's requests where the platform deduplicates by it (Matrix).
    transaction_id: str | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """A message a step sends back (to the chat it came from, or the person's other chat)."""

    dedupe_key: str
    person_id: int | None
    platform: str
    chat_id: str
    user_id: str
    payload: dict[str, Any]
    kind: str = "reply"
    # Sent at once by the step's own platform; a reply on another platform (the person's
    # other app) is left to that platform's worker, due now.
    handed_over: bool = False


@dataclass(frozen=True, slots=True)
class Recovered:
    """What a stopped process left on the way: rows not yet on the wire go back in the
    queue; rows whose request was on the wire may have arrived."""

    requeued: int
    unsure: int


class OutboxRepository:
    """Messages waiting for delivery. Enqueue is idempotent on the dedupe key."""

    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    async def enqueue(
        self,
        *,
        dedupe_key: str,
        person_id: int | None,
        platform: str,
        chat_id: str,
        user_id: str,
        kind: str,
        payload: dict[str, Any],
        batch: str | None = None,
        not_before: datetime | None = None,
        expires_at: datetime | None = None,
        priority: int = Priority.NOTICE,
    ) -> bool:
        """Add a message unless one with the same key exists. Returns whether it was added."""
        now = self._clock.now()
        values = {
            "priority": priority,
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
            "queued_at": not_before or now,
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
                "queued_at": m.get("not_before") or now,
                "expires_at": m.get("expires_at"),
                "created_at": now,
                "priority": m.get("priority", Priority.NOTICE),
            }
            for m in messages
        ]
        table = Base.metadata.tables[OutboxMessage.__tablename__]
        statement = insert_for(self._session)(table).on_conflict_do_nothing(
            index_elements=["dedupe_key"]
        )
        await self._session.execute(statement, rows)

    async def add_replies(
        self, replies: Sequence[Reply], *, expires_at: datetime, resend_after: datetime
    ) -> list[ClaimedMessage]:
        """A step's replies, in order, written with the step so a crash after its commit
        still answers. Returns those the caller sends at once (on the step's platform); the
        worker takes over one of them only once `resend_after` has passed (a retry, or a
        restart after a crash), and sends the ones handed over to another platform now."""
        if not replies:
            return []
        now = self._clock.now()
        table = Base.metadata.tables[OutboxMessage.__tablename__]
        rows = [
            {
                "dedupe_key": reply.dedupe_key,
                "person_id": reply.person_id,
                "platform": reply.platform,
                "chat_id": reply.chat_id,
                "user_id": reply.user_id,
                "kind": reply.kind,
                "batch": None,
                "payload": reply.payload,
                "status": OutboxStatus.PENDING.value,
                "attempts": 0,
                "deferrals": 0,
                "priority": int(Priority.REPLY),
                "next_attempt_at": now if reply.handed_over else resend_after,
                "queued_at": now if reply.handed_over else resend_after,
                "expires_at": expires_at,
                "created_at": now,
            }
            for reply in replies
        ]
        result = await self._session.execute(
            insert_for(self._session)(table).returning(
                table.c.id, table.c.transaction_id, sort_by_parameter_order=True
            ),
            rows,
        )
        inserted = [(row[0], row[1]) for row in result.all()]
        return [
            ClaimedMessage(
                id=message_id,
                chat_id=reply.chat_id,
                user_id=reply.user_id,
                person_id=reply.person_id,
                payload=reply.payload,
                attempts=0,
                deferrals=0,
                batch=None,
                priority=Priority.REPLY,
                transaction_id=transaction_id,
            )
            for (message_id, transaction_id), reply in zip(inserted, replies, strict=True)
            if not reply.handed_over
        ]

    async def get(self, message_id: int) -> OutboxMessage | None:
        return await self._session.get(OutboxMessage, message_id)

    async def set_payloads(self, payloads: Sequence[tuple[int, dict[str, Any]]]) -> None:
        """What rows send, drawn again just before they go (invitations' current cards)."""
        if not payloads:
            return
        await self._session.execute(  # by primary key, one statement for all
            update(OutboxMessage),
            [{"id": row_id, "payload": payload} for row_id, payload in payloads],
        )

    async def send_instead(self, row_id: int, key: str) -> bool:
        """The message row `row_id` carries under `key` for when it cannot go as it is (an
        edit the platform refused), queued to the same chat once, as a row of its own."""
        row = await self._session.get(OutboxMessage, row_id)
        if row is None or not isinstance(row.payload.get(key), dict):
            return False
        return await self.enqueue(
            dedupe_key=f"{row.dedupe_key}:{key}",
            person_id=row.person_id,
            platform=row.platform,
            chat_id=row.chat_id,
            user_id=row.user_id,
            kind=row.kind,
            payload=row.payload[key],
            batch=row.batch,
            expires_at=row.expires_at,
        )

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

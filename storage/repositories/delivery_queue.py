"""What the delivery workers ask of the outbox: the rows due, claiming them, recording that a
row goes on the wire, and each outcome; and what a stopped process left on the way."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.clock import Clock
from storage.models import (
    Base,
    Identity,
    OutboxMessage,
    OutboxStatus,
    Person,
    PersonStatus,
    Priority,
)
from storage.repositories.outbox import ON_THE_WAY, ClaimedMessage, DueMessage, Recovered


class DeliveryQueue:
    """The outbox as a worker sees it. Every change is conditional on the row's status, so
    two workers, even in two processes, never take or close the same row twice."""

    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._session = session
        self._clock = clock

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
                o.priority,
            )
            .outerjoin(Person, Person.id == o.person_id)
            .outerjoin(
                Identity, and_(Identity.platform == o.platform, Identity.user_id == o.user_id)
            )
            .where(
                o.status == OutboxStatus.PENDING, o.platform == platform, o.next_attempt_at <= now
            )
            .order_by(o.priority, o.next_attempt_at, o.id)
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
                priority=row[7],
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
                o.id,
                o.chat_id,
                o.user_id,
                o.person_id,
                o.payload,
                o.attempts,
                o.deferrals,
                o.batch,
                o.priority,
                o.transaction_id,
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
                priority=row[8],
                transaction_id=row[9],
            )
            for row in result.all()
        }
        return [claimed[i] for i in ids if i in claimed]

    async def attempt(self, claimed: Sequence[int], replies: Sequence[int]) -> set[int]:
        """Mark rows as on the wire, right before their requests: `claimed` rows this
        worker holds (`sending`), `replies` still pending (a reply sent at once after its
        step). Returns the ids marked; a row someone else took meanwhile is not among them.
        Commit before sending: after a crash only these rows can be in doubt."""
        o = OutboxMessage
        marked: set[int] = set()
        if claimed:
            result = await self._session.execute(
                update(o)
                .where(o.id.in_(claimed), o.status == OutboxStatus.SENDING)
                .values(status=OutboxStatus.ATTEMPTING)
                .returning(o.id)
            )
            marked.update(row[0] for row in result.all())
        if replies:
            result = await self._session.execute(
                update(o)
                .where(o.id.in_(replies), o.status == OutboxStatus.PENDING)
                .values(status=OutboxStatus.ATTEMPTING, attempts=o.attempts + 1)
                .returning(o.id)
            )
            marked.update(row[0] for row in result.all())
        return marked

    async def release(self, ids: Sequence[int]) -> int:
        """Claimed rows the worker will not send after all (it is stopping): back in the
        queue, the claim not counted as a try."""
        if not ids:
            return 0
        o = OutboxMessage
        result = await self._session.execute(
            update(o)
            .where(o.id.in_(ids), o.status == OutboxStatus.SENDING)
            .values(status=OutboxStatus.PENDING, attempts=o.attempts - 1)
        )
        return int(getattr(result, "rowcount", 0) or 0)

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
                OutboxMessage.status.in_((OutboxStatus.ATTEMPTING, OutboxStatus.UNKNOWN)),
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
                (table.c.status == OutboxStatus.ATTEMPTING.value)
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
            .where(OutboxMessage.id == message_id, OutboxMessage.status.in_(ON_THE_WAY))
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
            .where(OutboxMessage.id == message_id, OutboxMessage.status.in_(ON_THE_WAY))
            .values(**values)
        )
        return bool(getattr(result, "rowcount", 0))

    async def recover_interrupted(
        self, platform: str, error: str, *, resend_attempting: bool = False
    ) -> Recovered:
        """What a process that stopped left on the way. Claimed rows never reached the wire,
        so they go back in the queue (the claim not counted as a try); rows whose request
        was on the wire may or may not have arrived, so they become `unknown` (reported,
        never sent again by themselves), unless `resend_attempting` (the platform drops a
        request sent again with the row's transaction id): then a row with one is due again.
        Replies its steps wrote but never sent are due now: the person has waited long
        enough."""
        o = OutboxMessage
        now = self._clock.now()
        requeued = await self._session.execute(
            update(o)
            .where(o.platform == platform, o.status == OutboxStatus.SENDING)
            .values(status=OutboxStatus.PENDING, attempts=o.attempts - 1)
        )
        resent = 0
        if resend_attempting:
            again = await self._session.execute(
                update(o)
                .where(
                    o.platform == platform,
                    o.status == OutboxStatus.ATTEMPTING,
                    o.transaction_id.is_not(None),
                )
                .values(status=OutboxStatus.PENDING, next_attempt_at=now)
            )
            resent = int(getattr(again, "rowcount", 0) or 0)
        await self._session.execute(
            update(o)
            .where(
                o.platform == platform,
                o.status == OutboxStatus.PENDING,
                o.priority == Priority.REPLY,
                o.next_attempt_at > now,
                o.attempts == 0,
            )
            .values(next_attempt_at=now)
        )
        unsure = await self._session.execute(
            update(o)
            .where(o.platform == platform, o.status == OutboxStatus.ATTEMPTING)
            .values(status=OutboxStatus.UNKNOWN, last_error=error)
        )
        return Recovered(
            requeued=int(getattr(requeued, "rowcount", 0) or 0) + resent,
            unsure=int(getattr(unsure, "rowcount", 0) or 0),
        )

    async def drop_attachment(self, message_id: int, payload: dict[str, Any]) -> None:
        """Keep a sent message without the bytes of its file (its name and type stay)."""
        attachment = payload.get("attachment")
        if not isinstance(attachment, dict):
            return
        kept = {key: value for key, value in attachment.items() if key != "content"}
        await self._session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .values(payload={**payload, "attachment": {**kept, "dropped": True}})
        )

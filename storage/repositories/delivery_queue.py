"""What the delivery workers ask of the outbox: the rows due, claiming them, recording that a
row goes on the wire, and each outcome; and what a stopped process left on the way."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.clock import Clock
from storage.models import (
    Base,
    Identity,
    OutboxMessage,
    OutboxStatus,
    Person,
    PersonStatus,
    Priority,
    Worker,
)
from storage.repositories.outbox import ON_THE_WAY, ClaimedMessage, DueMessage, Recovered


@dataclass(frozen=True, slots=True)
class Lease:
    """Who holds a claimed row, and until when (the owner's lease, renewed with its
    heartbeat)."""

    owner: str
    expires_at: datetime


def _held_by(lease: Lease | None) -> dict[str, Any]:
    if lease is None:
        return {"owner": None, "lease_expires_at": None}
    return {"owner": lease.owner, "lease_expires_at": lease.expires_at}


class DeliveryQueue:
    """The outbox as a worker sees it. Every change is conditional on the row's status, so
    two workers, even in two processes, never take or close the same row twice."""

    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._session = session
        self._clock = clock
        self._shared = session.get_bind().dialect.name == "postgresql"

    async def due(self, platform: str, now: datetime, limit: int) -> list[DueMessage]:
        """Pending messages for a platform whose time has come, in their place in line
        (`queued_at`: a row postponed while its chat was busy goes before what was queued
        after it).

        Only what the worker needs to decide (not the payload), with whether the person
        has stopped or blocked the bot, so those rows can be closed without sending. The
        person and identity are looked up per row found (by their keys), never joined: the
        plan is then a walk along `ix_outbox_due` up to `limit` whatever the tables' sizes
        and statistics. On PostgreSQL the rows are locked for this transaction and rows
        another worker has locked are skipped, so workers in several processes take
        different rows from the head of the queue instead of racing for the same ones.
        """
        o = OutboxMessage
        person_status = select(Person.status).where(Person.id == o.person_id).scalar_subquery()
        blocked_at = (
            select(Identity.blocked_at)
            .where(Identity.platform == o.platform, Identity.user_id == o.user_id)
            .scalar_subquery()
        )
        statement = (
            select(
                o.id,
                o.chat_id,
                o.user_id,
                o.person_id,
                o.expires_at,
                person_status,
                blocked_at,
                o.priority,
            )
            .where(
                o.status == OutboxStatus.PENDING,
                o.platform == platform,
                # never later than next_attempt_at: this bounds the walk along the index to
                # rows in line by now (rows for later are not walked), and what is in line
                # but postponed is filtered out by the next condition
                o.queued_at <= now,
                o.next_attempt_at <= now,
            )
            .order_by(o.priority, o.queued_at, o.id)
            .limit(limit)
        )
        if self._shared:
            statement = statement.with_for_update(skip_locked=True, of=o)
        result = await self._session.execute(statement)
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

    async def claim(self, ids: Sequence[int], lease: Lease | None = None) -> list[ClaimedMessage]:
        """Mark pending messages as being sent; returns those this caller got.

        The update is conditional on the row still being pending, so when two workers
        reach for the same row only one of them gets it back (row locks on PostgreSQL, rows
        another transaction has locked skipped; the write lock on SQLite). The row then
        carries `lease`: its owner and until when. Commit before sending.
        """
        if not ids:
            return []
        o = OutboxMessage
        condition = o.id.in_(ids)
        if self._shared:
            free = aliased(OutboxMessage)
            condition = o.id.in_(
                select(free.id)
                .where(free.id.in_(ids), free.status == OutboxStatus.PENDING)
                .with_for_update(skip_locked=True)
            )
        result = await self._session.execute(
            update(o)
            .where(condition, o.status == OutboxStatus.PENDING)
            .values(
                status=OutboxStatus.SENDING,
                attempts=o.attempts + 1,
                **_held_by(lease),
            )
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

    async def attempt(
        self, claimed: Sequence[int], replies: Sequence[int], lease: Lease | None = None
    ) -> set[int]:
        """Mark rows as on the wire, right before their requests: `claimed` rows this
        worker holds (`sending`, and still its own: a worker whose lease ran out may have
        lost them), `replies` still pending (a reply sent at once after its step). Returns
        the ids marked; a row someone else took meanwhile is not among them. Commit before
        sending: after a crash only these rows can be in doubt."""
        o = OutboxMessage
        marked: set[int] = set()
        if claimed:
            ours = o.owner.is_(None) if lease is None else o.owner == lease.owner
            result = await self._session.execute(
                update(o)
                .where(o.id.in_(claimed), o.status == OutboxStatus.SENDING, ours)
                .values(status=OutboxStatus.ATTEMPTING, **_held_by(lease))
                .returning(o.id)
            )
            marked.update(row[0] for row in result.all())
        if replies:
            result = await self._session.execute(
                update(o)
                .where(o.id.in_(replies), o.status == OutboxStatus.PENDING)
                .values(status=OutboxStatus.ATTEMPTING, attempts=o.attempts + 1, **_held_by(lease))
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
            .values(status=OutboxStatus.PENDING, attempts=o.attempts - 1, **_held_by(None))
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
        keep_place: bool = False,
    ) -> bool:
        """Put a message that was being sent back in the queue for a later try: at the back
        of the line, or with `keep_place` (the platform only said "slow down") where it was."""
        values: dict[str, Any] = {
            "status": OutboxStatus.PENDING,
            "next_attempt_at": moment,
            "last_error": error,
            **_held_by(None),
        }
        if not keep_place:
            values["queued_at"] = moment
        else:
            # never in line later than it is due: a reply's place was set to its handover
            # (`resend_after`, half a minute on), and would keep it waiting that long
            o = OutboxMessage
            values["queued_at"] = case((o.queued_at > moment, moment), else_=o.queued_at)
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
        self,
        platform: str,
        error: str,
        *,
        resend_attempting: bool = False,
        leased: bool = False,
    ) -> Recovered:
        """What a process that stopped left on the way. Claimed rows never reached the wire,
        so they go back in the queue (the claim not counted as a try); rows whose request
        was on the wire may or may not have arrived, so they become `unknown` (reported,
        never sent again by themselves), unless `resend_attempting` (the platform drops a
        request sent again with the row's transaction id): then a row with one is due again.
        Replies its steps wrote but never sent are due now (one process): the person has
        waited long enough.

        `leased` (several processes on one database): only rows whose lease has run out
        and whose owner is not alive any more; a live process's rows are left alone. Else
        (one process, at its start) every row on the way is a stopped process's."""
        o = OutboxMessage
        now = self._clock.now()
        abandoned = o.platform == platform
        if leased:
            live = select(Worker.id).where(Worker.lease_expires_at > now)
            abandoned = and_(
                abandoned,
                or_(o.lease_expires_at.is_(None), o.lease_expires_at <= now),
                or_(o.owner.is_(None), o.owner.not_in(live)),
            )
        requeued = await self._session.execute(
            update(o)
            .where(abandoned, o.status == OutboxStatus.SENDING)
            .values(status=OutboxStatus.PENDING, attempts=o.attempts - 1, **_held_by(None))
        )
        resent = 0
        if resend_attempting:
            again = await self._session.execute(
                update(o)
                .where(
                    abandoned,
                    o.status == OutboxStatus.ATTEMPTING,
                    o.transaction_id.is_not(None),
                )
                .values(status=OutboxStatus.PENDING, next_attempt_at=now, **_held_by(None))
            )
            resent = int(getattr(again, "rowcount", 0) or 0)
        if not leased:
            # (with several processes the step's own process may be about to send them;
            # they fall due at their `resend_after` all the same)
            await self._session.execute(
                update(o)
                .where(
                    o.platform == platform,
                    o.status == OutboxStatus.PENDING,
                    o.priority == Priority.REPLY,
                    o.next_attempt_at > now,
                    o.attempts == 0,
                )
                .values(next_attempt_at=now, queued_at=now)
            )
        unsure = await self._session.execute(
            update(o)
            .where(abandoned, o.status == OutboxStatus.ATTEMPTING)
            .values(status=OutboxStatus.UNKNOWN, last_error=error, **_held_by(None))
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

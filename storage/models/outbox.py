"""Messages waiting for delivery, and broadcasts seen as a whole."""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import FORGET_ANONYMISE, FORGET_DELETE, Base


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a worker, not yet on the wire
    ATTEMPTING = "attempting"  # its request is on the wire: after a crash it may have arrived
    SENT = "sent"
    FAILED = "failed"
    BLOCKED = "blocked"
    UNKNOWN = "unknown"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class Priority(IntEnum):
    """Which messages go first when the platform's limit is reached: a person's reply never
    waits behind a broadcast."""

    REPLY = 0
    NOTICE = 1


def _queued_when_due(context: DefaultExecutionContext) -> datetime:
    # (SQLAlchemy leaves this method unannotated)
    parameters: dict[str, Any] = context.get_current_parameters()  # type: ignore[no-untyped-call]
    queued: datetime = parameters["next_attempt_at"]
    return queued


def new_transaction_id() -> str:
    return secrets.token_hex(12)


class OutboxMessage(Base):
    """A message waiting to be delivered to one person (a reply, a broadcast, a reminder).

    `dedupe_key` is unique, so enqueuing the same reminder twice, from a job that ran twice
    or from a second process, leaves one row and one message. A reply is written in the
    same transaction as the step that produced it, so a crash after the commit still
    answers the person. `person_id` is empty only for a word in a shared room.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        # in the due rows' order to the last column, so the worker's query is a walk along
        # it up to its limit whatever the statistics say (no sort of every pending row)
        Index("ix_outbox_due", "status", "platform", "priority", "queued_at", "id"),
        Index("ix_outbox_batch", "batch"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE"), index=True, info=FORGET_DELETE
    )
    priority: Mapped[int] = mapped_column(
        Integer, default=Priority.NOTICE, server_default=str(int(Priority.NOTICE))
    )
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(32))
    batch: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Times the platform said "slow down" (retry_after): they postpone, not fail, the send.
    deferrals: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime]
    # The row's place in line among the due rows. It starts as its first `next_attempt_at`
    # and stays when the row is only postponed because its chat was busy or the platform
    # said "slow down", so it goes out the moment its chat is free instead of behind
    # everything queued since; a retry after a failure moves it to the back. Never later
    # than `next_attempt_at`, so the due query can stop its walk at "now".
    queued_at: Mapped[datetime] = mapped_column(default=_queued_when_due)
    expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    platform_message_id: Mapped[str | None] = mapped_column(String(255))
    last_error: Mapped[str | None] = mapped_column(Text)
    # Given with every request for this row where the platform deduplicates by it (Matrix's
    # transaction id): sent again after a crash, the row arrives once. Random, not the row
    # id: a new database on the same device must not meet the old one's ids.
    transaction_id: Mapped[str | None] = mapped_column(String(64), default=new_transaction_id)
    # The process holding the row (`sending` or `attempting`) and until when: its lease,
    # renewed with its heartbeat. Recovery touches a row only once both have run out.
    owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None]


class Batch(Base):
    """A broadcast's outbox rows seen as one: who is told about its progress, and where.

    The rows share `outbox.batch == id`; the reporter (a coordinator) gets one progress
    message that is edited as the rows are delivered, then a summary.
    """

    __tablename__ = "batches"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    reporter_platform: Mapped[str | None] = mapped_column(String(16))
    reporter_chat_id: Mapped[str | None] = mapped_column(String(255))
    reporter_user_id: Mapped[str | None] = mapped_column(String(255))
    reporter_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL"), index=True, info=FORGET_ANONYMISE
    )
    progress_message_id: Mapped[str | None] = mapped_column(String(255))
    total: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None] = mapped_column(index=True)

"""What a transport remembers across restarts: its values, and the updates received."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class TransportState(Base):
    """Small values a transport must keep across restarts (a sync token, say)."""

    __tablename__ = "transport_state"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]


class InboxUpdate(Base):
    """An update from a platform: kept the moment it arrives, before the platform is told it
    was received, and marked handled in the same transaction as what handling it changed.

    So an update the platform has let go of is never lost (a restart handles what is left),
    and one it delivers again is handled once. `payload` is the neutral message (see
    `conversations.core.messages.inbound_to_record`); it is cleared once handled, and handled
    rows are trimmed after a while (the ids stay long enough to spot a redelivery).
    """

    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("platform", "update_id"),
        Index("ix_inbox_waiting", "platform", "handled_at", "id"),
    )

    # the order updates arrived in, so a restart handles what is left in that order
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    update_id: Mapped[str] = mapped_column(String(128))
    chat_id: Mapped[str | None] = mapped_column(String(255))
    payload: Mapped[dict[str, Any] | None]
    received_at: Mapped[datetime]
    handled_at: Mapped[datetime | None] = mapped_column(index=True)

"""Initiatives posted by citizens: their origin, push state and moderation log."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import FORGET_ANONYMISE, Base


class EventOrigin(StrEnum):
    EVENT = "event"  # made by a coordinator with /newevent
    INITIATIVE = "initiative"  # posted by a citizen with /initiative


class PushState(StrEnum):
    AWAITING_APPROVAL = "awaiting_approval"  # a new author's first push waits for a coordinator
    DEFERRED = "deferred"  # the author's pushes for today are used; goes at `push_after`
    PUSHED = "pushed"
    NONE = "none"  # hidden, or nothing to push


class ModerationLog(Base):
    """Every moderation action on an initiative: approve, back, hide, push wider."""

    __tablename__ = "moderation_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL"), index=True, info=FORGET_ANONYMISE
    )
    action: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="SET NULL"), index=True
    )
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime]

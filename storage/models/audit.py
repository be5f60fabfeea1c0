"""The audit log: who did what when, for the admins (role grants and revocations, invite
codes, event changes and cancellations, forget requests; moderation has its own log).

Names are never copied in: the actor and the subject are references that forgetting
clears, so a forgotten person's entry says only that someone did it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import FORGET_ANONYMISE, Base


class AuditAction(StrEnum):
    ROLE_GRANTED = "role_granted"
    ROLE_REVOKED = "role_revoked"
    INVITE_CREATED = "invite_created"
    EVENT_CHANGED = "event_changed"
    EVENT_CANCELLED = "event_cancelled"
    FORGET_REQUESTED = "forget_requested"


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL"), info=FORGET_ANONYMISE
    )
    # "chat", "cli" or "settings": where it was done
    via: Mapped[str] = mapped_column(String(16), default="chat")
    subject_id: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL"), info=FORGET_ANONYMISE
    )
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"))

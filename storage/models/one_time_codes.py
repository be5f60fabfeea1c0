"""One-time codes: invite codes that give a role, link codes that join identities."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import FORGET_ANONYMISE, FORGET_DELETE, Base
from storage.models.people import Role


class InviteCode(Base):
    """A one-time code that makes whoever redeems it a coordinator."""

    __tablename__ = "invite_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16), default=Role.COORDINATOR)
    note: Mapped[str | None] = mapped_column(String(200))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL"), info=FORGET_ANONYMISE
    )
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    redeemed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL"), info=FORGET_ANONYMISE
    )
    redeemed_at: Mapped[datetime | None]


class LinkCode(Base):
    """A short one-time code that joins a person's identity on another platform to them."""

    __tablename__ = "link_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE"), index=True, info=FORGET_DELETE
    )
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class LinkAttempt(Base):
    """A wrong `/link` code someone typed (never the code itself): five an hour, then a
    pause, so codes cannot be guessed."""

    __tablename__ = "link_attempts"
    __table_args__ = (Index("ix_link_attempts_person_at", "person_id", "attempted_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE"), info=FORGET_DELETE
    )
    attempted_at: Mapped[datetime]

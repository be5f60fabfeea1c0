"""People, the platform identities they are reached by, and their consent.

People are modelled apart from their platform identities, so one person can later be
reached on Telegram and on Matrix with one set of answers and one consent.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import FORGET_DELETE, Base


class Role(StrEnum):
    CITIZEN = "citizen"
    COORDINATOR = "coordinator"
    ADMIN = "admin"


class PersonStatus(StrEnum):
    ACTIVE = "active"
    STOPPED = "stopped"


class ConsentState(StrEnum):
    UNASKED = "unasked"
    GIVEN = "given"
    REFUSED = "refused"


class Person(Base):
    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    display_name: Mapped[str | None] = mapped_column(String(80))
    language: Mapped[str] = mapped_column(String(8), default="da")
    role: Mapped[str] = mapped_column(String(16), default=Role.CITIZEN)
    status: Mapped[str] = mapped_column(String(16), default=PersonStatus.ACTIVE)
    consent: Mapped[str] = mapped_column(String(16), default=ConsentState.UNASKED)
    consent_version: Mapped[str | None] = mapped_column(String(32))
    consent_at: Mapped[datetime | None]
    quiet_start_minute: Mapped[int | None] = mapped_column(Integer)
    quiet_end_minute: Mapped[int | None] = mapped_column(Integer)
    onboarded_at: Mapped[datetime | None]
    preferred_platform: Mapped[str | None] = mapped_column(String(16))
    hear_initiatives: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # the last message from them (to the hour), and when retention asked whether to stay
    last_seen_at: Mapped[datetime | None]
    stay_asked_at: Mapped[datetime | None]

    identities: Mapped[list[Identity]] = relationship(
        back_populates="person", cascade="all, delete-orphan", passive_deletes=True
    )


class Identity(Base):
    """One way to reach a person: a user on a platform and the private chat with them."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("platform", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE"), index=True, info=FORGET_DELETE
    )
    platform: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(255))
    chat_id: Mapped[str] = mapped_column(String(255))
    blocked_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    person: Mapped[Person] = relationship(back_populates="identities")


class ConsentRecord(Base):
    """What a person agreed to or declined, with the version of the text they saw."""

    __tablename__ = "consent_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE"), index=True, info=FORGET_DELETE
    )
    version: Mapped[str] = mapped_column(String(32))
    given: Mapped[bool] = mapped_column(Boolean)
    recorded_at: Mapped[datetime]

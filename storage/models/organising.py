"""Running an event together: its co-organisers, the log of what they did, and who
checked in on the day."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import FORGET_ANONYMISE, FORGET_DELETE, Base


class CheckInVia(StrEnum):
    SELF = "self"  # "I'm here" in chat
    QR = "qr"  # the event's check-in code, scanned at the place
    ORGANISER = "organiser"  # ticked by the coordinator or a co-organiser


class EventOrganiser(Base):
    """A person who helps run an event: sees who comes, writes to them, checks them in and
    reads the report. Only the creator (and admins) edit or cancel it."""

    __tablename__ = "event_organisers"
    __table_args__ = (UniqueConstraint("event_id", "person_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE"), index=True, info=FORGET_DELETE
    )
    added_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL"), info=FORGET_ANONYMISE
    )
    created_at: Mapped[datetime]


class OrganiserAction(Base):
    """Something a co-organiser did on an event (the creator reads the log)."""

    __tablename__ = "organiser_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL"), index=True, info=FORGET_ANONYMISE
    )
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime]


class CheckIn(Base):
    """That a person was at the event. Forgetting anonymises it: how many came stays."""

    __tablename__ = "check_ins"
    __table_args__ = (UniqueConstraint("event_id", "person_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL"), index=True, info=FORGET_ANONYMISE
    )
    via: Mapped[str] = mapped_column(String(16))
    checked_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL"), info=FORGET_ANONYMISE
    )
    at: Mapped[datetime]

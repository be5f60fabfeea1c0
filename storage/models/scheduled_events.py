"""Events, their tasks, who was invited, their answers and reminders."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import FORGET_ANONYMISE, FORGET_DELETE, Base


class EventStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"
    HIDDEN = "hidden"  # an initiative a coordinator took down, with a reason


class RsvpAnswer(StrEnum):
    YES = "yes"
    MAYBE = "maybe"
    NO = "no"
    WAITLISTED = "waitlisted"


class ReminderStatus(StrEnum):
    SCHEDULED = "scheduled"
    SENT = "sent"
    MISSED = "missed"
    CANCELLED = "cancelled"


class ReminderKind(StrEnum):
    REMINDER = "reminder"  # for people who said yes
    NUDGE = "nudge"  # one gentle word for people who said maybe


class Event(Base):
    """Something to come to. Times in UTC; `revision` counts changes of time.

    `audience` says who is invited: {"kind": "everybody"}, {"kind": "topics", "topic_ids":
    [...]}, {"kind": "attendees", "event_id": n} or {"kind": "link"}. `link_code` is the
    unguessable part of the deep link `/start ev_<link_code>`.
    """

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_push_due", "push_state", "push_after"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    invitation: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime | None]
    place: Mapped[str] = mapped_column(String(200), default="")
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    capacity: Mapped[int | None] = mapped_column(Integer)
    guests_allowed: Mapped[bool] = mapped_column(Boolean, default=False)
    journey_steps: Mapped[list[Any]] = mapped_column(default=list)
    # what the invitation says about access ("step_free", "toilet", "seating"), and a
    # free note: how to get there by bus or train, what to bring
    access_features: Mapped[list[Any]] = mapped_column(default=list)
    practical_note: Mapped[str] = mapped_column(Text, default="")
    reminder_offsets: Mapped[list[Any]] = mapped_column(default=list)  # minutes before start
    audience: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default=EventStatus.DRAFT)
    link_code: Mapped[str] = mapped_column(String(24), unique=True)
    # the unguessable part of the check-in link `/start in_<code>` (its own QR code), made
    # when first asked for
    check_in_code: Mapped[str | None] = mapped_column(String(24), unique=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    series: Mapped[str | None] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL"), index=True, info=FORGET_ANONYMISE
    )
    send_at: Mapped[datetime | None]
    # a series' later meeting: when its invitations go out, to its audience as it is then
    # (people who joined a topic since are invited, those who left or were forgotten are
    # not); None once they went out, and for an event invited when published
    invite_due_at: Mapped[datetime | None] = mapped_column(index=True)
    published_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # initiatives (posted by citizens); an "idea" has no date yet, `starts_at` is then
    # how long it stays open
    origin: Mapped[str] = mapped_column(String(16), default="event", server_default="event")
    idea: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    backed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL"), info=FORGET_ANONYMISE
    )
    backing_note: Mapped[str] = mapped_column(Text, default="", server_default=text("''"))
    hidden_reason: Mapped[str | None] = mapped_column(Text)
    push_state: Mapped[str | None] = mapped_column(String(24))
    push_after: Mapped[datetime | None]
    pushed_at: Mapped[datetime | None]


class EventTask(Base):
    """A volunteer slot on an event (*medbring suppe* × 3); people take it with a `Pledge`."""

    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    hands: Mapped[int] = mapped_column(Integer, default=1)
    position: Mapped[int] = mapped_column(Integer, default=0)
    closed_at: Mapped[datetime | None]  # no more hands wanted; its pledges were let go
    # when the hands still missing were asked for again, once, a while before the event
    hands_asked_at: Mapped[datetime | None]
    # when they were asked, a while later, of the others invited (never those who said no)
    audience_asked_at: Mapped[datetime | None]


class Invitation(Base):
    """That a person was shown an event (by broadcast or by its link): who may answer it."""

    __tablename__ = "invitations"
    __table_args__ = (UniqueConstraint("event_id", "person_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE"), index=True, info=FORGET_DELETE
    )
    via: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]


class Rsvp(Base):
    """A person's answer to an event.

    Forgetting a person *anonymises* the row (person_id becomes NULL): the consent text
    promises that counts without names, like how many came, stay. An anonymous answer no
    longer holds a place or a spot on the waiting list (see `EventRepository`).
    """

    __tablename__ = "rsvps"
    __table_args__ = (UniqueConstraint("event_id", "person_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL"), index=True, info=FORGET_ANONYMISE
    )
    answer: Mapped[str] = mapped_column(String(16))
    guests: Mapped[int] = mapped_column(Integer, default=0)
    answered_at: Mapped[datetime]
    waitlisted_at: Mapped[datetime | None]
    offered_until: Mapped[datetime | None] = mapped_column(index=True)
    offers: Mapped[int] = mapped_column(Integer, default=0)


class Reminder(Base):
    """One reminder (or a maybe-nudge) for one person, due `offset_minutes` before the start."""

    __tablename__ = "reminders"
    __table_args__ = (
        UniqueConstraint("event_id", "person_id", "offset_minutes"),
        Index("ix_reminders_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE"), index=True, info=FORGET_DELETE
    )
    offset_minutes: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16), default=ReminderKind.REMINDER)
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default=ReminderStatus.SCHEDULED)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    handled_at: Mapped[datetime | None]

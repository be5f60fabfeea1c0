"""Typed SQLAlchemy models.

People are modelled apart from their platform identities, so one person can later be
reached on Telegram and on Matrix with one set of answers and one consent.

Every column that points at a person declares in its `info` what `/forget` does with the
row (`delete` it, or `anonymise` it by clearing the pointer); `/mydata` exports every such
row. `tests/test_personal_data.py` fails when a new column forgets to say.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.types import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

FORGET_DELETE = {"on_forget": "delete"}
FORGET_ANONYMISE = {"on_forget": "anonymise"}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime,
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


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


class TopicKind(StrEnum):
    INTEREST = "interest"
    AREA = "area"


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


class Topic(Base):
    """An interest or an area people can choose to hear about; the list is curated."""

    __tablename__ = "topics"
    __table_args__ = (UniqueConstraint("kind", "slug"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    slug: Mapped[str] = mapped_column(String(64))
    name_da: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(80))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]

    def name(self, language: str) -> str:
        return self.name_en if language == "en" else self.name_da


class PersonTopic(Base):
    __tablename__ = "person_topics"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True, info=FORGET_DELETE
    )
    topic_id: Mapped[int] = mapped_column(
        ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True
    )


class Conversation(Base):
    """Where a person is in a multi-step flow, keyed by (platform, chat, user)."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("platform", "chat_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str] = mapped_column(String(255))
    person_id: Mapped[int] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE"), index=True, info=FORGET_DELETE
    )
    flow: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    history: Mapped[list[Any]] = mapped_column(default=list)
    prompt_id: Mapped[str | None] = mapped_column(String(16))
    started_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class Prompt(Base):
    """A question with choices that was sent, so any later answer to it can be checked.

    A choice arriving for a prompt is only honoured if the prompt was sent to that very
    chat and user and the choice id is one of the stored choices: button data proves
    nothing on its own.
    """

    __tablename__ = "prompts"
    __table_args__ = (Index("ix_prompts_message", "platform", "chat_id", "platform_message_id"),)

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str] = mapped_column(String(255))
    person_id: Mapped[int] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE"), index=True, info=FORGET_DELETE
    )
    flow: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(64))
    choices: Mapped[list[Any]] = mapped_column(default=list)
    context: Mapped[dict[str, Any]] = mapped_column(default=dict)
    bound: Mapped[bool] = mapped_column(Boolean, default=True)
    platform_message_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]
    # When the question reached the chat; None while it waits in the outbox, so a typed
    # "1" is never taken as an answer to something the person has not seen.
    sent_at: Mapped[datetime | None]


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


class TransportState(Base):
    """Small values a transport must keep across restarts (a sync token, say)."""

    __tablename__ = "transport_state"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]


class ProcessedUpdate(Base):
    """Platform update ids already handled, so a redelivered update is handled once."""

    __tablename__ = "processed_updates"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    update_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(index=True)


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    BLOCKED = "blocked"
    UNKNOWN = "unknown"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class OutboxMessage(Base):
    """A message waiting to be delivered to one person (a broadcast, a reminder, a notice).

    `dedupe_key` is unique, so enqueuing the same reminder twice, from a job that ran twice
    or from a second process, leaves one row and one message.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "platform", "next_attempt_at"),
        Index("ix_outbox_batch", "batch"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    person_id: Mapped[int] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE"), index=True, info=FORGET_DELETE
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
    expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    platform_message_id: Mapped[str | None] = mapped_column(String(255))
    last_error: Mapped[str | None] = mapped_column(Text)


# -- events ---------------------------------------------------------------------------------


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
    reminder_offsets: Mapped[list[Any]] = mapped_column(default=list)  # minutes before start
    audience: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default=EventStatus.DRAFT)
    link_code: Mapped[str] = mapped_column(String(24), unique=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    series: Mapped[str | None] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL"), index=True, info=FORGET_ANONYMISE
    )
    send_at: Mapped[datetime | None]
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


# -- journey feedback, snap-log --------------------------------------------------------------


class Verdict(StrEnum):
    GOOD = "good"
    BAD = "bad"
    SKIP = "skip"


class IdeaKind(StrEnum):
    MATTERS = "matters"  # "Hvad er vigtigt for dig?"
    NEXT_TIME = "next"  # "Hvad skal vi gøre næste gang?"


class FeedbackRequest(Base):
    """One person's feedback on one event: asked when, did they come, how far they got.

    Forgetting the person *anonymises* the row, like an answer to the invitation: the
    report's counts (came, gave feedback) stay right. Their verdicts hang off this row
    (`request_id`) and are anonymised too; everything they *wrote or recorded* lives in
    `feedback_comments`, `feedback_ideas` and `snaps`, which are deleted.
    """

    __tablename__ = "feedback_requests"
    __table_args__ = (UniqueConstraint("event_id", "person_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL"), index=True, info=FORGET_ANONYMISE
    )
    via: Mapped[str] = mapped_column(String(16))  # "rsvp" (said yes) or "link"
    came: Mapped[bool | None] = mapped_column(Boolean)
    stage: Mapped[str] = mapped_column(String(16), default="came")
    signed: Mapped[bool] = mapped_column(Boolean, default=False)
    asked_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class FeedbackAnswer(Base):
    """Good / bad / skip for one step of the journey; answering again changes it."""

    __tablename__ = "feedback_answers"
    __table_args__ = (UniqueConstraint("request_id", "step_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("feedback_requests.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL"), index=True, info=FORGET_ANONYMISE
    )
    step_index: Mapped[int] = mapped_column(Integer)
    step: Mapped[str] = mapped_column(String(200))
    verdict: Mapped[str] = mapped_column(String(8))
    answered_at: Mapped[datetime]


class FeedbackComment(Base):
    """Why a step was good or bad, in the person's words (text, or a voice note's file).

    Deleted when the person is forgotten: words can identify someone.
    """

    __tablename__ = "feedback_comments"
    __table_args__ = (UniqueConstraint("request_id", "step_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("feedback_requests.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE"), index=True, info=FORGET_DELETE
    )
    step_index: Mapped[int] = mapped_column(Integer)
    text: Mapped[str | None] = mapped_column(Text)
    snap_id: Mapped[int | None] = mapped_column(ForeignKey("snaps.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]


class FeedbackIdea(Base):
    """What matters to the person, and what we should do next time. Deleted on forget."""

    __tablename__ = "feedback_ideas"
    __table_args__ = (UniqueConstraint("request_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("feedback_requests.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE"), index=True, info=FORGET_DELETE
    )
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class Snap(Base):
    """A photo or a voice note for an event's log (or a voice note saying why).

    `file_ref` is the platform's reference to the file (valid on `platform` only); `path`
    is set when the bytes were fetched and stored under the media folder. Deleted, file
    included, when the person is forgotten.
    """

    __tablename__ = "snaps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE"), index=True, info=FORGET_DELETE
    )
    purpose: Mapped[str] = mapped_column(String(8), default="log")  # "log" or "why"
    kind: Mapped[str] = mapped_column(String(16))
    platform: Mapped[str] = mapped_column(String(16))
    file_ref: Mapped[str] = mapped_column(String(512))
    path: Mapped[str | None] = mapped_column(String(512))
    mime_type: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int | None] = mapped_column(Integer)
    caption: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class SnapConsent(Base):
    """A person's one-time yes or no to sharing photos and voice notes with coordinators."""

    __tablename__ = "snap_consents"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True, info=FORGET_DELETE
    )
    given: Mapped[bool] = mapped_column(Boolean)
    recorded_at: Mapped[datetime]


# -- pledges, offers, initiatives ------------------------------------------------------------


class EventOrigin(StrEnum):
    EVENT = "event"  # made by a coordinator with /newevent
    INITIATIVE = "initiative"  # posted by a citizen with /initiative


class PushState(StrEnum):
    AWAITING_APPROVAL = "awaiting_approval"  # a new author's first push waits for a coordinator
    DEFERRED = "deferred"  # the author's pushes for today are used; goes at `push_after`
    PUSHED = "pushed"
    NONE = "none"  # hidden, or nothing to push


class Pledge(Base):
    """A person's *count me in* on a task.

    Forgetting a person *anonymises* the row: the history (how many hands were given) stays
    as a count, but an anonymous pledge no longer holds a hand, like an anonymous answer no
    longer holds a place; the task shows the hand as missing again.
    """

    __tablename__ = "pledges"
    __table_args__ = (Index("ix_pledges_task_active", "task_id", "withdrawn_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL"), index=True, info=FORGET_ANONYMISE
    )
    created_at: Mapped[datetime]
    withdrawn_at: Mapped[datetime | None]


class TaskAsk(Base):
    """That a person was asked for a hand on a task again, or said no to it: never twice."""

    __tablename__ = "task_asks"
    __table_args__ = (UniqueConstraint("task_id", "person_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE"), index=True, info=FORGET_DELETE
    )
    asked_at: Mapped[datetime | None]
    declined_at: Mapped[datetime | None]


class OfferKind(StrEnum):
    LIFT = "lift"
    COOKING = "cooking"
    TOOLS = "tools"
    PLACE = "place"
    COMPANY = "company"
    OTHER = "other"


class OfferStatus(StrEnum):
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"


class Offer(Base):
    """Something a person can give without a task: "I can give a lift on Tuesdays"."""

    __tablename__ = "offers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE"), index=True, info=FORGET_DELETE
    )
    text: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(16))
    area_topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id", ondelete="SET NULL"))
    when_possible: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default=OfferStatus.ACTIVE)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class OfferMessage(Base):
    """A message the bot carried about an offer, between a coordinator and the offer's person.

    Neither side ever sees the other's platform, handle or id: only the text written.
    """

    __tablename__ = "offer_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id", ondelete="CASCADE"), index=True)
    sender_id: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL"), index=True, info=FORGET_ANONYMISE
    )
    recipient_id: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL"), index=True, info=FORGET_ANONYMISE
    )
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


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

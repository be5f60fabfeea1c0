"""Journey feedback (verdicts per step, words, ideas) and the snap-log."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import FORGET_ANONYMISE, FORGET_DELETE, Base


class Verdict(StrEnum):
    GOOD = "good"
    BAD = "bad"
    SKIP = "skip"


class IdeaKind(StrEnum):
    MATTERS = "matters"  # "Hvad er vigtigt for dig?"
    NEXT_TIME = "next"  # "Hvad skal vi gøre næste gang?"


class SnapFetch(StrEnum):
    """Where a snap's file is: the platform's bytes are fetched after the snap is kept."""

    WAITING = "waiting"  # kept, its file not fetched yet (or to be tried again)
    STORED = "stored"  # the file is at `path`
    TOO_LARGE = "too_large"  # larger than the cap once fetched: no file, the person was told
    GONE = "gone"  # the platform no longer has it (or refused it for good)
    FAILED = "failed"  # unreachable every time it was tried


_HALF_WAY = text(
    "started_at IS NOT NULL AND completed_at IS NULL AND reminded_at IS NULL "
    "AND person_id IS NOT NULL"
)


class FeedbackRequest(Base):
    """One person's feedback on one event: asked when, did they come, how far they got.

    Forgetting the person *anonymises* the row, like an answer to the invitation: the
    report's counts (came, gave feedback) stay right. Their verdicts hang off this row
    (`request_id`) and are anonymised too; everything they *wrote or recorded* lives in
    `feedback_comments`, `feedback_ideas` and `snaps`, which are deleted.
    """

    __tablename__ = "feedback_requests"
    __table_args__ = (
        UniqueConstraint("event_id", "person_id"),
        # only the few started and left: when the next "would you like to finish?" is due
        Index(
            "ix_feedback_half_way",
            "updated_at",
            sqlite_where=_HALF_WAY,
            postgresql_where=_HALF_WAY,
        ),
    )

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

    `file_ref` is the platform's reference to the file (valid on `platform` only). The row
    is kept while the person is answered; the bytes are fetched afterwards, outside that
    transaction (bot/snap_files.py), so `fetch_state` says whether the file is at `path`
    yet. `path` is chosen with the row, before the file exists, so `/forget` can remove a
    file whose fetch is still on its way. Deleted, file included, when the person is
    forgotten.
    """

    __tablename__ = "snaps"
    __table_args__ = (Index("ix_snaps_fetch", "fetch_state", "fetch_after"),)

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
    fetch_state: Mapped[str] = mapped_column(
        String(16), default=SnapFetch.WAITING, server_default=SnapFetch.WAITING.value
    )
    fetch_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    fetch_after: Mapped[datetime | None]  # not before then (a retry's backoff); None: now
    fetch_error: Mapped[str | None] = mapped_column(String(200))
    fetched_at: Mapped[datetime | None]


class SnapConsent(Base):
    """A person's one-time yes or no to sharing photos and voice notes with coordinators."""

    __tablename__ = "snap_consents"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True, info=FORGET_DELETE
    )
    given: Mapped[bool] = mapped_column(Boolean)
    recorded_at: Mapped[datetime]

"""The daily trimming of old data (bot/retention.py): each query removes or blanks one kind,
older than its cut-off, and says how many rows it touched."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Text, cast, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.clock import Clock
from storage.forgetting import SCRUBBED_PAYLOAD
from storage.models import (
    CheckIn,
    ConsentState,
    Event,
    FeedbackComment,
    FeedbackIdea,
    OrganiserAction,
    OutboxMessage,
    OutboxStatus,
    Person,
    Rsvp,
    Snap,
)

# Delivered or closed for good: their text is no longer needed. `unknown` rows stay whole,
# a coordinator may still send them again.
DONE = (
    OutboxStatus.SENT,
    OutboxStatus.FAILED,
    OutboxStatus.BLOCKED,
    OutboxStatus.CANCELLED,
    OutboxStatus.EXPIRED,
)
CHUNK = 1000


def _rows(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


class RetentionRepository:
    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    async def trim_payloads(self, sent_before: datetime) -> int:
        """Blank the text of up to CHUNK finished outbox rows older than `sent_before`."""
        ids = (
            (
                await self._session.execute(
                    select(OutboxMessage.id)
                    .where(
                        OutboxMessage.status.in_(DONE),
                        func.coalesce(OutboxMessage.sent_at, OutboxMessage.created_at)
                        < sent_before,
                        cast(OutboxMessage.payload, Text).not_like('%"scrubbed"%'),
                    )
                    .limit(CHUNK)
                )
            )
            .scalars()
            .all()
        )
        if not ids:
            return 0
        await self._session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(payload=SCRUBBED_PAYLOAD)
            .execution_options(synchronize_session=False)
        )
        return len(ids)

    async def snap_paths_before(self, before: datetime) -> Sequence[str]:
        result = await self._session.execute(
            select(Snap.path).where(Snap.created_at < before, Snap.path.is_not(None))
        )
        return [path for path in result.scalars() if path]

    async def forget_feedback_words(self, before: datetime) -> dict[str, int]:
        """Written words, photos and voice notes from feedback; the good/bad verdicts stay."""
        comments = await self._session.execute(
            delete(FeedbackComment).where(FeedbackComment.created_at < before)
        )
        ideas = await self._session.execute(
            delete(FeedbackIdea).where(FeedbackIdea.created_at < before)
        )
        snaps = await self._session.execute(delete(Snap).where(Snap.created_at < before))
        return {
            "feedback_comments": _rows(comments),
            "feedback_ideas": _rows(ideas),
            "snaps": _rows(snaps),
        }

    async def inactive_to_ask(self, seen_before: datetime, limit: int = CHUNK) -> list[int]:
        """People who said yes, wrote nothing since `seen_before`, and were not asked yet."""
        last_seen = func.coalesce(Person.last_seen_at, Person.created_at)
        result = await self._session.execute(
            select(Person.id)
            .where(
                Person.consent == ConsentState.GIVEN,
                Person.stay_asked_at.is_(None),
                last_seen < seen_before,
            )
            .order_by(Person.id)
            .limit(limit)
        )
        return list(result.scalars())

    async def mark_asked_to_stay(self, person_ids: Sequence[int]) -> None:
        await self._session.execute(
            update(Person)
            .where(Person.id.in_(person_ids))
            .values(stay_asked_at=self._clock.now())
            .execution_options(synchronize_session=False)
        )

    async def silent_since_asked(self, asked_before: datetime, limit: int = CHUNK) -> list[int]:
        """People asked whether to stay before `asked_before` who have not written since
        (writing clears the question: PersonRepository.seen)."""
        result = await self._session.execute(
            select(Person.id)
            .where(Person.stay_asked_at.is_not(None), Person.stay_asked_at < asked_before)
            .order_by(Person.id)
            .limit(limit)
        )
        return list(result.scalars())

    async def anonymise_rsvps(self, events_before: datetime) -> int:
        """Answers to events that started before the cut-off lose the person's name."""
        past = select(Event.id).where(func.coalesce(Event.ends_at, Event.starts_at) < events_before)
        result = await self._session.execute(
            update(Rsvp)
            .where(Rsvp.person_id.is_not(None), Rsvp.event_id.in_(past))
            .values(person_id=None)
            .execution_options(synchronize_session=False)
        )
        return _rows(result)

    async def anonymise_check_ins(self, events_before: datetime) -> int:
        """Check-ins at events that ended before the cut-off lose who was there and who
        ticked them (how many came stays)."""
        past = select(Event.id).where(func.coalesce(Event.ends_at, Event.starts_at) < events_before)
        result = await self._session.execute(
            update(CheckIn)
            .where(
                (CheckIn.person_id.is_not(None)) | (CheckIn.checked_by_id.is_not(None)),
                CheckIn.event_id.in_(past),
            )
            .values(person_id=None, checked_by_id=None)
            .execution_options(synchronize_session=False)
        )
        return _rows(result)

    async def forget_organiser_actions(self, before: datetime) -> int:
        """The co-organisers' log, older than the cut-off."""
        result = await self._session.execute(
            delete(OrganiserAction).where(OrganiserAction.at < before)
        )
        return _rows(result)

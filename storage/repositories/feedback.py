"""Queries about journey feedback, its words and the snap-log."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.clock import Clock
from storage.models import (
    Event,
    EventStatus,
    FeedbackAnswer,
    FeedbackComment,
    FeedbackIdea,
    FeedbackRequest,
    Person,
    Reminder,
    ReminderStatus,
    Rsvp,
    RsvpAnswer,
    Snap,
    SnapConsent,
    SnapFetch,
)
from storage.repositories.audiences import is_reachable

# A request started and left: neither finished nor reminded (see `ix_feedback_half_way`).
_HALF_WAY = (
    FeedbackRequest.started_at.is_not(None),
    FeedbackRequest.completed_at.is_(None),
    FeedbackRequest.reminded_at.is_(None),
    FeedbackRequest.person_id.is_not(None),
)


class FeedbackRepository:
    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    # -- requests -----------------------------------------------------------------------

    async def request(self, event_id: int, person_id: int) -> FeedbackRequest | None:
        result = await self._session.execute(
            select(FeedbackRequest).where(
                FeedbackRequest.event_id == event_id, FeedbackRequest.person_id == person_id
            )
        )
        return result.scalar_one_or_none()

    async def ensure_request(self, event_id: int, person_id: int, via: str) -> FeedbackRequest:
        row = await self.request(event_id, person_id)
        if row is None:
            row = FeedbackRequest(
                event_id=event_id,
                person_id=person_id,
                via=via,
                stage="came",
                signed=False,
                updated_at=self._clock.now(),
            )
            self._session.add(row)
            await self._session.flush()
        return row

    async def requests(self, event_id: int) -> Sequence[FeedbackRequest]:
        result = await self._session.execute(
            select(FeedbackRequest)
            .where(FeedbackRequest.event_id == event_id)
            .order_by(FeedbackRequest.id)
        )
        return result.scalars().all()

    async def started_between(self, start: datetime, end: datetime) -> Sequence[Event]:
        """Published events starting in [start, end); callers check the end themselves."""
        result = await self._session.execute(
            select(Event)
            .where(
                Event.status == EventStatus.PUBLISHED,
                Event.starts_at >= start,
                Event.starts_at < end,
            )
            .order_by(Event.starts_at, Event.id)
        )
        return result.scalars().all()

    async def yes_without_request(self, event_id: int) -> list[int]:
        """People who said yes to the event and were not yet asked for feedback."""
        result = await self._session.execute(
            select(Rsvp.person_id).where(*self._not_yet_asked(event_id))
        )
        return [int(pid) for pid in result.scalars().all() if pid is not None]

    def _not_yet_asked(self, event_id: int) -> tuple[ColumnElement[bool], ...]:
        asked = select(FeedbackRequest.person_id).where(
            FeedbackRequest.event_id == event_id,
            FeedbackRequest.asked_at.is_not(None),
            FeedbackRequest.person_id.is_not(None),
        )
        return (
            Rsvp.event_id == event_id,
            Rsvp.answer == RsvpAnswer.YES,
            Rsvp.person_id.is_not(None),
            Rsvp.person_id.not_in(asked),
        )

    async def to_ask(self, event_id: int, limit: int) -> list[int]:
        """Up to `limit` of `yes_without_request` that can be reached, in answer order: a
        chunk that asks them all shrinks what is left by as many."""
        result = await self._session.execute(
            select(Rsvp.person_id)
            .where(*self._not_yet_asked(event_id), is_reachable(Rsvp.person_id))
            .order_by(Rsvp.id)
            .limit(limit)
        )
        return [int(pid) for pid in result.scalars().all() if pid is not None]

    async def published_since(self, since: datetime) -> Sequence[Event]:
        """Published events starting from `since`, upcoming ones too."""
        result = await self._session.execute(
            select(Event)
            .where(Event.status == EventStatus.PUBLISHED, Event.starts_at >= since)
            .order_by(Event.starts_at, Event.id)
        )
        return result.scalars().all()

    async def anyone_to_ask(self, event_id: int) -> bool:
        """Whether someone said yes to the event, can be reached and was not asked yet."""
        result = await self._session.execute(
            select(Rsvp.id)
            .where(*self._not_yet_asked(event_id), is_reachable(Rsvp.person_id))
            .limit(1)
        )
        return result.first() is not None

    async def mark_asked(self, event_id: int, person_ids: Sequence[int], via: str) -> set[int]:
        """Note that these people were asked about the event now (making their requests
        where there are none yet), in three statements however many; returns those who had
        already started answering (by the link), who need no asking."""
        if not person_ids:
            return set()
        now = self._clock.now()
        result = await self._session.execute(
            select(FeedbackRequest.person_id, FeedbackRequest.started_at).where(
                FeedbackRequest.event_id == event_id, FeedbackRequest.person_id.in_(person_ids)
            )
        )
        existing = {int(pid): started for pid, started in result.all() if pid is not None}
        if existing:
            await self._session.execute(
                update(FeedbackRequest)
                .where(
                    FeedbackRequest.event_id == event_id,
                    FeedbackRequest.person_id.in_(existing),
                )
                .values(asked_at=now)
                .execution_options(synchronize_session=False)
            )
        new = [
            {
                "event_id": event_id,
                "person_id": person_id,
                "via": via,
                "stage": "came",
                "signed": False,
                "asked_at": now,
                "updated_at": now,
            }
            for person_id in person_ids
            if person_id not in existing
        ]
        if new:
            await self._session.execute(insert(FeedbackRequest), new)
        return {person_id for person_id, started in existing.items() if started is not None}

    async def left_half_way(
        self, before: datetime, limit: int | None = None
    ) -> Sequence[FeedbackRequest]:
        """Started, not finished, untouched since `before`, and never reminded."""
        query = (
            select(FeedbackRequest)
            .where(*_HALF_WAY, FeedbackRequest.updated_at <= before)
            .order_by(FeedbackRequest.updated_at, FeedbackRequest.id)
        )
        if limit is not None:
            query = query.limit(limit)
        result = await self._session.execute(query)
        return result.scalars().all()

    async def first_left_half_way(self, after: datetime | None = None) -> datetime | None:
        """When the request left half-way longest ago (but touched after `after`) was last
        touched; `ix_feedback_half_way`."""
        query = select(func.min(FeedbackRequest.updated_at)).where(*_HALF_WAY)
        if after is not None:
            query = query.where(FeedbackRequest.updated_at > after)
        result = await self._session.execute(query)
        value: datetime | None = result.scalar_one_or_none()
        return value

    # -- answers ------------------------------------------------------------------------

    async def answers(self, request_id: int) -> dict[int, FeedbackAnswer]:
        result = await self._session.execute(
            select(FeedbackAnswer).where(FeedbackAnswer.request_id == request_id)
        )
        return {row.step_index: row for row in result.scalars().all()}

    async def set_answer(
        self, request: FeedbackRequest, step_index: int, step: str, verdict: str
    ) -> FeedbackAnswer:
        row = (await self.answers(request.id)).get(step_index)
        now = self._clock.now()
        if row is None:
            row = FeedbackAnswer(
                request_id=request.id,
                event_id=request.event_id,
                person_id=request.person_id,
                step_index=step_index,
            )
            self._session.add(row)
        row.step, row.verdict, row.answered_at = step[:200], verdict, now
        await self._session.flush()
        return row

    async def event_answers(self, event_id: int) -> Sequence[FeedbackAnswer]:
        result = await self._session.execute(
            select(FeedbackAnswer)
            .where(FeedbackAnswer.event_id == event_id)
            .order_by(FeedbackAnswer.request_id, FeedbackAnswer.step_index)
        )
        return result.scalars().all()

    # -- words ----------------------------------------------------------------------------

    async def comment(self, request_id: int, step_index: int) -> FeedbackComment | None:
        result = await self._session.execute(
            select(FeedbackComment).where(
                FeedbackComment.request_id == request_id,
                FeedbackComment.step_index == step_index,
            )
        )
        return result.scalar_one_or_none()

    async def set_comment(
        self,
        request: FeedbackRequest,
        person_id: int,
        step_index: int,
        text: str | None,
        snap_id: int | None = None,
    ) -> FeedbackComment:
        row = await self.comment(request.id, step_index)
        if row is None:
            row = FeedbackComment(
                request_id=request.id,
                event_id=request.event_id,
                person_id=person_id,
                step_index=step_index,
            )
            self._session.add(row)
        row.text, row.snap_id, row.created_at = text, snap_id, self._clock.now()
        await self._session.flush()
        return row

    async def remove_comment(self, request_id: int, step_index: int) -> None:
        await self._session.execute(
            delete(FeedbackComment).where(
                FeedbackComment.request_id == request_id,
                FeedbackComment.step_index == step_index,
            )
        )

    async def set_idea(
        self, request: FeedbackRequest, person_id: int, kind: str, text: str
    ) -> FeedbackIdea:
        result = await self._session.execute(
            select(FeedbackIdea).where(
                FeedbackIdea.request_id == request.id, FeedbackIdea.kind == kind
            )
        )
        row = result.scalar_one_or_none()
        if row is None:
            row = FeedbackIdea(
                request_id=request.id, event_id=request.event_id, person_id=person_id, kind=kind
            )
            self._session.add(row)
        row.text, row.created_at = text, self._clock.now()
        await self._session.flush()
        return row

    async def has_words(self, request_id: int) -> bool:
        comments = await self._session.execute(
            select(FeedbackComment.id).where(FeedbackComment.request_id == request_id).limit(1)
        )
        ideas = await self._session.execute(
            select(FeedbackIdea.id).where(FeedbackIdea.request_id == request_id).limit(1)
        )
        return comments.first() is not None or ideas.first() is not None

    async def event_comments(
        self, event_id: int
    ) -> Sequence[tuple[FeedbackComment, FeedbackRequest, Person | None, Snap | None]]:
        result = await self._session.execute(
            select(FeedbackComment, FeedbackRequest, Person, Snap)
            .join(FeedbackRequest, FeedbackRequest.id == FeedbackComment.request_id)
            .outerjoin(Person, Person.id == FeedbackComment.person_id)
            .outerjoin(Snap, Snap.id == FeedbackComment.snap_id)
            .where(FeedbackComment.event_id == event_id)
            .order_by(FeedbackComment.step_index, FeedbackComment.id)
        )
        return [(c, r, p, s) for c, r, p, s in result.all()]

    async def event_ideas(
        self, event_id: int
    ) -> Sequence[tuple[FeedbackIdea, FeedbackRequest, Person | None]]:
        result = await self._session.execute(
            select(FeedbackIdea, FeedbackRequest, Person)
            .join(FeedbackRequest, FeedbackRequest.id == FeedbackIdea.request_id)
            .outerjoin(Person, Person.id == FeedbackIdea.person_id)
            .where(FeedbackIdea.event_id == event_id)
            .order_by(FeedbackIdea.kind, FeedbackIdea.id)
        )
        return [(i, r, p) for i, r, p in result.all()]

    async def ideas_by_id(self, ids: Sequence[int]) -> Sequence[FeedbackIdea]:
        result = await self._session.execute(
            select(FeedbackIdea).where(FeedbackIdea.id.in_(ids)).order_by(FeedbackIdea.id)
        )
        return result.scalars().all()

    # -- the snap-log ---------------------------------------------------------------------

    async def snap_consent(self, person_id: int) -> bool | None:
        row = await self._session.get(SnapConsent, person_id)
        return None if row is None else row.given

    async def set_snap_consent(self, person_id: int, given: bool) -> None:
        row = await self._session.get(SnapConsent, person_id)
        if row is None:
            row = SnapConsent(person_id=person_id)
            self._session.add(row)
        row.given, row.recorded_at = given, self._clock.now()
        await self._session.flush()

    async def add_snap(self, snap: Snap) -> Snap:
        snap.created_at = self._clock.now()
        self._session.add(snap)
        await self._session.flush()
        return snap

    async def remove_snap(self, snap: Snap) -> None:
        """The row only; its file is the caller's to remove once this has committed."""
        await self._session.delete(snap)
        await self._session.flush()

    async def snap(self, snap_id: int) -> Snap | None:
        return await self._session.get(Snap, snap_id)

    async def event_snaps(self, event_id: int, purpose: str | None = None) -> Sequence[Snap]:
        """The event's snaps, oldest first, with or without their file yet; not those
        refused as too large once fetched (the person was told, nothing was kept)."""
        query = select(Snap).where(
            Snap.event_id == event_id, Snap.fetch_state != SnapFetch.TOO_LARGE
        )
        if purpose is not None:
            query = query.where(Snap.purpose == purpose)
        result = await self._session.execute(query.order_by(Snap.id))
        return result.scalars().all()

    async def has_snaps(self, person_id: int) -> bool:
        result = await self._session.execute(
            select(Snap.id).where(Snap.person_id == person_id).limit(1)
        )
        return result.first() is not None

    async def snap_paths_of(self, person_id: int) -> list[str]:
        """Where a person's snap files are or will be, to remove from disk when they are
        forgotten. The rows stay locked until the commit (on PostgreSQL; SQLite has one
        writer anyway), so a fetch finishing meanwhile finds its snap gone, not stored."""
        result = await self._session.execute(
            select(Snap.path)
            .where(Snap.person_id == person_id, Snap.path.is_not(None))
            .with_for_update()
        )
        return [str(path) for path in result.scalars().all() if path]

    # -- fetching snap files (after the snap was kept; bot/snap_files.py) -----------------

    async def snaps_to_fetch(
        self, platforms: Collection[str], now: datetime, limit: int, skip: Collection[int] = ()
    ) -> Sequence[Snap]:
        """Snaps of `platforms` waiting for their file and due now, oldest first; `skip`:
        those already being fetched."""
        if not platforms:
            return []
        query = select(Snap).where(
            Snap.fetch_state == SnapFetch.WAITING,
            Snap.platform.in_(list(platforms)),
            or_(Snap.fetch_after.is_(None), Snap.fetch_after <= now),
        )
        if skip:
            query = query.where(Snap.id.not_in(list(skip)))
        result = await self._session.execute(query.order_by(Snap.id).limit(limit))
        return result.scalars().all()

    async def next_snap_fetch_at(
        self, platforms: Collection[str], *, after: datetime
    ) -> datetime | None:
        """When the earliest snap put off for a retry falls due, if later than `after`."""
        if not platforms:
            return None
        result = await self._session.execute(
            select(func.min(Snap.fetch_after)).where(
                Snap.fetch_state == SnapFetch.WAITING,
                Snap.platform.in_(list(platforms)),
                Snap.fetch_after > after,
            )
        )
        return result.scalar_one_or_none()

    async def snap_file_stored(self, snap_id: int, path: str, size: int) -> bool:
        """The file is at `path`. False when the snap is no longer waiting for it: deleted
        (the person was forgotten meanwhile) or stored by someone else."""
        return await self._settle_fetch(
            snap_id,
            fetch_state=SnapFetch.STORED,
            path=path,
            size=size,
            fetched_at=self._clock.now(),
            fetch_error=None,
        )

    async def snap_not_fetched(self, snap_id: int, state: SnapFetch, error: str) -> bool:
        """No file, for good (`state`: too large, gone, failed); False as above."""
        return await self._settle_fetch(
            snap_id,
            fetch_state=state,
            fetch_attempts=Snap.fetch_attempts + 1,
            fetch_error=error[:200],
        )

    async def snap_fetch_later(self, snap_id: int, at: datetime, error: str) -> bool:
        """A failed try, counted; the snap waits until `at` for the next one."""
        return await self._settle_fetch(
            snap_id,
            fetch_attempts=Snap.fetch_attempts + 1,
            fetch_after=at,
            fetch_error=error[:200],
        )

    async def _settle_fetch(self, snap_id: int, **values: Any) -> bool:
        result = await self._session.execute(
            update(Snap)
            .where(Snap.id == snap_id, Snap.fetch_state == SnapFetch.WAITING)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    # -- the funnel -------------------------------------------------------------------------

    async def reminded_count(self, event_id: int) -> int:
        result = await self._session.execute(
            select(func.count(func.distinct(Reminder.person_id))).where(
                Reminder.event_id == event_id, Reminder.status == ReminderStatus.SENT
            )
        )
        return int(result.scalar_one())

    async def events_alike(self, event: Event) -> Sequence[Event]:
        """The event's series (same `series`), or else events with the same title by the
        same creator; published and already begun, oldest first."""
        query = select(Event).where(
            Event.status == EventStatus.PUBLISHED, Event.starts_at <= self._clock.now()
        )
        if event.series:
            query = query.where(Event.series == event.series)
        else:
            query = query.where(Event.title == event.title)
            if event.created_by_id is None:
                query = query.where(Event.id == event.id)
            else:
                query = query.where(Event.created_by_id == event.created_by_id)
        result = await self._session.execute(query.order_by(Event.starts_at, Event.id))
        return result.scalars().all()

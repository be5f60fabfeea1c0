"""Who a broadcast can reach: the people an audience names, and their chats."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, case, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from storage.clock import Clock
from storage.models import (
    ConsentState,
    Identity,
    Person,
    PersonStatus,
    PersonTopic,
    Rsvp,
    RsvpAnswer,
)

# The kinds of audience an event (or an initiative) names in `Event.audience["kind"]`.
AUDIENCE_EVERYBODY = "everybody"
AUDIENCE_TOPICS = "topics"
AUDIENCE_ATTENDEES = "attendees"
AUDIENCE_LINK = "link"
AUDIENCE_INITIATIVE = "initiative"  # people who want to hear about citizens' initiatives


def is_reachable(
    person_id: ColumnElement[int] | InstrumentedAttribute[int | None],
) -> ColumnElement[bool]:
    """Whether `AudienceRepository.reachable` would find the person, as a condition for other
    repositories' queries (so a chunk of work can be limited to people it can reach)."""
    return (
        select(Identity.id)
        .join(Person, Person.id == Identity.person_id)
        .where(
            Identity.person_id == person_id,
            Person.consent == ConsentState.GIVEN,
            Person.status == PersonStatus.ACTIVE,
            Identity.blocked_at.is_(None),
        )
        .exists()
    )


class AudienceRepository:
    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    async def reachable(
        self, person_ids: Sequence[int] | None = None
    ) -> list[tuple[Person, Identity]]:
        """Persons who consented, are active and have a chat that has not blocked us.

        One identity per person: on the platform they chose for messages, else (not chosen,
        or blocked there, or gone) the oldest unblocked one. `person_ids=None` means all.
        """
        query = (
            select(Person, Identity)
            .join(Identity, Identity.person_id == Person.id)
            .where(
                Person.consent == ConsentState.GIVEN,
                Person.status == PersonStatus.ACTIVE,
                Identity.blocked_at.is_(None),
            )
            .order_by(
                Person.id,
                case((Identity.platform == Person.preferred_platform, 0), else_=1),
                Identity.id,
            )
        )
        if person_ids is not None:
            if not person_ids:
                return []
            query = query.where(Person.id.in_(person_ids))
        seen: set[int] = set()
        found: list[tuple[Person, Identity]] = []
        for person, identity in (await self._session.execute(query)).all():
            if person.id not in seen:
                seen.add(person.id)
                found.append((person, identity))
        return found

    async def audience_ids(self, audience: dict[str, Any]) -> list[int] | None:
        """The person ids an audience names; None means everybody, [] nobody."""
        kind = audience.get("kind", AUDIENCE_LINK)
        if kind == AUDIENCE_EVERYBODY:
            return None
        if kind == AUDIENCE_TOPICS:
            ids = [int(t) for t in audience.get("topic_ids", [])]
            if not ids:
                return []
            result = await self._session.execute(
                select(PersonTopic.person_id).where(PersonTopic.topic_id.in_(ids)).distinct()
            )
            return list(result.scalars().all())
        if kind == AUDIENCE_INITIATIVE:
            # those who said yes to hearing about initiatives, in the initiative's interests
            # or areas (all of them when it names none, or when pushed wider)
            query = select(Person.id).where(Person.hear_initiatives.is_(True))
            topic_ids = [int(t) for t in audience.get("topic_ids", [])]
            if topic_ids and not audience.get("wider"):
                chosen = select(PersonTopic.person_id).where(PersonTopic.topic_id.in_(topic_ids))
                query = query.where(Person.id.in_(chosen))
            result = await self._session.execute(query)
            return [int(pid) for pid in result.scalars().all()]
        if kind == AUDIENCE_ATTENDEES:
            result = await self._session.execute(
                select(Rsvp.person_id).where(
                    Rsvp.event_id == int(audience.get("event_id", 0)),
                    Rsvp.answer == RsvpAnswer.YES,
                    Rsvp.person_id.is_not(None),
                )
            )
            return [int(pid) for pid in result.scalars().all() if pid is not None]
        return []

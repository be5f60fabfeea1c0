"""Checking in at an event: by "I'm here" in chat, by scanning the event's check-in QR
code (a code of its own, not the invitation's), or ticked by an organiser. Check-ins open
a while before the start and close at the end; organisers may tick names until a day
after, for the one who forgot."""

from __future__ import annotations

from datetime import datetime, timedelta

from conversations.core.services import Services
from storage.models import Event, EventStatus, Person, RsvpAnswer
from storage.unit_of_work import UnitOfWork

OPENS_BEFORE = timedelta(hours=1)
DEFAULT_LENGTH = timedelta(hours=2)  # an event without an end, as feedback takes it
TICKS_AFTER = timedelta(days=1)
CHECK_IN_PREFIX = "in"  # `/start in_<code>`
EXPECTED = (RsvpAnswer.YES, RsvpAnswer.MAYBE, RsvpAnswer.WAITLISTED)


def ends(event: Event) -> datetime:
    return event.ends_at or event.starts_at + DEFAULT_LENGTH


def check_in_open(event: Event, now: datetime) -> bool:
    return event.status == EventStatus.PUBLISHED and event.starts_at - OPENS_BEFORE <= now < ends(
        event
    )


def ticks_open(event: Event, now: datetime) -> bool:
    """Whether an organiser may tick names now."""
    return (
        event.status == EventStatus.PUBLISHED
        and event.starts_at - OPENS_BEFORE <= now < ends(event) + TICKS_AFTER
    )


async def open_for(uow: UnitOfWork, person: Person, now: datetime) -> list[Event]:
    """The events this person is expected at whose check-in is open now."""
    since = now - timedelta(days=2)  # an event started long ago may still be going on
    events = await uow.check_ins.answered_events(person.id, EXPECTED, since, now + OPENS_BEFORE)
    return [e for e in events if check_in_open(e, now)]


def check_in_payload(code: str) -> str:
    return f"{CHECK_IN_PREFIX}_{code}"


async def check_in(
    services: Services, event: Event, person: Person, via: str, by: Person | None = None
) -> bool:
    """Whether this checked the person in now (False: they already were)."""
    return await services.uow.check_ins.check_in(
        event.id, person.id, via, by.id if by is not None else None
    )

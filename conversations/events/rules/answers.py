"""Answers to an invitation: yes, maybe, no, a guest; the capacity and the waiting list
decide what a yes becomes.
"""

from __future__ import annotations

from enum import StrEnum

from conversations.core.services import Services
from conversations.events.rules.reminders import sync_reminders
from conversations.events.rules.waiting_list import offer_free_places
from storage.models import (
    Event,
    Person,
    Rsvp,
    RsvpAnswer,
)
from storage.unit_of_work import UnitOfWork


class Outcome(StrEnum):
    YES = "yes"
    MAYBE = "maybe"
    NO = "no"
    WAITLISTED = "waitlisted"
    ALREADY_WAITING = "already_waiting"
    GUEST_ADDED = "guest_added"
    GUEST_REMOVED = "guest_removed"
    NO_ROOM_FOR_GUEST = "no_room_for_guest"
    NO_GUESTS = "no_guests"


async def record_answer(
    services: Services,
    event: Event,
    person: Person,
    choice: str,
) -> Outcome:
    """Record yes / maybe / no / guest. The caller has checked the event is open to them."""
    await services.uow.events.lock(event)
    row = await services.uow.events.rsvp(event.id, person.id)
    if choice == "guest":
        return await _toggle_guest(services, event, person, row)
    return await _answer(services, event, person, row, choice)


async def _answer(
    services: Services, event: Event, person: Person, row: Rsvp | None, choice: str
) -> Outcome:
    before = row.answer if row else None
    held_place = before == RsvpAnswer.YES or (
        before == RsvpAnswer.WAITLISTED and row is not None and row.offered_until is not None
    )
    guests = row.guests if row else 0
    if choice == "yes":
        if before == RsvpAnswer.YES:
            return Outcome.YES
        if before == RsvpAnswer.WAITLISTED:
            return Outcome.ALREADY_WAITING
        if not await _room_for(services.uow, event, person, 1 + guests):
            await _set(services, event, person, RsvpAnswer.WAITLISTED, guests)
            return Outcome.WAITLISTED
        new, outcome = RsvpAnswer.YES, Outcome.YES
    elif choice == "maybe":
        new, outcome = RsvpAnswer.MAYBE, Outcome.MAYBE
    else:
        new, outcome = RsvpAnswer.NO, Outcome.NO
    await _set(services, event, person, new, guests if new == RsvpAnswer.YES else 0)
    if held_place and new != RsvpAnswer.YES:
        await offer_free_places(services, event)
    return outcome


async def _toggle_guest(
    services: Services, event: Event, person: Person, row: Rsvp | None
) -> Outcome:
    """A guest added, or taken away if there was one; a yes comes with it."""
    if not event.guests_allowed:
        return Outcome.NO_GUESTS
    before = row.answer if row else None
    if before == RsvpAnswer.WAITLISTED:
        assert row is not None
        row.guests = 0 if row.guests else 1
        return Outcome.GUEST_ADDED if row.guests else Outcome.GUEST_REMOVED
    guests = row.guests if row else 0
    new_guests = 0 if (before == RsvpAnswer.YES and guests) else 1
    if new_guests and not await _room_for(services.uow, event, person, 1 + new_guests):
        if before == RsvpAnswer.YES:
            return Outcome.NO_ROOM_FOR_GUEST
        await _set(services, event, person, RsvpAnswer.WAITLISTED, new_guests)
        return Outcome.WAITLISTED
    await _set(services, event, person, RsvpAnswer.YES, new_guests)
    if not new_guests:
        await offer_free_places(services, event)
    return Outcome.GUEST_ADDED if new_guests else Outcome.GUEST_REMOVED


async def _room_for(uow: UnitOfWork, event: Event, person: Person, places: int) -> bool:
    """Whether `places` (the person and their guest) fit besides everyone else's."""
    if event.capacity is None:
        return True
    others = await uow.events.places_taken(event.id, exclude_person=person.id)
    return others + places <= event.capacity


async def _set(
    services: Services, event: Event, person: Person, answer: RsvpAnswer, guests: int
) -> None:
    """The answer saved, with the reminders that go with it."""
    await services.uow.events.set_rsvp(event.id, person.id, answer, guests)
    await sync_reminders(services.uow, event, person.id, answer, services.now())


async def waitlist_position(uow: UnitOfWork, event: Event, person_id: int) -> int:
    for index, row in enumerate(await uow.events.waitlist(event.id), start=1):
        if row.person_id == person_id:
            return index
    return 0

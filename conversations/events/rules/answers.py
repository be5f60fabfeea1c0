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
    uow = services.uow
    now = services.now()
    await uow.events.lock(event)
    row = await uow.events.rsvp(event.id, person.id)
    before = row.answer if row else None
    held_place = before == RsvpAnswer.YES or (
        before == RsvpAnswer.WAITLISTED and row is not None and row.offered_until is not None
    )
    guests = row.guests if row else 0
    outcome: Outcome
    if choice == "guest":
        if not event.guests_allowed:
            return Outcome.NO_GUESTS
        if before == RsvpAnswer.WAITLISTED:
            assert row is not None
            row.guests = 0 if row.guests else 1
            return Outcome.GUEST_ADDED if row.guests else Outcome.GUEST_REMOVED
        new_guests = 0 if (before == RsvpAnswer.YES and guests) else 1
        if new_guests and event.capacity is not None:
            others = await uow.events.places_taken(event.id, exclude_person=person.id)
            if others + 1 + new_guests > event.capacity:
                if before == RsvpAnswer.YES:
                    return Outcome.NO_ROOM_FOR_GUEST
                await uow.events.set_rsvp(event.id, person.id, RsvpAnswer.WAITLISTED, new_guests)
                await sync_reminders(uow, event, person.id, RsvpAnswer.WAITLISTED, now)
                return Outcome.WAITLISTED
        await uow.events.set_rsvp(event.id, person.id, RsvpAnswer.YES, new_guests)
        await sync_reminders(uow, event, person.id, RsvpAnswer.YES, now)
        if not new_guests:
            await offer_free_places(services, event)
        return Outcome.GUEST_ADDED if new_guests else Outcome.GUEST_REMOVED

    if choice == "yes":
        if before == RsvpAnswer.YES:
            return Outcome.YES
        if before == RsvpAnswer.WAITLISTED:
            return Outcome.ALREADY_WAITING
        if event.capacity is not None:
            others = await uow.events.places_taken(event.id, exclude_person=person.id)
            if others + 1 + guests > event.capacity:
                await uow.events.set_rsvp(event.id, person.id, RsvpAnswer.WAITLISTED, guests)
                await sync_reminders(uow, event, person.id, RsvpAnswer.WAITLISTED, now)
                return Outcome.WAITLISTED
        new = RsvpAnswer.YES
        outcome = Outcome.YES
    elif choice == "maybe":
        new, outcome = RsvpAnswer.MAYBE, Outcome.MAYBE
    else:
        new, outcome = RsvpAnswer.NO, Outcome.NO
    await uow.events.set_rsvp(event.id, person.id, new, guests if new == RsvpAnswer.YES else 0)
    await sync_reminders(uow, event, person.id, new, now)
    if held_place and new != RsvpAnswer.YES:
        await offer_free_places(services, event)
    return outcome


async def waitlist_position(uow: UnitOfWork, event: Event, person_id: int) -> int:
    for index, row in enumerate(await uow.events.waitlist(event.id), start=1):
        if row.person_id == person_id:
            return index
    return 0

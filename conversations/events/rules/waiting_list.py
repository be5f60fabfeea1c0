"""The waiting list: freed places offered to the first in line, in order, for a while;
an offer not answered in time goes on to the next.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from conversations.core.chunks import Chunk
from conversations.core.i18n import N_
from conversations.core.messages import ChatRef, OutMessage
from conversations.core.prompts import FORGIVING, TYPED_HINT, offer_to
from conversations.core.services import Services
from conversations.core.words import COMING_WORDS, NOT_COMING_WORDS
from conversations.events.rules.invitations import RSVP_FLOW, is_open
from conversations.events.rules.notifier import Notifier, choice_for, person_ids_of, polite_time
from conversations.events.rules.photos import photo_to_show
from conversations.events.rules.reminders import sync_reminders
from storage.models import (
    Event,
    Person,
    RsvpAnswer,
)
from storage.unit_of_work import UnitOfWork

OFFER_WINDOW = timedelta(hours=2)
OFFER_CHUNK = 100  # lapsed offers handled in one transaction
OFFER_HINT = N_("Answer yes to take the place, or no to give it on.")


def offer_window_end(event: Event, sent_at: datetime) -> datetime:
    """The offer is open for OFFER_WINDOW from when it is sent, never past the start."""
    return min(sent_at + OFFER_WINDOW, event.starts_at)


async def offer_free_places(services: Services, event: Event) -> int:
    """Offer freed places to the first in line, in order; returns how many were offered."""
    uow = services.uow
    now = services.now()
    if event.capacity is None or not is_open(event, now):
        return 0
    await uow.events.lock(event)
    free = event.capacity - await uow.events.places_taken(event.id)
    offered = 0
    notifier = Notifier(services)
    photo = await photo_to_show(uow, event.id, now)  # the offer shows it as the invitation did
    for row in await uow.events.waitlist(event.id):
        if row.offered_until is not None:
            continue
        need = 1 + row.guests
        if need > free:
            break  # first come, first served: nobody jumps the line
        reach = await uow.audiences.reachable(person_ids_of([row]))
        if not reach:
            continue
        person, identity = reach[0]
        send_at = polite_time(person, now, event, services.timezone)
        row.offered_until = offer_window_end(event, send_at)
        row.offers += 1
        free -= need
        tr = notifier.tr(person)
        text = tr.gettext(
            N_(
                "Good news: a place has opened up at {title} ({when}). "
                "Would you like it? Please answer before {deadline}."
            )
        ).format(
            title=event.title,
            when=notifier.when(tr, event),
            deadline=tr.format_datetime(row.offered_until, services.timezone),
        )
        message = OutMessage(
            text,
            choices=(
                choice_for(
                    tr, services.translations, "take", N_("Yes, I'll take it"), "✅", *COMING_WORDS
                ),
                choice_for(
                    tr,
                    services.translations,
                    "decline",
                    N_("No, give it on"),
                    "↪️",
                    *NOT_COMING_WORDS,
                ),
            ),
            stored_photo=photo,
        )
        recipient = ChatRef(identity.platform, identity.chat_id, identity.user_id)
        message = await offer_to(
            uow,
            recipient,
            person.id,
            RSVP_FLOW,
            message,
            state="offer",
            context={
                "event_id": event.id,
                "kind": "offer",
                "round": row.offers,
                FORGIVING: True,
                TYPED_HINT: OFFER_HINT,
            },
        )
        await notifier.enqueue(
            person,
            identity,
            message,
            key=f"waitoffer:{event.id}:{person.id}:{row.offers}",
            kind="waitlist",
            batch=f"wl:{event.id}",
            not_before=send_at,
            expires_at=row.offered_until,
        )
        offered += 1
    return offered


async def take_offer(
    services: Services,
    event: Event,
    person: Person,
    take: bool,
) -> bool:
    """Answer a place offered from the waiting list; False when the offer has run out."""
    uow = services.uow
    now = services.now()
    await uow.events.lock(event)
    row = await uow.events.rsvp(event.id, person.id)
    if (
        row is None
        or row.answer != RsvpAnswer.WAITLISTED
        or row.offered_until is None
        or row.offered_until <= now
        or not is_open(event, now)
    ):
        return False
    if take:
        await uow.events.set_rsvp(event.id, person.id, RsvpAnswer.YES, row.guests)
        await sync_reminders(uow, event, person.id, RsvpAnswer.YES, now)
    else:
        await uow.events.set_rsvp(event.id, person.id, RsvpAnswer.NO, 0)
        await sync_reminders(uow, event, person.id, RsvpAnswer.NO, now)
        await offer_free_places(services, event)
    return True


async def expire_offers(services: Services, limit: int = OFFER_CHUNK) -> Chunk:
    """Up to `limit` offers nobody answered in time: the place goes to the next in line."""
    uow = services.uow
    now = services.now()
    expired = await uow.events.expired_offers(now, limit)
    events: dict[int, Event] = {}
    notifier = Notifier(services)
    for row in expired:
        event = await uow.events.get(row.event_id)
        if event is None:
            continue
        row.offered_until = None
        row.answer = RsvpAnswer.NO
        row.waitlisted_at = None
        row.answered_at = now
        events[event.id] = event
        if is_open(event, now):
            await notifier.tell(
                person_ids_of([row]),
                lambda tr, event=event: tr.gettext(  # type: ignore[misc]
                    N_(
                        "The place at {title} has gone to the next person on the waiting list, "
                        "as we didn't hear from you in time. You are welcome to answer the "
                        "invitation again."
                    )
                ).format(title=event.title),
                key=lambda p, row=row: f"offerlapsed:{row.event_id}:{p.id}:{row.offers}",  # type: ignore[misc]
                kind="waitlist",
                batch=f"wl:{event.id}",
                event=event,
            )
    await uow.flush()
    for event in events.values():
        await offer_free_places(services, event)
    return Chunk({"offers_lapsed": len(expired)}, more=len(expired) == limit)


async def next_offer_expiry(uow: UnitOfWork, after: datetime | None = None) -> datetime | None:
    return await uow.events.next_offer_expiry(after)


async def fill_free_places(services: Services) -> int:
    """A sweep for places freed without an answer (someone asked to be forgotten, say)."""
    uow = services.uow
    now = services.now()
    offered = 0
    for event in await uow.events.with_waitlist(now):
        offered += await offer_free_places(services, event)
    return offered

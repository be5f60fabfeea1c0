"""An invitation's card drawn when it goes out, not when it was published.

A broadcast to many people takes minutes (and quiet hours or a set send time, hours), and
places and missing hands change meanwhile: a card drawn at publishing would tell the
hundredth reader "10 places left" when 2 are. So `publish` marks each invitation's payload
with its event (`CARD_OF_EVENT`), and the delivery worker, in the transaction that claims the
rows, hands them here: each marked row gets the card's text as it is now (for its reader, with
their answer if they have given one meanwhile, under what the row says above it, such as
"Changed since you got it"), written back to the row in that transaction.
The row then carries exactly what goes on the wire, so a row in doubt sent again, or a restart,
sends the same text; the buttons and stored question stay as they were.

An invitation with a photo gets the stored file's reference (the worker reads the file just
before sending); while the file is still being fetched, right after publishing, its row goes
back in the queue for a moment (at most `PHOTO_WAIT`, then it goes without).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

from conversations.core.messages import PHOTO
from conversations.core.services import Services
from conversations.events.rules.invitations import (
    CARD_INTRO,
    CARD_OF_EVENT,
    answer_line,
    invitation_text,
)
from conversations.events.rules.photos import WAITING, invitation_photo, photo_to_send
from storage.models import Event, Rsvp
from storage.repositories.outbox import ClaimedMessage

PHOTO_RETRY = timedelta(seconds=2)  # how soon a row waiting for its photo is looked at again


async def draw_cards_at_send(
    services: Services, rows: Sequence[ClaimedMessage]
) -> list[ClaimedMessage]:
    """`rows` with every invitation's text drawn now; the others as they were."""
    by_event: dict[int, list[ClaimedMessage]] = defaultdict(list)
    for row in rows:
        event_id = row.payload.get(CARD_OF_EVENT)
        if isinstance(event_id, int) and row.person_id is not None:
            by_event[event_id].append(row)
    if not by_event:
        return list(rows)
    people = {row.person_id for found in by_event.values() for row in found}
    languages = await services.uow.persons.languages(p for p in people if p is not None)
    drawn: dict[int, dict[str, Any]] = {}
    held: list[int] = []
    for event_id, found in by_event.items():
        event = await services.uow.events.get(event_id)
        if event is None:
            continue
        photo = await _photo(services, event, found)
        if photo == WAITING:
            held += [row.id for row in found if PHOTO in row.payload]
            found = [row for row in found if PHOTO not in row.payload]
        drawn |= await _draw(services, event, found, languages, photo)
    await services.uow.outbox.set_payloads(list(drawn.items()))
    await _hold(services, held)
    return [
        replace(row, payload=drawn[row.id]) if row.id in drawn else row
        for row in rows
        if row.id not in held
    ]


async def _photo(
    services: Services, event: Event, rows: list[ClaimedMessage]
) -> dict[str, Any] | str | None:
    if not any(PHOTO in row.payload for row in rows):
        return None
    return photo_to_send(await invitation_photo(services.uow, event.id), services.now())


async def _hold(services: Services, row_ids: list[int]) -> None:
    """Rows whose photo is still being fetched: back in the queue for a moment (the claim
    not counted as a try)."""
    if not row_ids:
        return
    await services.uow.delivery.release(row_ids)
    later = services.now() + PHOTO_RETRY
    await services.uow.delivery.postpone_pending((row_id, later) for row_id in row_ids)


async def _draw(
    services: Services,
    event: Event,
    rows: list[ClaimedMessage],
    languages: dict[int, str],
    photo: dict[str, Any] | str | None,
) -> dict[int, dict[str, Any]]:
    """The new payloads of one event's rows whose text or photo changed, by row id."""
    answers = await services.uow.events.rsvps_of(
        event.id, (row.person_id for row in rows if row.person_id is not None)
    )
    # one drawing per language and answer: only those change the card
    cards: dict[tuple[str, str | None, bool], str] = {}
    payloads: dict[int, dict[str, Any]] = {}
    for row in rows:
        language = languages.get(row.person_id or 0)
        if language is None:
            continue  # forgotten meanwhile: the row is closed, not redrawn
        rsvp = answers.get(row.person_id or 0)
        key = (language, rsvp.answer if rsvp else None, bool(rsvp and rsvp.guests))
        if key not in cards:
            cards[key] = await _card(services, event, language, rsvp)
        intro = row.payload.get(CARD_INTRO)
        text = f"{intro}\n\n{cards[key]}" if isinstance(intro, str) and intro else cards[key]
        payload = {**row.payload, "text": text}
        if PHOTO in payload:  # the stored file to send, or none (never fetched, or forgotten)
            if isinstance(photo, dict):
                payload[PHOTO] = photo
            else:
                del payload[PHOTO]
        if payload != row.payload:
            payloads[row.id] = payload
    return payloads


async def _card(services: Services, event: Event, language: str, rsvp: Rsvp | None) -> str:
    tr = services.translations.get(language)
    card = await invitation_text(services.uow, tr, event, services.timezone, rsvp=rsvp)
    return "\n\n".join(part for part in (answer_line(tr, rsvp), card) if part)

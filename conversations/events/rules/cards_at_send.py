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
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from conversations.core.services import Services
from conversations.events.rules.invitations import (
    CARD_INTRO,
    CARD_OF_EVENT,
    answer_line,
    invitation_text,
)
from storage.models import Event, Rsvp
from storage.repositories.outbox import ClaimedMessage


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
    for event_id, found in by_event.items():
        event = await services.uow.events.get(event_id)
        if event is not None:
            drawn |= await _draw(services, event, found, languages)
    await services.uow.outbox.set_payloads(list(drawn.items()))
    return [replace(row, payload=drawn[row.id]) if row.id in drawn else row for row in rows]


async def _draw(
    services: Services, event: Event, rows: list[ClaimedMessage], languages: dict[int, str]
) -> dict[int, dict[str, Any]]:
    """The new payloads of one event's rows whose text changed, by row id."""
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
        if text != row.payload.get("text"):
            payloads[row.id] = {**row.payload, "text": text}
    return payloads


async def _card(services: Services, event: Event, language: str, rsvp: Rsvp | None) -> str:
    tr = services.translations.get(language)
    card = await invitation_text(services.uow, tr, event, services.timezone, rsvp=rsvp)
    return "\n\n".join(part for part in (answer_line(tr, rsvp), card) if part)

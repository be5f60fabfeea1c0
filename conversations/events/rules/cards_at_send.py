"""An invitation's card drawn when it goes out, not when it was published.

A broadcast to many people takes minutes (and quiet hours or a set send time, hours), and
places and missing hands change meanwhile: a card drawn at publishing would tell the
hundredth reader "10 places left" when 2 are. So `publish` marks each invitation's payload
with its event (`CARD_OF_EVENT`), and the delivery worker, in the transaction that claims the
rows, hands them here: each marked row gets the card's text as it is now (for its reader, with
their answer if they have given one meanwhile), written back to the row in that transaction.
The row then carries exactly what goes on the wire, so a row in doubt sent again, or a restart,
sends the same text; the buttons and stored question stay as they were.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from conversations.core.services import Services
from conversations.events.rules.invitations import CARD_OF_EVENT, answer_line, invitation_text
from storage.models import Event, RsvpAnswer
from storage.repositories.outbox import ClaimedMessage


async def draw_cards_at_send(
    services: Services, rows: Sequence[ClaimedMessage]
) -> list[ClaimedMessage]:
    """`rows` with every invitation's text drawn now; the others as they were."""
    drawn: list[ClaimedMessage] = []
    # one drawing per event, language and what the reader has answered (all that changes it)
    cards: dict[tuple[int, str, str | None], str] = {}
    for row in rows:
        event = await _event_of(services, row)
        if event is None or row.person_id is None:
            drawn.append(row)
            continue
        person = await services.uow.persons.get(row.person_id)
        if person is None:
            drawn.append(row)
            continue
        rsvp = await services.uow.events.rsvp(event.id, person.id)
        tr = services.translations.get(person.language)
        key = (event.id, person.language, _answer_key(rsvp.answer, rsvp.guests) if rsvp else None)
        if key not in cards:
            card = await invitation_text(services.uow, tr, event, services.timezone, rsvp=rsvp)
            cards[key] = "\n\n".join(part for part in (answer_line(tr, rsvp), card) if part)
        if cards[key] == row.payload.get("text"):
            drawn.append(row)
            continue
        payload = {**row.payload, "text": cards[key]}
        await services.uow.outbox.set_payload(row.id, payload)
        drawn.append(replace(row, payload=payload))
    return drawn


async def _event_of(services: Services, row: ClaimedMessage) -> Event | None:
    event_id = row.payload.get(CARD_OF_EVENT)
    if not isinstance(event_id, int):
        return None
    return await services.uow.events.get(event_id)


def _answer_key(answer: str, guests: int) -> str:
    # a full event reads differently for someone coming or waiting; a guest shows as (+1)
    return f"{RsvpAnswer(answer).value}{'+' if guests else ''}"

"""What `/forget` does beyond the rows that point at the person (storage/personal_data.py):
their initiatives are taken down and blanked, and messages to others that quote them (their
name, their initiative) lose their text.

The schema-driven part only clears `created_by_id` on an initiative, which would leave the
citizen's own words on show without a name; and an outbox row to someone else is not theirs
at all, but may carry their name in its text.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import Text, cast, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Event,
    EventOrigin,
    EventStatus,
    OutboxMessage,
    OutboxStatus,
    Person,
    PushState,
)

# An outbox row's payload once its text is gone: the key, status and times stay.
SCRUBBED_PAYLOAD: dict[str, Any] = {"text": "", "scrubbed": True}
FORGOTTEN_TITLE = "–"
FORGOTTEN_REASON = "/forget"
# Rows that may still go out: a message quoting a forgotten person is not sent after all.
NOT_YET_SENT = (
    OutboxStatus.PENDING,
    OutboxStatus.SENDING,
    OutboxStatus.FAILED,
    OutboxStatus.UNKNOWN,
)


async def quotes_of(session: AsyncSession, person_id: int) -> list[str]:
    """The words of the person's that other people's messages may carry."""
    person = await session.get(Person, person_id)
    quotes = [person.display_name] if person is not None and person.display_name else []
    rows = await session.execute(
        select(Event.title, Event.invitation, Event.place).where(
            Event.created_by_id == person_id, Event.origin == EventOrigin.INITIATIVE
        )
    )
    for row in rows:
        quotes.extend(text for text in row if text)
    return [quote.strip() for quote in quotes if quote and quote.strip()]


async def take_down_initiatives(session: AsyncSession, person_id: int) -> int:
    result = await session.execute(
        update(Event)
        .where(Event.created_by_id == person_id, Event.origin == EventOrigin.INITIATIVE)
        .values(
            status=EventStatus.HIDDEN,
            title=FORGOTTEN_TITLE,
            invitation="",
            place="",
            latitude=None,
            longitude=None,
            hidden_reason=FORGOTTEN_REASON,
            push_state=PushState.NONE,
            push_after=None,
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _quoted_in(payload: dict[str, Any], patterns: list[re.Pattern[str]]) -> bool:
    text = json.dumps(payload, ensure_ascii=False)
    return any(pattern.search(text) for pattern in patterns)


async def scrub_outbox(session: AsyncSession, person_id: int, quotes: list[str]) -> int:
    """Blank every outbox row to someone else that quotes the person; those not yet sent are
    cancelled. Returns how many rows were scrubbed."""
    if not quotes:
        return 0
    payload_text = cast(OutboxMessage.payload, Text)
    # JSON may keep "ø" as "\u00f8": look for both spellings, then check whole words
    spellings = {form for quote in quotes for form in (quote, json.dumps(quote)[1:-1])}
    candidates = await session.execute(
        select(OutboxMessage.id, OutboxMessage.payload, OutboxMessage.status).where(
            or_(OutboxMessage.person_id.is_(None), OutboxMessage.person_id != person_id),
            or_(*(payload_text.contains(form, autoescape=True) for form in spellings)),
        )
    )
    patterns = [re.compile(rf"(?<!\w){re.escape(quote)}(?!\w)") for quote in quotes]
    scrubbed = 0
    for row_id, payload, status in candidates:
        if payload.get("scrubbed") or not _quoted_in(payload, patterns):
            continue
        values: dict[str, Any] = {"payload": SCRUBBED_PAYLOAD}
        if status in NOT_YET_SENT:
            values.update(
                status=OutboxStatus.CANCELLED, last_error="its text quoted a forgotten person"
            )
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id)
            .values(values)
            .execution_options(synchronize_session=False)
        )
        scrubbed += 1
    return scrubbed

"""Tasks still missing hands are asked for again, once, a while before the event: first
those coming, then the others invited, never those who said no (see `pledges.ask_again`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from conversations.core.chunks import Chunk
from conversations.core.services import Services
from conversations.tasks.rules.pledges import ask_again

DEFAULT_LEAD = timedelta(hours=48)
CHUNK = 50  # tasks a transaction; each asks a handful of people


async def ask_for_missing_hands(
    services: Services, lead: timedelta = DEFAULT_LEAD, limit: int = CHUNK
) -> Chunk:
    uow = services.uow
    now = services.now()
    due = await uow.pledges.to_ask_again(now, now + lead, limit)
    asked = 0
    for event, task in due:
        task.hands_asked_at = now  # once, whether or not a hand was missing
        asked += await ask_again(services, event, task)
    return Chunk({"hands_asked": asked}, more=len(due) >= limit)


async def next_missing_hands_due(
    services: Services, lead: timedelta = DEFAULT_LEAD, after: datetime | None = None
) -> datetime | None:
    """When the next task is to be asked for again (a moment in the past: now)."""
    now = services.now()
    since = now if after is None else max(now, after + lead)
    start = await services.uow.pledges.next_ask_again_start(since)
    return start - lead if start is not None else None

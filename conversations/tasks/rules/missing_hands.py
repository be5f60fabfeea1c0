"""Tasks still missing hands are asked for again, once, in two steps before the event:
those coming a lead before it, then, a shorter lead before it, the others invited (never
those who said no). When nobody coming can be asked, the others are asked at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from conversations.core.chunks import Chunk
from conversations.core.services import Services
from conversations.tasks.rules.pledges import ask_coming, ask_others

DEFAULT_LEAD = timedelta(hours=48)
DEFAULT_AUDIENCE_LEAD = timedelta(hours=24)
CHUNK = 50  # tasks a transaction; each asks a handful of people


@dataclass(frozen=True, slots=True)
class HandsLeads:
    """How long before the start those coming (`coming`), then the others invited
    (`audience`), are asked for the hands still missing."""

    coming: timedelta = DEFAULT_LEAD
    audience: timedelta = DEFAULT_AUDIENCE_LEAD


async def ask_for_missing_hands(
    services: Services, leads: HandsLeads = HandsLeads(), limit: int = CHUNK
) -> Chunk:
    uow = services.uow
    now = services.now()
    asked = 0
    first = await uow.pledges.to_ask_again(now, now + leads.coming, limit)
    for event, task in first:
        task.hands_asked_at = now  # once, whether or not a hand was missing
        coming = await ask_coming(services, event, task)
        if not coming:  # nobody coming to ask: the others now, not later
            task.audience_asked_at = now
            coming = await ask_others(services, event, task)
        asked += coming
    await uow.flush()
    second = await uow.pledges.to_ask_again(now, now + leads.audience, limit, audience=True)
    for event, task in second:
        task.audience_asked_at = now
        asked += await ask_others(services, event, task)
    return Chunk({"hands_asked": asked}, more=len(first) >= limit or len(second) >= limit)


async def next_missing_hands_due(
    services: Services, leads: HandsLeads = HandsLeads(), after: datetime | None = None
) -> datetime | None:
    """When the next task is to be asked for again (a moment in the past: now)."""
    now = services.now()
    moments = []
    for lead, audience in ((leads.coming, False), (leads.audience, True)):
        since = now if after is None else max(now, after + lead)
        start = await services.uow.pledges.next_ask_again_start(since, audience=audience)
        if start is not None:
            moments.append(start - lead)
    return min(moments, default=None)

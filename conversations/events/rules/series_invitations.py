"""A series' later meetings are invited when their time comes, not when the series is
made: the audience is read then, so people who joined the topic or area since are invited
and those who left it, paused or were forgotten are not. The creator sees that meeting's
invitations go out in their progress message, as at publishing."""

from __future__ import annotations

from datetime import datetime

from conversations.core.chunks import Chunk
from conversations.core.messages import ChatRef
from conversations.core.services import Services
from conversations.events.rules.invitations import batch_invitations, publish
from storage.models import Event

CHUNK = 1  # meetings a transaction: one meeting's audience can be thousands of rows


async def invite_due_meetings(services: Services, limit: int = CHUNK) -> Chunk:
    uow = services.uow
    now = services.now()
    due = await uow.events.invitations_due(now, limit)
    invited = 0
    for event in due:
        event.invite_due_at = None  # once, in the transaction that writes the invitations
        if event.starts_at <= now:
            continue  # moved or late: an invitation to something begun helps nobody
        count = await publish(services, event)
        if count:
            await _report_to_creator(services, event, count)
        invited += count
    return Chunk({"series_invited": invited}, more=len(due) >= limit)


async def _report_to_creator(services: Services, event: Event, count: int) -> None:
    reporter = None
    if event.created_by_id is not None:
        for _person, identity in await services.uow.audiences.reachable([event.created_by_id]):
            reporter = ChatRef(identity.platform, identity.chat_id, identity.user_id)
    await services.uow.batches.create(
        batch_invitations(event.id),
        kind="invitation",
        reporter=reporter,
        reporter_person_id=event.created_by_id,
        total=count,
    )


async def next_meeting_invitations_due(
    services: Services, after: datetime | None = None
) -> datetime | None:
    return await services.uow.events.next_invitations_due(after)

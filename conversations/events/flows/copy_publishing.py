"""Publishing a copy: one event, or every meeting of a series at once, in this one
transaction. A series' meetings share a `series` key (the report compares them); each
later one is published with its invitations due a lead time before it, and they are
written then, to the audience as it is then (`events/rules/series_invitations.py`)."""

from __future__ import annotations

from datetime import timedelta

from conversations.core.flow import FlowContext, Transition
from conversations.core.messages import OutMessage
from conversations.events.flows.copy_draft import CopyEventData
from conversations.events.flows.new_event.publishing import (
    create_event,
    event_fields,
    keep_invitation_photo,
    published_message,
)
from conversations.events.rules.invitations import batch_invitations, publish
from conversations.events.rules.series import invite_at, new_series_key
from conversations.feedback.rules.next_meeting import tell_idea_givers
from conversations.feedback.rules.snaps import FeedbackOptions
from storage.models import Event, EventStatus


async def _publish_one(ctx: FlowContext, event: Event) -> int:
    count = await publish(ctx.services, event)
    if count:  # the coordinator sees the invitations go out, in one updating message
        await ctx.uow.batches.create(
            batch_invitations(event.id),
            kind="invitation",
            reporter=ctx.ref,
            reporter_person_id=ctx.person.id,
            total=count,
        )
    return count


async def publish_copy(
    ctx: FlowContext,
    data: CopyEventData,
    bot_username: str | None,
    lead: timedelta,
    photos: FeedbackOptions,
) -> Transition:
    found = data.meetings(ctx.config.timezone)
    source = await ctx.uow.events.get(data.event_id) if data.event_id is not None else None
    # the copy joins its source's series (a new one if it had none), so the report compares
    key = (source.series if source is not None else None) or new_series_key()
    if source is not None:
        source.series = key
    if len(found) == 1:
        event = await create_event(ctx, event_fields(ctx, data) | {"series": key}, data.tasks)
        if data.photo is not None:
            await keep_invitation_photo(ctx, event, data, photos)
        count = await _publish_one(ctx, event)
        if source is not None and data.from_ideas:
            await tell_idea_givers(ctx.services, source, data.from_ideas, event)
        return Transition.end(await published_message(ctx, event, count, bot_username))
    first: tuple[Event, int | None] | None = None
    for meeting in found:
        due = invite_at(meeting.start, ctx.now(), lead)
        fields = event_fields(ctx, data) | {
            "starts_at": meeting.start,
            "ends_at": meeting.end,
            "series": key,
            "send_at": due,
        }
        event = await create_event(ctx, fields, data.tasks)
        if data.photo is not None:  # each meeting's own snap of it (one fetch each)
            await keep_invitation_photo(ctx, event, data, photos)
        invited: int | None = None
        if due is None:
            invited = await _publish_one(ctx, event)
        else:  # invited when due, to the audience as it is then (series_invitations.py)
            event.status = EventStatus.PUBLISHED
            event.published_at = ctx.now()
            event.invite_due_at = due
        first = first or (event, invited)
    assert first is not None
    if source is not None and data.from_ideas:
        await tell_idea_givers(ctx.services, source, data.from_ideas, first[0])
    summary = OutMessage(
        ctx.ngettext(
            "The series is made: {n} meeting, the last {when}.",
            "The series is made: {n} meetings, the last {when}.",
            len(found),
        ).format(n=len(found), when=ctx.when(found[-1].start))
    )
    return Transition.end(summary, await published_message(ctx, first[0], first[1], bot_username))

"""Publishing a new event: the event and its tasks written and every invitation put in the
outbox, in this one transaction; then the coordinator gets its link and a QR button.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from conversations.core.flow import FlowContext, Transition
from conversations.core.i18n import N_
from conversations.core.media import TooLarge, file_to_fetch
from conversations.core.messages import OutMessage
from conversations.core.prompts import offer_to
from conversations.events.flows.new_event.draft import NewEventData
from conversations.events.rules.invitations import batch_invitations, publish
from conversations.events.rules.photos import COVER
from conversations.events.rules.wording import deep_link_url, link_payload, matrix_way_in
from conversations.feedback.rules.snaps import FeedbackOptions, make_snap
from storage.models import Event, EventStatus
from storage.repositories.audiences import AUDIENCE_LINK

QR_FLOW = "eventqr"  # the QR button under the published message opens this flow


def event_fields(ctx: FlowContext, data: NewEventData) -> dict[str, Any]:
    """The draft as the columns of a new event (not published yet)."""
    send_at = data.send_at
    if send_at is not None and send_at <= ctx.now():
        send_at = None  # the set time went by while the preview waited: send now
    return {
        "title": data.title,
        "invitation": data.text,
        "starts_at": data.start,
        "ends_at": data.end,
        "place": data.place,
        "latitude": data.lat,
        "longitude": data.lon,
        "capacity": data.capacity,
        "guests_allowed": data.guests,
        "journey_steps": list(data.journey),
        "access_features": list(data.access),
        "practical_note": data.practical,
        "reminder_offsets": list(data.reminders),
        "audience": dict(data.audience if data.audience is not None else {"kind": AUDIENCE_LINK}),
        "status": EventStatus.DRAFT,
        "created_by_id": ctx.person.id,
        "send_at": send_at,
    }


async def create_event(
    ctx: FlowContext, fields: dict[str, Any], tasks: Sequence[tuple[str, int]]
) -> Event:
    event = await ctx.uow.events.create(**fields)
    for position, (title, hands) in enumerate(tasks):
        await ctx.uow.events.add_task(event.id, title, hands, position)
    return event


async def publish_event(
    ctx: FlowContext,
    data: NewEventData,
    bot_username: str | None,
    photos: FeedbackOptions | None = None,
) -> Transition:
    event = await create_event(ctx, event_fields(ctx, data), data.tasks)
    if data.photo is not None and photos is not None:
        await keep_invitation_photo(ctx, event, data, photos)
    count = await publish(ctx.services, event)
    if count:  # the coordinator then sees the invitations go out, in one updating message
        await ctx.uow.batches.create(
            batch_invitations(event.id),
            kind="invitation",
            reporter=ctx.ref,
            reporter_person_id=ctx.person.id,
            total=count,
        )
    return Transition.end(await published_message(ctx, event, count, bot_username))


async def keep_invitation_photo(
    ctx: FlowContext, event: Event, data: NewEventData, photos: FeedbackOptions
) -> None:
    """The invitation's photo kept as the coordinator's snap of the event (purpose
    `cover`): its file fetched after this commit, covered by retention, /mydata and /forget
    like every snap; the invitations refer to it."""
    assert data.photo is not None
    try:
        snap = make_snap(
            photos,
            data.photo.media(),
            event_id=event.id,
            person_id=ctx.person.id,
            platform=data.photo.platform,
            purpose=COVER,
        )
    except TooLarge:
        return  # the platform's stated size was checked when it came; nothing to keep
    snap.caption = data.photo_text or None
    await ctx.uow.feedback.add_snap(snap)
    file_to_fetch()


async def published_message(
    ctx: FlowContext, event: Event, count: int | None, bot_username: str | None
) -> OutMessage:
    """`count` None: a series' meeting whose invitations wait for their time."""
    payload = link_payload(event)
    if count is None and event.invite_due_at is not None:
        text = ctx._(
            N_("Published! 🎉 The invitations go out {when}, to everyone the event is for then.")
        ).format(when=ctx.when(event.invite_due_at))
    else:
        text = ctx.ngettext(
            "Published! 🎉 {n} person is invited.",
            "Published! 🎉 {n} people are invited.",
            count or 0,
        ).format(n=count or 0)
    if event.send_at is not None and count is not None:
        text += "\n" + ctx._(N_("The invitations go out {when}.")).format(
            when=ctx.when(event.send_at)
        )
    url = deep_link_url(bot_username, payload)
    text += "\n\n" + ctx._(
        N_("Anyone can open the invitation with this link: /start {payload}")
    ).format(payload=payload)
    if url:
        text += "\n" + url
    on_matrix = matrix_way_in(ctx.translator, ctx.config.matrix_user_id, payload)
    if on_matrix:
        text += "\n" + on_matrix
    message = OutMessage(
        text,
        choices=(ctx.choice("qr", N_("QR code for a poster"), "🔳", "qr"),),
    )
    return await offer_to(
        ctx.uow,
        ctx.ref,
        ctx.person.id,
        QR_FLOW,
        message,
        state="published",
        context={"event_id": event.id},
    )

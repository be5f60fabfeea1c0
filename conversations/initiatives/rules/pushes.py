"""Pushing an initiative to the people who want to hear about it, within limits that stop spam.

At most `initiative_pushes_per_day` pushes per author (a later one waits, and goes when the
day has passed), and an author's first push waits until a coordinator has looked (approve,
back or hide).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from conversations.core.flow import FlowContext
from conversations.core.i18n import N_, Translations, Translator
from conversations.events.rules.invitations import publish
from conversations.events.rules.notifier import Notifier
from storage.models import (
    Event,
    EventStatus,
    PushState,
)
from storage.unit_of_work import UnitOfWork

DAY = timedelta(days=1)


async def request_push(
    uow: UnitOfWork,
    translations: Translations,
    timezone: str,
    event: Event,
    now: datetime,
    *,
    per_day: int,
    approved: bool = False,
    named_coordinators: Collection[str] = (),
) -> str:
    """Push the initiative now, or say why it waits. Returns the new `push_state`.

    `named_coordinators`: the coordinators named in the settings ("platform:user"), told
    with the others when a new author's first push waits for a look."""
    author = event.created_by_id
    if event.status != EventStatus.PUBLISHED or author is None:
        event.push_state = PushState.NONE
        return event.push_state
    if not approved and not await uow.pledges.ever_pushed(author):
        if event.push_state != PushState.AWAITING_APPROVAL:
            event.push_state = PushState.AWAITING_APPROVAL
            await tell_coordinators(
                uow, translations, timezone, event, now, named_coordinators=named_coordinators
            )
        return event.push_state
    earlier = await uow.pledges.pushes_since(author, now - DAY)
    if len(earlier) >= per_day:
        event.push_state = PushState.DEFERRED
        # the day counts from the push that would fall out of the window first
        event.push_after = (earlier[len(earlier) - per_day] if per_day else now) + DAY
        return event.push_state
    await publish(uow, translations, timezone, event, now)
    event.push_state = PushState.PUSHED
    event.pushed_at = now
    event.push_after = None
    return event.push_state


async def tell_coordinators(
    uow: UnitOfWork,
    translations: Translations,
    timezone: str,
    event: Event,
    now: datetime,
    *,
    named_coordinators: Collection[str] = (),
) -> int:
    """A word to every coordinator, however they became one (named in the settings, granted
    on the command line, or by a code), that a new author's initiative waits for a look."""
    ids = [person.id for person in await uow.persons.coordinators(named_coordinators)]
    notifier = Notifier(uow, translations, timezone)
    return await notifier.tell(
        [pid for pid in ids if pid != event.created_by_id],
        lambda tr: tr.gettext(
            N_("A new initiative waits for a coordinator to look: {title}. See /initiatives.")
        ).format(title=event.title),
        key=lambda person: f"queue:{event.id}:{person.id}",
        kind="initiative",
        batch=f"ini:{event.id}",
        now=now,
        event=event,
    )


async def push_deferred(
    uow: UnitOfWork, translations: Translations, timezone: str, now: datetime, per_day: int
) -> int:
    """Deferred pushes whose day has come (EventJobs runs this every minute)."""
    pushed = 0
    for event in await uow.pledges.deferred_due(now):
        state = await request_push(
            uow, translations, timezone, event, now, per_day=per_day, approved=True
        )
        pushed += state == PushState.PUSHED
    return pushed


async def push_from_flow(
    ctx: FlowContext, event: Event, now: datetime, *, approved: bool = False
) -> str:
    """`request_push` with what a flow knows: its unit of work, languages and settings."""
    return await request_push(
        ctx.uow,
        ctx.translations,
        ctx.config.timezone,
        event,
        now,
        per_day=ctx.config.initiative_pushes_per_day,
        approved=approved,
        named_coordinators=ctx.config.named_coordinators,
    )


def initiative_status(tr: Translator, event: Event, timezone: str) -> str:
    if event.status == EventStatus.HIDDEN:
        return tr.gettext(N_("Hidden by a coordinator: {reason}")).format(
            reason=event.hidden_reason or "–"
        )
    match event.push_state:
        case PushState.AWAITING_APPROVAL:
            return tr.gettext(
                N_(
                    "It is on the list of initiatives. As it is your first, a coordinator takes "
                    "a look before I send it to people who want to hear about initiatives."
                )
            )
        case PushState.DEFERRED:
            assert event.push_after is not None
            return tr.gettext(
                N_(
                    "It is on the list of initiatives. You have already sent one today, so I "
                    "send this one to people {when}."
                )
            ).format(when=tr.format_datetime(event.push_after, timezone))
        case PushState.PUSHED:
            return tr.gettext(
                N_("It is on the list of initiatives and has been sent to people who want to hear.")
            )
    return tr.gettext(N_("It is on the list of initiatives."))

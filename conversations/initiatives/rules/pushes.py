"""Pushing an initiative to the people who want to hear about it, within limits that stop spam.

At most `initiative_pushes_per_day` pushes per author (a later one waits, and goes when the
day has passed), and an author's first push waits until a coordinator has looked (approve,
back or hide).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from conversations.core.i18n import N_, Translator
from conversations.core.services import Services
from conversations.events.rules.invitations import publish
from conversations.events.rules.notifier import Notifier
from storage.models import (
    Event,
    EventStatus,
    PushState,
)

DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class PushLimits:
    """What pushes keep to: how many a day per author, and the coordinators named in the
    settings ("platform:user"), told with the others when a new author's first push waits
    for a look."""

    per_day: int
    named_coordinators: Collection[str] = ()


async def request_push(
    services: Services, event: Event, limits: PushLimits, *, approved: bool = False
) -> str:
    """Push the initiative now, or say why it waits. Returns the new `push_state`."""
    uow = services.uow
    now = services.now()
    author = event.created_by_id
    if event.status != EventStatus.PUBLISHED or author is None:
        event.push_state = PushState.NONE
        return event.push_state
    if not approved and not await uow.initiatives.ever_pushed(author):
        if event.push_state != PushState.AWAITING_APPROVAL:
            event.push_state = PushState.AWAITING_APPROVAL
            await tell_coordinators(services, event, named_coordinators=limits.named_coordinators)
        return event.push_state
    earlier = await uow.initiatives.pushes_since(author, now - DAY)
    if len(earlier) >= limits.per_day:
        event.push_state = PushState.DEFERRED
        # the day counts from the push that would fall out of the window first
        first_out = earlier[len(earlier) - limits.per_day] if limits.per_day else now
        event.push_after = first_out + DAY
        return event.push_state
    await publish(services, event)
    event.push_state = PushState.PUSHED
    event.pushed_at = now
    event.push_after = None
    return event.push_state


async def tell_coordinators(
    services: Services,
    event: Event,
    *,
    named_coordinators: Collection[str] = (),
) -> int:
    """A word to every coordinator, however they became one (named in the settings, granted
    on the command line, or by a code), that a new author's initiative waits for a look."""
    uow = services.uow
    ids = [person.id for person in await uow.persons.coordinators(named_coordinators)]
    notifier = Notifier(services)
    return await notifier.tell(
        [pid for pid in ids if pid != event.created_by_id],
        lambda tr: tr.gettext(
            N_("A new initiative waits for a coordinator to look: {title}. See /initiatives.")
        ).format(title=event.title),
        key=lambda person: f"queue:{event.id}:{person.id}",
        kind="initiative",
        batch=f"ini:{event.id}",
        event=event,
    )


async def push_deferred(services: Services, per_day: int) -> int:
    """Deferred pushes whose day has come (EventJobs runs this when `next_push_due` says)."""
    uow = services.uow
    now = services.now()
    pushed = 0
    for event in await uow.initiatives.deferred_due(now):
        state = await request_push(services, event, PushLimits(per_day), approved=True)
        pushed += state == PushState.PUSHED
    return pushed


async def next_push_due(services: Services, after: datetime | None = None) -> datetime | None:
    """When the first deferred push (after `after`) may go."""
    return await services.uow.initiatives.next_deferred_push(services.now(), after)


def moderator_status(tr: Translator, event: Event, timezone: str) -> str:
    """Where an initiative stands, told to a coordinator (not in the author's words)."""
    if event.status == EventStatus.HIDDEN or event.push_state not in (
        PushState.AWAITING_APPROVAL,
        PushState.DEFERRED,
    ):
        return initiative_status(tr, event, timezone)
    if event.push_state == PushState.AWAITING_APPROVAL:
        return tr.gettext(
            N_(
                "The author's first initiative: it is on the list, and it goes to people who "
                "want to hear about initiatives once a coordinator has looked at it."
            )
        )
    assert event.push_after is not None
    return tr.gettext(
        N_("The author has already sent one today, so it goes to people {when}.")
    ).format(when=tr.format_datetime(event.push_after, timezone))


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

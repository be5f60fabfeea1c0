"""What a coordinator can do about a citizen's initiative: let its first push go out, back
it (with a note, perhaps sent wider), hide it with a reason, show it again.

Each is written to `moderation_log`; the author is told, and so are those who joined when
it goes off or comes back. The caller has checked that the step makes sense now.
"""

from __future__ import annotations

from collections.abc import Callable

from conversations.core.i18n import N_, Translator
from conversations.core.services import Services
from conversations.events.rules.invitations import (
    batch_invitations,
    publish,
    refresh_pending_invitations,
)
from conversations.events.rules.notifier import Notifier, concerned_answers, person_ids_of
from conversations.events.rules.reminders import sync_reminders
from conversations.initiatives.rules.pushes import PushLimits, request_push
from storage.models import Event, EventStatus, PushState
from storage.repositories.audiences import AUDIENCE_INITIATIVE
from storage.repositories.batches import again_batch


async def approve(services: Services, event: Event, moderator_id: int, limits: PushLimits) -> None:
    """A new author's first push, looked at: it goes out (within the author's limits)."""
    await services.uow.moderation.log(moderator_id, "approve", event.id)
    await request_push(services, event, limits, approved=True)


async def back(
    services: Services,
    event: Event,
    moderator_id: int,
    limits: PushLimits,
    *,
    note: str,
    wider: bool,
) -> None:
    """The municipality's mark on it, with what it brings (`note`); `wider` sends it to
    everyone who wants to hear about initiatives, whatever its interests and areas."""
    uow = services.uow
    event.backed_by_id = moderator_id
    event.backing_note = note
    uow.events.touch(event)
    await uow.moderation.log(moderator_id, "back", event.id, note)
    if event.push_state == PushState.AWAITING_APPROVAL:  # backing it is looking at it
        await approve(services, event, moderator_id, limits)
    if wider:
        event.audience = {**event.audience, "kind": AUDIENCE_INITIATIVE, "wider": True}
        await uow.moderation.log(moderator_id, "push_wider", event.id)
        await publish(services, event)
        event.pushed_at = event.pushed_at or services.now()
        event.push_state = PushState.PUSHED
    await refresh_pending_invitations(services, event)

    def render(tr: Translator) -> str:
        text = tr.gettext(
            N_("Good news: the municipality backs your initiative {title}! 🏛")
        ).format(title=event.title)
        if note:
            text += "\n" + tr.gettext(N_("What they bring: {note}")).format(note=note)
        return text

    await tell_author(services, event, render, f"backed:{event.id}")


async def hide(services: Services, event: Event, moderator_id: int, reason: str) -> None:
    """Off the list and off for those who joined; the author is told why."""
    uow = services.uow
    event.status = EventStatus.HIDDEN
    event.hidden_reason = reason
    event.push_state = PushState.NONE
    uow.events.touch(event)
    await uow.events.cancel_reminders(event.id)
    await uow.broadcasts.cancel_pending_outbox(
        [
            batch_invitations(event.id),
            again_batch(batch_invitations(event.id)),
            f"wl:{event.id}",
            f"rem:{event.id}",
        ]
    )
    entry = await uow.moderation.log(moderator_id, "hide", event.id, reason)

    def render(tr: Translator) -> str:
        return tr.gettext(
            N_(
                "A coordinator has hidden your initiative {title}, so it is no longer shown. "
                "The reason: {reason}"
            )
        ).format(title=event.title, reason=reason)

    # keyed by the log entry: hidden again after being shown again is news again
    await tell_author(services, event, render, f"hidden:{event.id}:{entry.id}")
    # those who joined hear it is off (the reason is for the author only)
    joined = [
        pid
        for pid in person_ids_of(await concerned_answers(uow, event))
        if pid != event.created_by_id
    ]
    await Notifier(services).tell(
        joined,
        lambda tr: tr.gettext(
            N_("Sorry: {title} has been taken off the list of initiatives, so it is off.")
        ).format(title=event.title),
        key=lambda person: f"hiddenjoined:{event.id}:{entry.id}:{person.id}",
        kind="initiative",
        batch=f"ini:{event.id}",
        event=event,
    )


async def unhide(services: Services, event: Event, moderator_id: int, limits: PushLimits) -> None:
    """Back on the list: reminders as before, and a word to the author and those who joined."""
    uow = services.uow
    now = services.now()
    event.status = EventStatus.PUBLISHED
    event.hidden_reason = None
    uow.events.touch(event)
    entry = await uow.moderation.log(moderator_id, "unhide", event.id)
    coming = await concerned_answers(uow, event)
    for rsvp in coming:  # hiding cancelled their reminders
        assert rsvp.person_id is not None
        await sync_reminders(uow, event, rsvp.person_id, rsvp.answer, now)
    if event.pushed_at is not None:
        event.push_state = PushState.PUSHED  # it went out before it was hidden: not again
    else:  # as when it was posted: within the author's limits, or to a coordinator first
        await request_push(services, event, limits)

    def render(tr: Translator) -> str:
        return tr.gettext(
            N_(
                "Good news: a coordinator has made your initiative {title} visible again. "
                "It is back on the list of initiatives."
            )
        ).format(title=event.title)

    await tell_author(services, event, render, f"shown:{event.id}:{entry.id}")
    # those who joined were told it was off
    await Notifier(services).tell(
        [pid for pid in person_ids_of(coming) if pid != event.created_by_id],
        lambda tr: tr.gettext(
            N_(
                "Good news: {title} is back on the list of initiatives, so it is on again. "
                "Your answer from before still stands."
            )
        ).format(title=event.title),
        key=lambda person: f"shownjoined:{event.id}:{entry.id}:{person.id}",
        kind="initiative",
        batch=f"ini:{event.id}",
        event=event,
    )


async def tell_author(
    services: Services, event: Event, render: Callable[[Translator], str], key: str
) -> None:
    if event.created_by_id is None:
        return
    await Notifier(services).tell(
        [event.created_by_id],
        render,
        key=lambda person: f"{key}:{person.id}",
        kind="initiative",
        batch=f"ini:{event.id}",
        event=event,
    )

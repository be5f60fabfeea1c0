"""Changing and cancelling a published event: the rows that follow (reminders, offers,
waiting invitations) and the word to everyone concerned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from conversations.core.i18n import N_, Translator
from conversations.core.services import Services
from conversations.events.rules.attendee_messages import next_batch
from conversations.events.rules.change_notices import edit_unanswered_invitations, tell_of_change
from conversations.events.rules.invitations import batch_invitations, refresh_pending_invitations
from conversations.events.rules.notifier import Notifier, concerned_answers, person_ids_of
from conversations.events.rules.reminders import sync_reminders
from conversations.events.rules.wording import event_when, format_span
from storage.models import Event, EventStatus
from storage.repositories.batches import again_batch


@dataclass(frozen=True, slots=True)
class EventChange:
    """A new time or a new place for an event; what does not change is left empty."""

    start: datetime | None = None
    end: datetime | None = None
    place: str = ""
    latitude: float | None = None
    longitude: float | None = None


def change_text(tr: Translator, timezone: str, event: Event, change: EventChange) -> str:
    """The change spelled out: old -> new, in the reader's language."""
    lines = [tr.gettext(N_("{title} has changed:")).format(title=event.title)]
    if change.start:
        lines.append(
            tr.gettext(N_("Time: {old} → {new}")).format(
                old=event_when(tr, event, timezone),
                new=format_span(tr, change.start, change.end, timezone),
            )
        )
    if change.place:
        lines.append(
            tr.gettext(N_("Place: {old} → {new}")).format(old=event.place or "–", new=change.place)
        )
    return "\n".join(lines)


def _change_event(event: Event, change: EventChange) -> None:
    if change.start:
        if event.invite_due_at is not None:  # a meeting not invited yet: its lead moves along
            event.invite_due_at += change.start - event.starts_at
        event.starts_at = change.start
        event.ends_at = change.end
        event.revision += 1
    if change.place:
        event.place = change.place
        if change.latitude is not None:
            event.latitude, event.longitude = change.latitude, change.longitude


async def apply_change(services: Services, event: Event, change: EventChange) -> int:
    """Save the new time or place and tell everyone concerned; returns how many."""
    uow, now, translations = services.uow, services.now(), services.translations
    rendered = {
        lang: change_text(translations.get(lang), services.timezone, event, change)
        for lang in translations.languages
    }
    _change_event(event, change)
    uow.events.touch(event)
    rows = await concerned_answers(uow, event)
    if change.start:
        for row in rows:
            if row.offered_until is not None and row.offered_until > event.starts_at:
                row.offered_until = event.starts_at  # an offer never runs past the start
            if row.person_id is not None:
                await sync_reminders(uow, event, row.person_id, row.answer, now)
    await uow.flush()
    await refresh_pending_invitations(services, event)
    batch = await next_batch(uow, f"chg:{event.id}:")
    await edit_unanswered_invitations(services, event, batch, rendered)
    return await tell_of_change(services, event, rows, rendered, batch)


async def cancel_event(services: Services, event: Event, reason: str = "") -> int:
    """Cancel it: no more reminders or invitations; everyone concerned is told, with the
    coordinator's `reason` if one was given. Returns how many."""
    uow, tz = services.uow, services.timezone
    event.status = EventStatus.CANCELLED
    event.cancelled_at = services.now()
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
    rows = await concerned_answers(uow, event)
    for row in rows:
        row.offered_until = None
    notifier = Notifier(services)

    def render(tr: Translator) -> str:
        text = tr.gettext(
            N_("Sorry: {title} ({when}) has been cancelled. We hope to see you another time. 🌿")
        ).format(title=event.title, when=event_when(tr, event, tz))
        if reason:
            text += "\n\n" + tr.gettext(N_("Why: {reason}")).format(reason=reason)
        return text

    return await notifier.tell(
        person_ids_of(rows),
        render,
        key=lambda person: f"cancel:{event.id}:{person.id}",
        kind="cancel",
        batch=f"cancel:{event.id}",
        event=event,
    )

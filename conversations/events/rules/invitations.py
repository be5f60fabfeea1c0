"""Invitations: the card a person gets (text and buttons, in their language), publishing an
event to its audience through the outbox, and who may answer it.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict
from datetime import datetime
from typing import Any

from conversations.core.dates import next_allowed_time
from conversations.core.i18n import N_, Translations, Translator
from conversations.core.messages import ChatRef, Choice, OutMessage, message_to_payload
from conversations.core.prompts import offer_to
from conversations.core.services import Services
from conversations.events.rules.capacity import has_open_tasks, missing_hands, places_left
from conversations.events.rules.notifier import choice_for
from conversations.events.rules.wording import event_when, map_link
from storage.models import (
    Event,
    EventStatus,
    OutboxStatus,
    Person,
)
from storage.repositories.batches import again_batch
from storage.unit_of_work import UnitOfWork

RSVP_FLOW = "rsvp"


def batch_invitations(event_id: int) -> str:
    return f"bc:{event_id}"


async def invitation_text(uow: UnitOfWork, tr: Translator, event: Event, timezone: str) -> str:
    lines = [f"🌿 {event.title}"]
    if event.invitation:
        lines += ["", event.invitation]
    if event.backed_by_id is not None or event.backing_note:
        lines += ["", "🏛 " + tr.gettext(N_("Backed by the municipality"))]
        if event.backing_note:
            lines.append(event.backing_note)
    if event.idea:
        lines += ["", "💡 " + tr.gettext(N_("An idea: no date yet."))]
    else:
        lines += ["", "🗓 " + event_when(tr, event, timezone)]
    if event.place:
        lines.append("📍 " + event.place)
    link = map_link(event)
    if link:
        lines.append("🗺 " + link)
    left = await places_left(uow, event)
    if left is not None:
        if left > 0:
            lines.append(
                "👥 " + tr.ngettext("{n} place left", "{n} places left", left).format(n=left)
            )
        else:
            lines.append("👥 " + tr.gettext(N_("Full: you can join the waiting list.")))
    if event.guests_allowed:
        lines.append("➕ " + tr.gettext(N_("You are welcome to bring a guest.")))
    held = await uow.pledges.counts(event.id)
    missing = [(t, missing_hands(t, held.get(t.id, 0))) for t in await uow.events.tasks(event.id)]
    missing = [(t, n) for t, n in missing if n > 0]
    if missing:
        lines += ["", tr.gettext(N_("Still needs a hand:"))]
        lines += [
            "• "
            + tr.ngettext("{task} ({n} missing)", "{task} ({n} missing)", n).format(
                task=t.title, n=n
            )
            for t, n in missing
        ]
    return "\n".join(lines)


def invitation_choices(
    tr: Translator, translations: Translations, event: Event, *, tasks: bool = False
) -> tuple[Choice, ...]:
    choices = [
        choice_for(tr, translations, "yes", N_("Count me in"), "✅", "ja", "yes"),
        choice_for(tr, translations, "maybe", N_("Maybe"), "🤔"),
        choice_for(tr, translations, "no", N_("Can't come"), "❌", "nej", "no"),
    ]
    if event.guests_allowed:
        choices.append(choice_for(tr, translations, "guest", N_("+1 guest"), "➕"))
    if tasks:
        choices.append(choice_for(tr, translations, "tasks", N_("Count me in for a task"), "🙋"))
    choices += [
        choice_for(tr, translations, "details", N_("Details"), "ℹ️"),
        choice_for(tr, translations, "calendar", N_("Calendar"), "📅"),
    ]
    return tuple(choices)


async def invitation_message(
    services: Services,
    event: Event,
    person: Person,
    recipient: ChatRef,
    *,
    intro: str | None = None,
) -> OutMessage:
    """The invitation for one person, with its buttons stored for that person only."""
    uow = services.uow
    tr = services.translations.get(person.language)
    text = await invitation_text(uow, tr, event, services.timezone)
    if intro:
        text = intro + "\n\n" + text
    tasks = await has_open_tasks(uow, event)
    message = OutMessage(
        text, choices=invitation_choices(tr, services.translations, event, tasks=tasks)
    )
    return await offer_to(
        uow,
        recipient,
        person.id,
        RSVP_FLOW,
        message,
        state="invite",
        context={"event_id": event.id, "kind": "invite"},
    )


def new_prompt_id() -> str:
    return secrets.token_urlsafe(6)


async def publish(services: Services, event: Event) -> int:
    """Mark published and enqueue one invitation per person in the audience.

    Each invitation is rendered once per language; every recipient gets their own stored
    prompt (so only they can answer it) and one outbox row keyed `invite:<event>:<person>`.
    """
    uow = services.uow
    now = services.now()
    event.status = EventStatus.PUBLISHED
    event.published_at = now
    send_at = max(event.send_at or now, now)
    ids = await uow.audiences.audience_ids(event.audience)
    if ids is not None and not ids:
        return 0
    rendered: dict[str, tuple[str, tuple[Choice, ...], list[dict[str, Any]]]] = {}
    prompts: list[dict[str, Any]] = []
    outbox: list[dict[str, Any]] = []
    invitations: list[dict[str, Any]] = []
    tasks = await has_open_tasks(uow, event)
    for person, identity in await uow.audiences.reachable(ids):
        if person.id == event.created_by_id:
            continue
        if person.language not in rendered:
            tr = services.translations.get(person.language)
            choices = invitation_choices(tr, services.translations, event, tasks=tasks)
            rendered[person.language] = (
                await invitation_text(uow, tr, event, services.timezone),
                choices,
                [asdict(choice) for choice in choices],
            )
        text, choices, stored_choices = rendered[person.language]
        prompt_id = new_prompt_id()
        prompts.append(
            {
                "id": prompt_id,
                "platform": identity.platform,
                "chat_id": identity.chat_id,
                "user_id": identity.user_id,
                "person_id": person.id,
                "flow": RSVP_FLOW,
                "state": "invite",
                "choices": stored_choices,
                "context": {"event_id": event.id, "kind": "invite"},
                "bound": False,
                "created_at": now,
            }
        )
        message = OutMessage(text, choices=choices, prompt_id=prompt_id)
        outbox.append(
            {
                "dedupe_key": f"invite:{event.id}:{person.id}",
                "person_id": person.id,
                "platform": identity.platform,
                "chat_id": identity.chat_id,
                "user_id": identity.user_id,
                "kind": "invitation",
                "batch": batch_invitations(event.id),
                "payload": message_to_payload(message),
                "status": OutboxStatus.PENDING,
                "attempts": 0,
                "next_attempt_at": next_allowed_time(person, send_at, services.timezone),
                "expires_at": event.starts_at,
                "created_at": now,
            }
        )
        invitations.append(
            {"event_id": event.id, "person_id": person.id, "via": "broadcast", "created_at": now}
        )
    return await uow.broadcasts.broadcast(prompts=prompts, outbox=outbox, invitations=invitations)


async def refresh_pending_invitations(services: Services, event: Event) -> int:
    """Invitations not yet delivered get the event's new text (same buttons, same prompt),
    those sent again too."""
    uow = services.uow
    batch = batch_invitations(event.id)
    rows = [
        *await uow.broadcasts.pending_outbox(batch),
        *await uow.broadcasts.pending_outbox(again_batch(batch)),
    ]
    for row in rows:
        person = await uow.persons.get(row.person_id) if row.person_id is not None else None
        if person is None:
            continue
        text = await invitation_text(
            uow, services.translations.get(person.language), event, services.timezone
        )
        row.payload = {**row.payload, "text": text}
        row.expires_at = event.starts_at
    return len(rows)


async def may_answer(uow: UnitOfWork, event: Event, person: Person) -> bool:
    """Whether this person was shown this event (the server's check; buttons prove nothing)."""
    if event.created_by_id == person.id:
        return True
    if await uow.events.is_invited(event.id, person.id):
        return True
    return await uow.events.rsvp(event.id, person.id) is not None


def is_open(event: Event, now: datetime) -> bool:
    return event.status == EventStatus.PUBLISHED and event.starts_at > now

"""Invitations: the card a person gets (text and buttons, in their language), publishing an
event to its audience through the outbox, and who may answer it.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, replace
from datetime import datetime
from typing import Any

from conversations.core.dates import next_allowed_time
from conversations.core.i18n import N_, Translations, Translator
from conversations.core.messages import PHOTO, ChatRef, Choice, OutMessage, message_to_payload
from conversations.core.prompts import FORGIVING, TYPED_HINT, offer_to
from conversations.core.services import Services
from conversations.core.words import COMING_WORDS, MAYBE_WORDS, NOT_COMING_WORDS
from conversations.events.rules.access import access_lines
from conversations.events.rules.capacity import has_open_tasks, missing_hands, places_left
from conversations.events.rules.notifier import choice_for
from conversations.events.rules.photos import invitation_photo, photo_reference, photo_to_show
from conversations.events.rules.wording import event_when, map_link
from storage.models import (
    Event,
    EventStatus,
    OutboxStatus,
    Person,
    Prompt,
    Rsvp,
    RsvpAnswer,
)
from storage.repositories.batches import again_batch
from storage.unit_of_work import UnitOfWork

RSVP_FLOW = "rsvp"


def batch_invitations(event_id: int) -> str:
    return f"bc:{event_id}"


# The payload key of a broadcast invitation: its event, so the card is drawn again with the
# places and hands of the moment it goes out (`rules/cards_at_send.py`).
CARD_OF_EVENT = "card_of_event"
# What such a row says above the card, kept when it is drawn again ("Changed since ...").
CARD_INTRO = "card_intro"


# How a typed reply under an invitation is read (see `Engine.answer_latest_offer`).
INVITATION_HINT = N_("Answer yes, maybe or no, or tap your answer. /help shows all I can do.")


def invite_context(event_id: int) -> dict[str, Any]:
    """The stored context of an invitation's buttons, for one person."""
    return {"event_id": event_id, "kind": "invite", FORGIVING: True, TYPED_HINT: INVITATION_HINT}


async def invitation_text(
    uow: UnitOfWork, tr: Translator, event: Event, timezone: str, *, rsvp: Rsvp | None = None
) -> str:
    """The card's text; with the reader's `rsvp`, what is full reads as it is for them."""
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
    lines += access_lines(tr, list(event.access_features or []), event.practical_note or "")
    left = await places_left(uow, event)
    if left is not None:
        if left > 0:
            lines.append(
                "👥 " + tr.ngettext("{n} place left", "{n} places left", left).format(n=left)
            )
        elif rsvp is not None and rsvp.answer == RsvpAnswer.YES:
            lines.append("👥 " + tr.gettext(N_("Full now, and you have your place.")))
        elif rsvp is not None and rsvp.answer == RsvpAnswer.WAITLISTED:
            lines.append("👥 " + tr.gettext(N_("Full now: you are on the waiting list.")))
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
    tr: Translator,
    translations: Translations,
    event: Event,
    *,
    tasks: bool = False,
    rsvp: Rsvp | None = None,
) -> tuple[Choice, ...]:
    """The card's buttons; once answered (`rsvp`), those that still make sense: the answers
    (the one given ticked), the guest (saying what a tap will do), a task, details, the
    calendar."""
    answer = RsvpAnswer(rsvp.answer) if rsvp is not None else None
    answers = [
        choice_for(tr, translations, "yes", N_("Count me in"), "✅", *COMING_WORDS),
        choice_for(tr, translations, "maybe", N_("Maybe"), "🤔", *MAYBE_WORDS),
        choice_for(tr, translations, "no", N_("Can't come"), "❌", *NOT_COMING_WORDS),
    ]
    # all three stay (a second "yes" typed or tapped is harmless); the one given is ticked
    choices = [replace(c, label="✓ " + c.label) if c.id == answer else c for c in answers]
    if event.guests_allowed:
        choices.append(_guest_choice(tr, translations, rsvp))
    if tasks and answer != RsvpAnswer.NO:
        choices.append(choice_for(tr, translations, "tasks", N_("Count me in for a task"), "🙋"))
    choices += [
        choice_for(tr, translations, "details", N_("Details"), "ℹ️"),
        choice_for(tr, translations, "calendar", N_("Calendar"), "📅"),
    ]
    return tuple(choices)


def _guest_choice(tr: Translator, translations: Translations, rsvp: Rsvp | None) -> Choice:
    """The guest button says what a tap does: a guest is a toggle on a yes."""
    guest_words = ("gæst", "en gæst", "+1", "guest", "a guest")
    if rsvp is not None and rsvp.answer == RsvpAnswer.YES and rsvp.guests:
        return choice_for(tr, translations, "guest", N_("Come without my guest"), "➖")
    if rsvp is not None and rsvp.answer == RsvpAnswer.YES:
        return choice_for(tr, translations, "guest", N_("Bring a guest (+1)"), "➕", *guest_words)
    return choice_for(tr, translations, "guest", N_("Count me and a guest in"), "➕", *guest_words)


async def invitation_message(
    services: Services,
    event: Event,
    person: Person,
    recipient: ChatRef,
    *,
    intro: str | None = None,
    with_photo: bool = True,
) -> OutMessage:
    """The invitation for one person, with its buttons stored for that person only, after
    the event's photo (`with_photo`; as a broadcast sends it)."""
    uow = services.uow
    tr = services.translations.get(person.language)
    rsvp = await uow.events.rsvp(event.id, person.id)
    text = await invitation_text(uow, tr, event, services.timezone, rsvp=rsvp)
    said = answer_line(tr, rsvp)
    text = "\n\n".join(part for part in (intro, said, text) if part)
    tasks = await has_open_tasks(uow, event)
    choices = invitation_choices(tr, services.translations, event, tasks=tasks, rsvp=rsvp)
    photo = await photo_to_show(uow, event.id, services.now()) if with_photo else None
    return await offer_to(
        uow,
        recipient,
        person.id,
        RSVP_FLOW,
        OutMessage(text, choices=choices, stored_photo=photo),
        state="invite",
        context=invite_context(event.id),
    )


def answer_line(tr: Translator, rsvp: Rsvp | None) -> str | None:
    """ "✓ You said: count me in (+1)", for a card shown to someone who has answered."""
    if rsvp is None:
        return None
    label = {
        RsvpAnswer.YES: N_("You said: count me in"),
        RsvpAnswer.MAYBE: N_("You said: maybe"),
        RsvpAnswer.NO: N_("You said: can't come"),
        RsvpAnswer.WAITLISTED: N_("You are on the waiting list"),
    }[RsvpAnswer(rsvp.answer)]
    return "✓ " + tr.gettext(label) + (" (+1)" if rsvp.guests else "")


async def answered_card(
    services: Services, event: Event, person: Person, prompt: Prompt
) -> OutMessage:
    """The invitation a person answered, as it now reads: their answer, current places and
    hands, and the buttons that still make sense, kept on the same stored question."""
    uow = services.uow
    tr = services.translations.get(person.language)
    rsvp = await uow.events.rsvp(event.id, person.id)
    text = await invitation_text(uow, tr, event, services.timezone, rsvp=rsvp)
    said = answer_line(tr, rsvp)
    tasks = await has_open_tasks(uow, event)
    choices = invitation_choices(tr, services.translations, event, tasks=tasks, rsvp=rsvp)
    prompt.choices = [choice.as_record() for choice in choices]
    return OutMessage(
        "\n\n".join(part for part in (said, text) if part), choices=choices, prompt_id=prompt.id
    )


def new_prompt_id() -> str:
    return secrets.token_urlsafe(6)


async def publish(services: Services, event: Event) -> int:
    """Mark published and enqueue one invitation per person in the audience.

    Each invitation is rendered once per language; every recipient gets their own stored
    prompt (so only they can answer it) and one outbox row keyed `invite:<event>:<person>`,
    naming the event, so its places and hands are drawn again when it goes out.
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
    photo = await invitation_photo(uow, event.id)
    marks: dict[str, Any] = {CARD_OF_EVENT: event.id}
    if photo is not None:
        marks[PHOTO] = photo_reference(photo)
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
                "context": invite_context(event.id),
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
                "payload": {**message_to_payload(message), **marks},
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

"""Asking for feedback after an event, and one gentle reminder to those who stopped half-way."""

from __future__ import annotations

from datetime import datetime, timedelta

from conversations.core.chunks import Chunk
from conversations.core.dates import next_allowed_time
from conversations.core.i18n import N_
from conversations.core.messages import ChatRef, OutMessage
from conversations.core.prompts import offer_to
from conversations.core.services import Services
from conversations.events.rules.notifier import Notifier, choice_for
from conversations.feedback.rules.snaps import FeedbackOptions
from conversations.feedback.rules.windows import FEEDBACK_FLOW, event_end, feedback_open
from storage.models import (
    Event,
    Identity,
)

FEEDBACK_CHUNK = 100  # people asked (or reminded) in one transaction


async def ask_after_events(
    services: Services, options: FeedbackOptions, limit: int = FEEDBACK_CHUNK
) -> Chunk:
    """Ask up to `limit` of those who said yes, `delay` after the end (until the window
    closes); `more` says whether others are left to ask."""
    uow = services.uow
    notifier = Notifier(services)
    now = services.now()
    asked = 0
    budget = limit
    since = now - options.window - timedelta(days=2)
    for event in await uow.feedback.started_between(since, now):
        end = event_end(event)
        if not (end + options.delay <= now < end + options.window):
            continue
        pending = await uow.feedback.to_ask(event.id, budget)
        requests = await uow.feedback.ensure_requests(event.id, pending, "rsvp")
        for person, identity in await uow.audiences.reachable(pending):
            request = requests[person.id]
            request.asked_at = now
            if request.started_at is not None:
                continue  # already answering, by the link: no need to ask
            tr = notifier.tr(person)
            text = tr.gettext(
                N_(
                    "Hello! Thank you for coming to {title} ({when}). 🌿 Would you tell us "
                    "how it was for you? It takes two minutes, and you decide what to answer."
                )
            ).format(title=event.title, when=notifier.when(tr, event))
            message = await _with_buttons(services, person.id, identity, event, text)
            if await notifier.enqueue(
                person,
                identity,
                message,
                key=f"feedback:{event.id}:{person.id}",
                kind="feedback",
                batch=f"fb:{event.id}",
                not_before=next_allowed_time(person, now, services.timezone),
                expires_at=end + options.window,
            ):
                asked += 1
        budget -= len(pending)
        if budget <= 0:
            return Chunk({"feedback_asked": asked}, more=True)
    return Chunk({"feedback_asked": asked}, more=False)


async def remind_half_way(
    services: Services, options: FeedbackOptions, limit: int = FEEDBACK_CHUNK
) -> Chunk:
    """One gentle reminder to up to `limit` of those who stopped half-way."""
    uow = services.uow
    notifier = Notifier(services)
    now = services.now()
    reminded = 0
    requests = await uow.feedback.left_half_way(now - options.reminder_after, limit)
    reach = {
        person.id: (person, identity)
        for person, identity in await uow.audiences.reachable(
            sorted({r.person_id for r in requests if r.person_id is not None})
        )
    }
    for request in requests:
        found = await uow.events.get(request.event_id)
        if found is None or request.person_id is None:
            continue
        event = found
        request.reminded_at = now
        if not feedback_open(event, now, options):
            continue
        if request.person_id not in reach:
            continue
        person, identity = reach[request.person_id]
        tr = notifier.tr(person)
        text = tr.gettext(
            N_(
                "You were telling us about {title}, and everything you said is saved. "
                "Would you like to finish? It only takes a moment."
            )
        ).format(title=event.title)
        message = await _with_buttons(services, person.id, identity, event, text)
        if await notifier.enqueue(
            person,
            identity,
            message,
            key=f"feedbackrem:{event.id}:{person.id}",
            kind="feedback",
            batch=f"fb:{event.id}",
            not_before=next_allowed_time(person, now, services.timezone),
            expires_at=event_end(event) + options.window,
        ):
            reminded += 1
    return Chunk({"feedback_reminded": reminded}, more=len(requests) == limit)


async def next_feedback_due(
    services: Services, options: FeedbackOptions, after: datetime | None = None
) -> datetime | None:
    """When the next ask (an hour, say, after an event with someone to ask ends) or the
    next reminder for feedback left half-way falls due (after `after`, if given)."""
    uow = services.uow
    now = services.now()
    moments = [
        event_end(event) + options.delay
        for event in await uow.feedback.events_to_ask(now - options.window - timedelta(days=2))
        if now < event_end(event) + options.window
    ]
    if after is not None:
        moments = [moment for moment in moments if moment > after]
    touched = await uow.feedback.first_left_half_way(
        None if after is None else after - options.reminder_after
    )
    if touched is not None:
        moments.append(touched + options.reminder_after)
    return min(moments, default=None)


async def _with_buttons(
    services: Services, person_id: int, identity: Identity, event: Event, text: str
) -> OutMessage:
    """The invitation with its two buttons, stored so a tap later is checked (`detached`)."""
    uow, translations = services.uow, services.translations
    person = await uow.persons.get(person_id)
    assert person is not None
    tr = services.tr(person)
    message = OutMessage(
        text,
        choices=(
            choice_for(tr, translations, "start", N_("Yes, let's do it"), "✍️", "ja", "yes"),
            choice_for(tr, translations, "later", N_("Not now"), "⏰", "nej", "no"),
        ),
    )
    recipient = ChatRef(identity.platform, identity.chat_id, identity.user_id)
    return await offer_to(
        uow,
        recipient,
        person_id,
        FEEDBACK_FLOW,
        message,
        state="invite",
        context={"event_id": event.id, "kind": "invite"},
    )

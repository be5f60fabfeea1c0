"""Asking for feedback after an event, and one gentle reminder to those who stopped half-way."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from conversations.core.chunks import Chunk
from conversations.core.dates import next_allowed_time
from conversations.core.i18n import N_
from conversations.core.messages import Choice, OutMessage, message_to_payload
from conversations.core.services import Services
from conversations.events.rules.invitations import new_prompt_id
from conversations.events.rules.notifier import choice_for
from conversations.events.rules.wording import event_when
from conversations.feedback.rules.snaps import FeedbackOptions
from conversations.feedback.rules.windows import FEEDBACK_FLOW, event_end, feedback_open
from storage.models import (
    Event,
    Identity,
    OutboxStatus,
    Person,
)

FEEDBACK_CHUNK = 100  # people asked (or reminded) in one transaction

ASK = N_(
    "Hello! Thank you for coming to {title} ({when}). 🌿 Would you tell us "
    "how it was for you? It takes two minutes, and you decide what to answer."
)
RESUME = N_(
    "You were telling us about {title}, and everything you said is saved. "
    "Would you like to finish? It only takes a moment."
)


async def ask_after_events(
    services: Services, options: FeedbackOptions, limit: int = FEEDBACK_CHUNK
) -> Chunk:
    """Ask up to `limit` of those who said yes, `delay` after the end (until the window
    closes); `more` says whether others are left to ask."""
    uow = services.uow
    now = services.now()
    asked = 0
    budget = limit
    since = now - options.window - timedelta(days=2)
    for event in await uow.feedback.started_between(since, now):
        end = event_end(event)
        if not (end + options.delay <= now < end + options.window):
            continue
        pending = await uow.feedback.to_ask(event.id, budget)
        answering = await uow.feedback.mark_asked(event.id, pending, "rsvp")
        invite = _Invitations(services, event, now, expires_at=end + options.window)
        for person, identity in await uow.audiences.reachable(pending):
            if person.id in answering:
                continue  # already answering, by the link: no need to ask
            invite.add(person, identity, ASK, key=f"feedback:{event.id}:{person.id}")
        asked += await invite.store()
        budget -= len(pending)
        if budget <= 0:
            return Chunk({"feedback_asked": asked}, more=True)
    return Chunk({"feedback_asked": asked}, more=False)


async def remind_half_way(
    services: Services, options: FeedbackOptions, limit: int = FEEDBACK_CHUNK
) -> Chunk:
    """One gentle reminder to up to `limit` of those who stopped half-way."""
    uow = services.uow
    now = services.now()
    requests = await uow.feedback.left_half_way(now - options.reminder_after, limit)
    reach = {
        person.id: (person, identity)
        for person, identity in await uow.audiences.reachable(
            sorted({r.person_id for r in requests if r.person_id is not None})
        )
    }
    invitations: dict[int, _Invitations] = {}
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
        if event.id not in invitations:
            expires_at = event_end(event) + options.window
            invitations[event.id] = _Invitations(services, event, now, expires_at=expires_at)
        invitations[event.id].add(
            person, identity, RESUME, key=f"feedbackrem:{event.id}:{person.id}"
        )
    reminded = sum([await invite.store() for invite in invitations.values()])
    return Chunk({"feedback_reminded": reminded}, more=len(requests) == limit)


async def next_feedback_due(
    services: Services, options: FeedbackOptions, after: datetime | None = None
) -> datetime | None:
    """When the next ask (an hour, say, after an event with someone to ask ends) or the
    next reminder for feedback left half-way falls due (after `after`, if given).

    Only the events in order of their ask time are checked for someone left to ask, up to the
    first that has: usually one cheap query, however many asked events lie behind.
    """
    uow = services.uow
    now = services.now()
    asks = sorted(
        (event_end(event) + options.delay, event.id)
        for event in await uow.feedback.published_since(now - options.window - timedelta(days=2))
        if now < event_end(event) + options.window
    )
    moments = []
    for moment, event_id in asks:
        if after is not None and moment <= after:
            continue  # its time came before the last run, which asked all it could
        if await uow.feedback.anyone_to_ask(event_id):
            moments.append(moment)
            break
    touched = await uow.feedback.first_left_half_way(
        None if after is None else after - options.reminder_after
    )
    if touched is not None:
        moments.append(touched + options.reminder_after)
    return min(moments, default=None)


@dataclass
class _Invitations:
    """Asking many people about one event at once: each text and its two buttons made once
    per language, every person's buttons stored for them (so a tap later is checked, in
    `detached`), and all the rows written in bulk."""

    services: Services
    event: Event
    now: datetime
    expires_at: datetime
    _rendered: dict[tuple[str, str], tuple[str, tuple[Choice, ...]]] = field(default_factory=dict)
    _prompts: list[dict[str, Any]] = field(default_factory=list)
    _outbox: list[dict[str, Any]] = field(default_factory=list)

    def add(self, person: Person, identity: Identity, text: str, *, key: str) -> None:
        services, event = self.services, self.event
        if (text, person.language) not in self._rendered:
            tr = services.tr(person)
            when = event_when(tr, event, services.timezone)
            translations = services.translations
            self._rendered[(text, person.language)] = (
                tr.gettext(text).format(title=event.title, when=when),
                (
                    choice_for(tr, translations, "start", N_("Yes, let's do it"), "✍️", "ja", "yes"),
                    choice_for(tr, translations, "later", N_("Not now"), "⏰", "nej", "no"),
                ),
            )
        rendered, choices = self._rendered[(text, person.language)]
        prompt_id = new_prompt_id()
        self._prompts.append(
            {
                "id": prompt_id,
                "platform": identity.platform,
                "chat_id": identity.chat_id,
                "user_id": identity.user_id,
                "person_id": person.id,
                "flow": FEEDBACK_FLOW,
                "state": "invite",
                "choices": [choice.as_record() for choice in choices],
                "context": {"event_id": event.id, "kind": "invite"},
                "bound": False,
                "created_at": self.now,
            }
        )
        message = OutMessage(rendered, choices=choices, prompt_id=prompt_id)
        self._outbox.append(
            {
                "dedupe_key": key,
                "person_id": person.id,
                "platform": identity.platform,
                "chat_id": identity.chat_id,
                "user_id": identity.user_id,
                "kind": "feedback",
                "batch": f"fb:{event.id}",
                "payload": message_to_payload(message),
                "status": OutboxStatus.PENDING,
                "attempts": 0,
                "next_attempt_at": next_allowed_time(person, self.now, services.timezone),
                "expires_at": self.expires_at,
                "created_at": self.now,
            }
        )

    async def store(self) -> int:
        """Write what was added; returns how many messages are new in the outbox."""
        if not self._outbox:
            return 0
        return await self.services.uow.broadcasts.broadcast(
            prompts=self._prompts, outbox=self._outbox, invitations=()
        )

"""Telling other people: messages rendered in each reader's language and enqueued in the
outbox (never sent from here), in the caller's transaction, at a polite time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from conversations.core.dates import next_allowed_time
from conversations.core.flow import translated_choice
from conversations.core.i18n import Translator
from conversations.core.messages import OutMessage, message_to_payload
from conversations.core.services import Services
from conversations.events.rules.wording import event_when
from storage.models import (
    Event,
    Identity,
    Person,
    Rsvp,
    RsvpAnswer,
)
from storage.unit_of_work import UnitOfWork

QUIET_EXEMPT = timedelta(hours=3)  # reminders this close to the start ignore quiet hours


CONCERNED = (RsvpAnswer.YES, RsvpAnswer.MAYBE, RsvpAnswer.WAITLISTED)


# A choice for a reader other than the person we are talking to (an invitation's recipient).
choice_for = translated_choice


@dataclass
class Notifier:
    """Renders and enqueues messages for other people, in their language."""

    services: Services

    @property
    def uow(self) -> UnitOfWork:
        return self.services.uow

    def tr(self, person: Person) -> Translator:
        return self.services.tr(person)

    def when(self, tr: Translator, event: Event) -> str:
        return event_when(tr, event, self.services.timezone)

    async def enqueue(
        self,
        person: Person,
        identity: Identity,
        message: OutMessage,
        *,
        key: str,
        kind: str,
        batch: str | None,
        not_before: datetime | None = None,
        expires_at: datetime | None = None,
    ) -> bool:
        return await self.uow.outbox.enqueue(
            dedupe_key=key,
            person_id=person.id,
            platform=identity.platform,
            chat_id=identity.chat_id,
            user_id=identity.user_id,
            kind=kind,
            payload=message_to_payload(message),
            batch=batch,
            not_before=not_before,
            expires_at=expires_at,
        )

    async def tell(
        self,
        person_ids: Sequence[int],
        render: Callable[[Translator], str],
        *,
        key: Callable[[Person], str],
        kind: str,
        batch: str,
        event: Event,
    ) -> int:
        """A plain text to each reachable person; returns how many were enqueued.

        Quiet hours are kept unless the event is only hours away (see `polite_time`).
        """
        count = 0
        now = self.services.now()
        for person, identity in await self.uow.audiences.reachable(list(person_ids)):
            message = OutMessage(render(self.tr(person)))
            if await self.enqueue(
                person,
                identity,
                message,
                key=key(person),
                kind=kind,
                batch=batch,
                not_before=polite_time(person, now, event, self.services.timezone),
            ):
                count += 1
        return count


def polite_time(person: Person, now: datetime, event: Event, timezone: str) -> datetime:
    """Now, or after the person's quiet hours, unless the event is only hours away."""
    if event.starts_at - now <= QUIET_EXEMPT:
        return now
    return min(next_allowed_time(person, now, timezone), event.starts_at - QUIET_EXEMPT)


def person_ids_of(rows: Sequence[Rsvp]) -> list[int]:
    """The people behind answers, leaving out those who asked to be forgotten."""
    return [row.person_id for row in rows if row.person_id is not None]


async def concerned_answers(uow: UnitOfWork, event: Event) -> list[Rsvp]:
    return list(await uow.events.rsvps(event.id, *CONCERNED))

"""Sending a broadcast again to the people who may not have got it.

A row is `unknown` when its request was on its way as the process stopped: it may have
arrived or not. The coordinator's summary names those people and offers one tap to send
it again to just them (bot/progress.py asks, flows/send_again.py answers). Every copy is
a new outbox row keyed `sent_again_key(<original row id>)`, so a second tap, a tap on an
old summary or a second process adds nothing; the copies form the broadcast
`<batch>:again`, with a progress message of its own. A copy of a message with buttons gets
a fresh stored question for its reader, so the answers to it count as answers to the
original.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from conversations.core.dates import next_allowed_time
from conversations.core.flow import translated_choice
from conversations.core.i18n import N_, Translations
from conversations.core.messages import ChatRef, Choice, OutMessage
from conversations.core.prompts import offer_to
from conversations.core.services import Services
from conversations.events.rules.invitations import is_open, new_prompt_id
from storage.models import Batch, OutboxStatus, Person
from storage.repositories.batches import InDoubt, again_batch, sent_again_key
from storage.unit_of_work import UnitOfWork

SEND_AGAIN_FLOW = "send_again"
SEND_AGAIN = "again"  # the one choice under the summary


def send_again_choice(language: str, translations: Translations) -> Choice:
    return translated_choice(
        translations.get(language),
        translations,
        SEND_AGAIN,
        N_("Send it again to them"),
        "🔁",
        "send igen",
        "send again",
        "igen",
        "again",
        "ja",
        "yes",
    )


async def offer_send_again(
    uow: UnitOfWork,
    translations: Translations,
    language: str,
    reporter: ChatRef,
    person_id: int,
    batch_id: str,
    text: str,
) -> OutMessage:
    """The summary with its button, the question stored for the coordinator's chat.

    Not marked as sent: the caller records the message that carries it once it is shown,
    so a typed "ja" is never taken for an answer to a button nobody saw.
    """
    message = OutMessage(text, choices=(send_again_choice(language, translations),))
    return await offer_to(
        uow, reporter, person_id, SEND_AGAIN_FLOW, message, context={"batch": batch_id}
    )


@dataclass(frozen=True, slots=True)
class Resent:
    """What a tap did: copies added now, rows sent again before, rows past their time,
    and people who answered the invitation meanwhile (so it did reach them)."""

    sent: int = 0
    already: int = 0
    too_late: int = 0
    answered: int = 0


@dataclass
class _Copies:
    rows: list[dict[str, Any]]
    prompts: dict[str, dict[str, Any]]  # by the copy's dedupe key
    too_late: int = 0
    answered: int = 0


async def send_again(services: Services, batch: Batch) -> Resent:
    """Copy every row of `batch` in doubt into the outbox once more, in the caller's
    transaction; rows whose copy exists already (another tap won) are left alone."""
    uow = services.uow
    in_doubt = await uow.batches.in_doubt(batch.id)
    already = await uow.batches.sent_again_count(batch.id)
    copies = await _copies(services, batch, in_doubt)
    added = await uow.outbox.enqueue_new(copies.rows)
    await uow.prompts.add_many([copies.prompts[key] for key in added if key in copies.prompts])
    if added:
        await uow.batches.follow_up(batch, again_batch(batch.id), len(added))
    return Resent(
        sent=len(added),
        already=already + len(copies.rows) - len(added),
        too_late=copies.too_late,
        answered=copies.answered,
    )


async def _copies(services: Services, batch: Batch, in_doubt: Sequence[InDoubt]) -> _Copies:
    uow, now = services.uow, services.now()
    originals = await uow.prompts.records(
        [str(row.payload["prompt_id"]) for row in in_doubt if row.payload.get("prompt_id")]
    )
    events = _EventCheck(uow, now)
    polite = _PoliteTime(now, services.timezone)
    copies = _Copies([], {})
    for row in in_doubt:
        prompt_id = row.payload.get("prompt_id")
        original = originals.get(str(prompt_id)) if prompt_id else None
        if (row.expires_at is not None and row.expires_at <= now) or (
            prompt_id and (original is None or not await events.still_open(original))
        ):
            copies.too_late += 1  # (a question kept no longer is one from months ago)
            continue
        if original is not None and await events.answered(original, row.person_id):
            copies.answered += 1
            continue
        key = sent_again_key(row.id)
        payload = dict(row.payload)
        if original is not None:
            payload["prompt_id"] = new_prompt_id()
            copies.prompts[key] = _fresh_prompt(original, payload["prompt_id"], now)
        copies.rows.append(
            {
                "dedupe_key": key,
                "person_id": row.person_id,
                "platform": row.platform,
                "chat_id": row.chat_id,
                "user_id": row.user_id,
                "kind": row.kind,
                "batch": again_batch(batch.id),
                "payload": payload,
                "status": OutboxStatus.PENDING.value,
                "attempts": 0,
                "deferrals": 0,
                "next_attempt_at": polite.for_quiet_hours(
                    row.quiet_start_minute, row.quiet_end_minute
                ),
                "expires_at": row.expires_at,
                "created_at": now,
            }
        )
    return copies


def _fresh_prompt(original: dict[str, Any], prompt_id: str, now: datetime) -> dict[str, Any]:
    """The same question for the same reader, not yet shown (the copy is not sent yet)."""
    return {
        **original,
        "id": prompt_id,
        "platform_message_id": None,
        "created_at": now,
        "sent_at": None,
    }


class _PoliteTime:
    """Now, or the end of the reader's quiet hours; people share a few settings, so each
    is worked out once."""

    def __init__(self, now: datetime, timezone: str) -> None:
        self._now = now
        self._timezone = timezone
        self._by_hours: dict[tuple[int | None, int | None], datetime] = {}

    def for_quiet_hours(self, start: int | None, end: int | None) -> datetime:
        hours = (start, end)
        if hours not in self._by_hours:
            reader = Person(quiet_start_minute=start, quiet_end_minute=end)
            self._by_hours[hours] = next_allowed_time(reader, self._now, self._timezone)
        return self._by_hours[hours]


class _EventCheck:
    """For a question about an event (an invitation): whether it is still open, and who
    has answered it; each event is read once."""

    def __init__(self, uow: UnitOfWork, now: datetime) -> None:
        self._uow = uow
        self._now = now
        self._open: dict[int, bool] = {}
        self._answered: dict[int, set[int]] = {}

    @staticmethod
    def _event_id(prompt: dict[str, Any]) -> int | None:
        event_id = (prompt.get("context") or {}).get("event_id")
        return event_id if isinstance(event_id, int) else None

    async def still_open(self, prompt: dict[str, Any]) -> bool:
        event_id = self._event_id(prompt)
        if event_id is None:
            return True
        if event_id not in self._open:
            event = await self._uow.events.get(event_id)
            self._open[event_id] = event is not None and is_open(event, self._now)
        return self._open[event_id]

    async def answered(self, prompt: dict[str, Any], person_id: int) -> bool:
        event_id = self._event_id(prompt)
        if event_id is None:
            return False
        if event_id not in self._answered:
            rows = await self._uow.events.rsvps(event_id)
            self._answered[event_id] = {r.person_id for r in rows if r.person_id is not None}
        return person_id in self._answered[event_id]

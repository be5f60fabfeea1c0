"""A broadcast's progress, in one message to the coordinator that keeps itself up to date.

A broadcast is a `batches` row plus outbox rows with `batch = <its id>`. Once sending has
begun, the coordinator who started it gets one message with the counts (sent, waiting,
could not be delivered, blocked, unknown) and the time left; it is edited at most every
`progress_seconds` and only when something changed, and becomes the final summary when no
row is waiting any more. Sends and edits are pushes of the platform's rate limiter (the
transport takes the slot), and a tick that finds no free slot simply tries again next time.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass

from bot.i18n import Catalogs, Translator
from bot.rate_limit import RateLimiter
from bot.timing import Sleeper
from bot.transports.base import DeliveryError, RecipientBlocked, RetryLater, Transport
from conversations.core.messages import ChatRef, OutMessage
from storage.clock import Clock
from storage.models import Batch, OutboxStatus
from storage.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)

CLAIMED = "…"  # progress_message_id while the first progress message is on its way
EMPTY_BATCH_GRACE = 60.0  # seconds a broadcast may stay without any rows before it is closed


@dataclass(frozen=True, slots=True)
class Tally:
    sent: int = 0
    waiting: int = 0
    failed: int = 0
    blocked: int = 0
    unknown: int = 0
    skipped: int = 0  # cancelled (the person stopped) or expired

    @classmethod
    def of(cls, counts: dict[str, int]) -> Tally:
        return cls(
            sent=counts.get(OutboxStatus.SENT, 0),
            waiting=counts.get(OutboxStatus.PENDING, 0) + counts.get(OutboxStatus.SENDING, 0),
            failed=counts.get(OutboxStatus.FAILED, 0),
            blocked=counts.get(OutboxStatus.BLOCKED, 0),
            unknown=counts.get(OutboxStatus.UNKNOWN, 0),
            skipped=counts.get(OutboxStatus.CANCELLED, 0) + counts.get(OutboxStatus.EXPIRED, 0),
        )

    @property
    def total(self) -> int:
        return self.sent + self.waiting + self.failed + self.blocked + self.unknown + self.skipped

    @property
    def done(self) -> int:
        return self.total - self.waiting


def _detail_lines(t: Translator, tally: Tally) -> list[str]:
    lines = []
    if tally.failed:
        lines.append(t.gettext("⚠️ Could not be delivered: {n}").format(n=tally.failed))
    if tally.blocked:
        lines.append(t.gettext("🚫 Have blocked the bot: {n}").format(n=tally.blocked))
    if tally.unknown:
        lines.append(t.gettext("❔ Unknown, may have arrived: {n}").format(n=tally.unknown))
    if tally.skipped:
        lines.append(t.gettext("⏹ Not sent (stopped or too late): {n}").format(n=tally.skipped))
    return lines


def progress_text(t: Translator, tally: Tally, total: int, seconds_left: float | None) -> str:
    lines = [
        t.gettext("📣 Sending your message: {done} of {total} done").format(
            done=tally.done, total=total
        ),
        t.gettext("✅ Delivered: {n}").format(n=tally.sent),
        t.gettext("⏳ Waiting: {n}").format(n=tally.waiting),
        *_detail_lines(t, tally),
    ]
    if seconds_left is not None:
        minutes = math.ceil(seconds_left / 60)
        if minutes <= 1:
            lines.append(t.gettext("About a minute left."))
        else:
            lines.append(
                t.ngettext("About {n} minute left.", "About {n} minutes left.", minutes).format(
                    n=minutes
                )
            )
    return "\n".join(lines)


def summary_text(t: Translator, tally: Tally, total: int) -> str:
    lines = [
        t.gettext("✅ Done! Your message reached {sent} of {total}.").format(
            sent=tally.sent, total=total
        ),
        *_detail_lines(t, tally),
    ]
    return "\n".join(lines)


@dataclass
class _Seen:
    first_at: float
    first_done: int
    last_text: str = ""


class BroadcastProgress:
    def __init__(
        self,
        transport: Transport,
        uow: UnitOfWorkFactory,
        clock: Clock,
        sleeper: Sleeper,
        catalogs: Catalogs,
        *,
        rate_hint: float,
    ) -> None:
        self._transport = transport
        self._uow = uow
        self._clock = clock
        self._sleeper = sleeper
        self._catalogs = catalogs
        self._rate_hint = rate_hint
        self._seen: dict[str, _Seen] = {}
        self.db_lock = asyncio.Lock()

    def share(self, transport: Transport, db_lock: asyncio.Lock) -> None:
        """The delivery worker's paced transport and database lock, used from then on."""
        self._transport = transport
        self.db_lock = db_lock

    async def tick(self, limiter: RateLimiter, *, wait: bool = False) -> None:
        """Update the progress of every unfinished broadcast reported on this platform.

        Without `wait`, a message whose chat has no free rate-limit slot is left for the
        next tick; with it, the tick waits for the slot (the last report of a drain).
        """
        async with self.db_lock, self._uow() as uow:
            batches = await uow.batches.unfinished(self._transport.platform)
            work = []
            for batch in batches:
                tally = Tally.of(await uow.outbox.counts(batch.id))
                language = None
                if batch.reporter_person_id is not None:
                    person = await uow.persons.get(batch.reporter_person_id)
                    language = person.language if person is not None else None
                work.append((batch, tally, language))
        for batch, tally, language in work:
            await self._report(batch, tally, language, limiter, wait)

    def _seconds_left(self, batch_id: str, tally: Tally) -> float | None:
        now = self._sleeper.monotonic()
        seen = self._seen.setdefault(batch_id, _Seen(now, tally.done))
        rate = self._rate_hint
        elapsed = now - seen.first_at
        if elapsed > 0 and tally.done > seen.first_done:
            rate = (tally.done - seen.first_done) / elapsed
        return tally.waiting / rate if rate > 0 else None

    async def _report(
        self,
        batch: Batch,
        tally: Tally,
        language: str | None,
        limiter: RateLimiter,
        wait: bool,
    ) -> None:
        finished = tally.waiting == 0 and (
            tally.total > 0
            or (self._clock.now() - batch.created_at).total_seconds() > EMPTY_BATCH_GRACE
        )
        if language is None or not (batch.reporter_chat_id and batch.reporter_user_id):
            # Nobody to tell (the coordinator was forgotten): just close it when done.
            if finished:
                await self._finish(batch.id)
            return
        if not finished and tally.done == 0 and tally.total > 0:
            return  # not begun yet (a broadcast set for later): nothing to say
        t = self._catalogs.get(language)
        total = max(batch.total, tally.total)
        ref = ChatRef(self._transport.platform, batch.reporter_chat_id, batch.reporter_user_id)
        if finished:
            text = summary_text(t, tally, total)
        else:
            text = progress_text(t, tally, total, self._seconds_left(batch.id, tally))
        seen = self._seen.setdefault(batch.id, _Seen(self._sleeper.monotonic(), tally.done))
        if text == seen.last_text:
            return
        if not wait and limiter.delay(ref.chat_id) > 0:
            return  # no slot this time; the next tick tries again
        message_id = batch.progress_message_id
        try:
            if message_id is None or message_id == CLAIMED:
                if message_id is None and not await self._claim(batch.id):
                    return  # another process reports this broadcast
                if message_id == CLAIMED and not finished:
                    return  # a process that stopped was sending it; only the summary now
                with limiter.push(ref.chat_id):
                    sent = await self._transport.send(ref, OutMessage(text))
                await self._set_message(batch.id, sent.message_id)
            else:
                with limiter.push(ref.chat_id):
                    await self._transport.edit(ref, message_id, OutMessage(text))
        except RecipientBlocked:
            await self._finish(batch.id)
            return
        except RetryLater:
            return  # the platform is paused already (bot/transports/pacing.py)
        except DeliveryError:
            log.warning("could not show the progress of %s", batch.id, exc_info=True)
            return
        seen.last_text = text
        if finished:
            await self._finish(batch.id)

    async def _claim(self, batch_id: str) -> bool:
        async with self.db_lock, self._uow() as uow:
            claimed = await uow.batches.claim_progress_message(batch_id, CLAIMED)
            await uow.commit()
        return claimed

    async def _set_message(self, batch_id: str, message_id: str | None) -> None:
        async with self.db_lock, self._uow() as uow:
            await uow.batches.set_progress_message(batch_id, message_id or CLAIMED)
            await uow.commit()

    async def _finish(self, batch_id: str) -> None:
        async with self.db_lock, self._uow() as uow:
            await uow.batches.finish(batch_id)
            await uow.commit()
        self._seen.pop(batch_id, None)

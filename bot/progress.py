"""A broadcast's progress, in one message to the coordinator that keeps itself up to date.

A broadcast is a `batches` row plus outbox rows with `batch = <its id>`. Once sending has
begun, the coordinator who started it gets one message with the counts (sent, waiting,
could not be delivered, blocked, unknown) and the time left; it is edited at most every
`progress_seconds` and only when something changed, and becomes the final summary when no
row is waiting any more. Sends and edits are pushes of the platform's rate limiter (the
transport takes the slot), and a tick that finds no free slot simply tries again next time.

Once some rows are `unknown` (their request was on its way when a process stopped), the
message names those people and offers one button, "Send it again to them", a question
stored for the coordinator's chat (conversations/events/rules/resending.py does the rest).
It also names who blocked the bot, without a button: it would not reach them.
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
from conversations.core.messages import ChatRef, OutMessage, Sent
from conversations.events.rules.resending import offer_send_again, send_again_choice
from storage.clock import Clock
from storage.models import Batch, OutboxStatus
from storage.repositories.batches import Recipients
from storage.unit_of_work import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

CLAIMED = "…"  # progress_message_id while the first progress message is on its way
EMPTY_BATCH_GRACE = 60.0  # seconds a broadcast may stay without any rows before it is closed
MAX_NAMES = 20  # names shown in a list; the rest are counted ("and 5 more")


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
            waiting=sum(
                counts.get(status, 0)
                for status in (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.ATTEMPTING)
            ),
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
        lines.append(
            t.gettext("⚠️ Could not be delivered: {n}").format(n=t.format_number(tally.failed))
        )
    if tally.blocked:
        lines.append(
            t.gettext("🚫 Have blocked the bot: {n}").format(n=t.format_number(tally.blocked))
        )
    if tally.unknown:
        lines.append(
            t.gettext("❔ Unknown, may have arrived: {n}").format(n=t.format_number(tally.unknown))
        )
    if tally.skipped:
        lines.append(
            t.gettext("⏹ Not sent (stopped or too late): {n}").format(
                n=t.format_number(tally.skipped)
            )
        )
    return lines


@dataclass(frozen=True, slots=True)
class Missing:
    """Who may not have got a broadcast (and was not sent it again), and who blocked the bot."""

    unsure: Recipients
    blocked: Recipients

    @classmethod
    async def of(cls, uow: UnitOfWork, batch_id: str, tally: Tally) -> Missing:
        batches = uow.batches
        unsure = blocked = Recipients()
        if tally.unknown:
            unsure = await batches.recipients(
                batch_id, OutboxStatus.UNKNOWN, limit=MAX_NAMES, not_sent_again=True
            )
        if tally.blocked:
            blocked = await batches.recipients(batch_id, OutboxStatus.BLOCKED, limit=MAX_NAMES)
        return cls(unsure, blocked)


NOBODY_MISSING = Missing(Recipients(), Recipients())


def names_text(t: Translator, recipients: Recipients) -> str:
    """Names as the people gave them, the first `MAX_NAMES`, then how many more."""
    names = [name or t.gettext("(no name)") for name in recipients.names[:MAX_NAMES]]
    text = ", ".join(names)
    more = recipients.total - len(names)
    if more > 0:
        text += " " + t.ngettext("and {n} more", "and {n} more", more).format(n=more)
    return text


def _names_lines(t: Translator, missing: Missing | None) -> list[str]:
    if missing is None:
        return []
    lines = []
    if missing.unsure.total:
        lines.append(
            t.gettext("❔ May not have got it: {names}").format(names=names_text(t, missing.unsure))
        )
    if missing.blocked.total:
        lines.append(
            t.gettext("🚫 Blocked the bot, so it cannot reach them: {names}").format(
                names=names_text(t, missing.blocked)
            )
        )
    return ["", *lines] if lines else []


def progress_text(
    t: Translator,
    tally: Tally,
    total: int,
    seconds_left: float | None,
    missing: Missing | None = None,
) -> str:
    lines = [
        t.gettext("📣 Sending your message: {done} of {total} sent").format(
            done=t.format_number(tally.done), total=t.format_number(total)
        ),
        t.gettext("✅ Delivered: {n}").format(n=t.format_number(tally.sent)),
        t.gettext("⏳ Waiting: {n}").format(n=t.format_number(tally.waiting)),
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
    return "\n".join([*lines, *_names_lines(t, missing)])


def summary_text(t: Translator, tally: Tally, total: int, missing: Missing | None = None) -> str:
    lines = [
        t.gettext("✅ Done! Your message reached {sent} of {total}.").format(
            sent=t.format_number(tally.sent), total=t.format_number(total)
        ),
        *_detail_lines(t, tally),
        *_names_lines(t, missing),
    ]
    return "\n".join(lines)


@dataclass
class _Seen:
    first_at: float
    first_done: int
    last_text: str = ""
    last_offer: bool = False
    # the stored question of the "send it again" button, once there is one to send again
    offer: str | None = None
    offer_shown: bool = False


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
                missing = NOBODY_MISSING
                if language is not None:  # (else there is nobody to tell)
                    missing = await Missing.of(uow, batch.id, tally)
                work.append((batch, tally, missing, language))
        for batch, tally, missing, language in work:
            await self._report(batch, tally, missing, language, limiter, wait)

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
        missing: Missing,
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
            text = summary_text(t, tally, total, missing)
        else:
            text = progress_text(t, tally, total, self._seconds_left(batch.id, tally), missing)
        offer = missing.unsure.total > 0
        seen = self._seen.setdefault(batch.id, _Seen(self._sleeper.monotonic(), tally.done))
        if (text, offer) == (seen.last_text, seen.last_offer):
            return
        if not wait and limiter.delay(ref.chat_id) > 0:
            return  # no slot this time; the next tick tries again
        message = OutMessage(text)
        if offer:
            message = await self._with_offer(batch, ref, language, text, seen)
        shown = await self._show(batch, ref, message, limiter, finished)
        if shown is None:
            return
        if message.prompt_id is not None and not seen.offer_shown and shown.message_id:
            await self._offer_shown(message.prompt_id, shown.message_id)
            seen.offer_shown = True
        seen.last_text, seen.last_offer = text, offer
        if finished:
            await self._finish(batch.id)

    async def _show(
        self, batch: Batch, ref: ChatRef, message: OutMessage, limiter: RateLimiter, finished: bool
    ) -> Sent | None:
        """Send the progress message, or edit it; None when it was not shown this time."""
        message_id = batch.progress_message_id
        try:
            if message_id is None or message_id == CLAIMED:
                if message_id is None and not await self._claim(batch.id):
                    return None  # another process reports this broadcast
                if message_id == CLAIMED and not finished:
                    return None  # a process that stopped was sending it; only the summary now
                with limiter.push(ref.chat_id):
                    sent = await self._transport.send(ref, message)
                await self._set_message(batch.id, sent.message_id)
                return sent
            with limiter.push(ref.chat_id):
                await self._transport.edit(ref, message_id, message)
            return Sent(message_id)
        except RecipientBlocked:
            await self._finish(batch.id)
        except RetryLater:
            pass  # the platform is paused already (bot/transports/pacing.py)
        except DeliveryError:
            log.warning("could not show the progress of %s", batch.id, exc_info=True)
        return None

    async def _with_offer(
        self, batch: Batch, ref: ChatRef, language: str, text: str, seen: _Seen
    ) -> OutMessage:
        """The text with the "send it again" button; its question is stored once per
        broadcast in this process (a restart stores another; both work)."""
        choice = send_again_choice(language, self._catalogs)
        if seen.offer is None:
            assert batch.reporter_person_id is not None  # else there is nobody to tell
            async with self.db_lock, self._uow() as uow:
                offered = await offer_send_again(
                    uow, self._catalogs, language, ref, batch.reporter_person_id, batch.id, text
                )
                await uow.commit()
            seen.offer = offered.prompt_id
        return OutMessage(text, choices=(choice,), prompt_id=seen.offer)

    async def _offer_shown(self, prompt_id: str, message_id: str) -> None:
        """The button is in the chat now: a tap on it, or its words typed, count."""
        async with self.db_lock, self._uow() as uow:
            await uow.prompts.set_message_id(prompt_id, message_id)
            await uow.commit()

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

"""The outbox worker: one per transport, sending the platform's messages.

Every message is a row in `outbox` (see `storage.models.OutboxMessage`): replies, written with
the step that produced them, and everything else (broadcasts, reminders, notices). A step's
replies are sent at once after its commit (`send_replies`), ahead of everything else; a worker
also repeatedly

1. reads a small batch of due rows of its platform, replies first, then oldest (ids, chats);
2. closes those that must not be sent: expired (`expired`), the person stopped the bot
   (`cancelled`), the person blocked the bot (`blocked`);
3. claims as many as the rate limit allows right now (at most `concurrency` in flight) with
   a conditional update (`... WHERE id IN (...) AND status = 'pending'`, status `sending`)
   and COMMITS that: two workers, even in two processes, never get the same row;
4. waits until the platform's limiter has a slot for the row, records that it goes on the
   wire (`attempting`, a small commit shared by the rows ready at that moment), sends it
   through the transport as a `Push` of the limiter (the transport takes the slot right
   before its request), and writes the outcome: `sent` (with the platform's message id,
   also on the stored prompt so taps on its buttons resolve), or one of the error rules
   below.

Errors: `RetryLater(s)` pauses every send of the platform for s seconds (the transport's request
path does that, for replies too) and puts the row back for then, without counting it as a
failed try (up to `max_retry_after` times); `RecipientBlocked` marks the row `blocked` and the
identity blocked, never retried; `TemporaryFailure` retries with exponential backoff and
jitter, `failed` after `max_attempts`; `PermanentFailure` is `failed`; `AmbiguousDelivery` (and
any unexpected error while sending) is `unknown`: it may have arrived, so it is never resent.

After a crash, only what was on the wire is in doubt: the next worker for the platform puts rows
left `sending` (claimed, never sent) back in the queue, and marks rows left `attempting`
`unknown` (counted, reported to the coordinator, never resent by themselves).

This module is the loop; the policy and the outcome rules are in bot/delivery_outcomes.py.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Sequence

from bot.delivery_choice import sort_due
from bot.delivery_outcomes import (
    DeliveryPolicy,
    DeliveryStats,
    DrawAtSend,
    Outcome,
    OutcomeRecorder,
    Tried,
    TryResult,
    describe,
    policy_from,
    try_send,
)
from bot.leases import ProcessLease
from bot.photo_files import with_photo
from bot.progress import BroadcastProgress
from bot.rate_limit import Push, RateLimiter, RateLimits
from bot.timing import RealSleeper, Sleeper
from bot.transports.base import SENDING_TRANSACTION, Transport
from bot.transports.pacing import paced
from conversations.core.messages import EDIT_OF, ChatRef, OutMessage, message_from_payload
from storage.clock import Clock
from storage.repositories.delivery_queue import Lease
from storage.repositories.outbox import ClaimedMessage, Recovered
from storage.unit_of_work import UnitOfWorkFactory

__all__ = ["DeliveryPolicy", "DeliveryStats", "DeliveryWorker", "DrawAtSend", "policy_from"]

log = logging.getLogger(__name__)

INTERRUPTED = "interrupted while sending (the process stopped); it may have arrived"
HELD_GRACE = 0.05  # seconds a reply may still find its slot once replies are held


class DeliveryWorker:
    def __init__(
        self,
        transport: Transport,
        uow: UnitOfWorkFactory,
        clock: Clock,
        *,
        limits: RateLimits | None = None,
        limiter: RateLimiter | None = None,
        policy: DeliveryPolicy | None = None,
        sleeper: Sleeper | None = None,
        rng: random.Random | None = None,
        progress: BroadcastProgress | None = None,
        lease: ProcessLease | None = None,
        draw_at_send: DrawAtSend | None = None,
    ) -> None:
        """`limiter`: the platform's one limiter; or `limits` to make the worker its own.
        `lease`: this process's, when several processes share the database (the rows it
        claims carry it, and recovery leaves live processes' rows alone).
        `draw_at_send`: what redraws claimed rows before they go (see `DrawAtSend`)."""
        self.platform = transport.platform
        self._uow = uow
        self._clock = clock
        self.policy = policy or DeliveryPolicy()
        self._sleeper = sleeper or RealSleeper()
        self._recorder = OutcomeRecorder(self.platform, clock, self.policy, rng or random.Random())
        if limiter is None:
            if limits is None:
                raise TypeError("a delivery worker needs `limiter` or `limits`")
            limiter = RateLimiter(limits, self._sleeper)
        self.limiter = limiter
        self.transport = paced(transport, limiter)
        # rows cut off on the wire are sent again (the platform drops a duplicate)
        self._resends_safely = bool(getattr(transport, "deduplicates_sends", False))
        self.progress = progress
        self.lease = lease
        self._draw_at_send = draw_at_send
        self._last_recovery = float("-inf")
        self.stats = DeliveryStats()
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._hold = asyncio.Event()
        # Tasks of claimed rows until their outcome is written, and of those the ones whose
        # send has not finished (by row id, with the chat): only those use up concurrency.
        self._in_flight: set[asyncio.Task[bool]] = set()
        self._sending: dict[int, str] = {}
        self._send_done = asyncio.Event()
        self._recovered = False
        self._last_report = float("-inf")
        # One transaction at a time from this worker: SQLite has one writer anyway, and
        # queueing here is cheaper than its busy-wait. Outcomes that pile up meanwhile are
        # written together in one transaction (a group commit).
        self._db_lock = asyncio.Lock()
        self._results: list[Tried] = []
        self._marks: list[tuple[int, bool, asyncio.Future[bool]]] = []
        if progress is not None:
            progress.share(self.transport, self._db_lock)

    # --- control ---------------------------------------------------------------------

    def wake(self) -> None:
        """Something was enqueued: look now instead of at the next poll."""
        self._wake.set()

    async def _held(self) -> None:
        """Replies are held, and a moment has passed: one whose slot is free still goes."""
        await self._hold.wait()
        await self._sleeper.sleep(HELD_GRACE)

    def hold_replies(self) -> None:
        """From now on, steps' replies not yet on their way wait in the outbox (for the next
        start), so a stop does not wait for a queue of them at the platform's pace."""
        self._hold.set()

    async def stop(self) -> None:
        """Stop taking new rows; `run` returns once the messages on the way are recorded."""
        self._stop.set()
        self._wake.set()

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    async def recover(self) -> Recovered:
        """What a stopped process left on the way: rows never sent go back in the queue,
        rows whose request was on the wire become `unknown` (maybe they arrived)."""
        self._last_recovery = self._sleeper.monotonic()
        async with self._db_lock, self._uow() as uow:
            recovered = await uow.delivery.recover_interrupted(
                self.platform,
                INTERRUPTED,
                resend_attempting=self._resends_safely,
                leased=self.lease is not None,
            )
            await uow.commit()
        self._recovered = True
        self.stats.recovered_unknown += recovered.unsure
        if recovered.requeued:
            log.info(
                "%s: %d message(s) were waiting to be sent when the bot stopped; sending them",
                self.platform,
                recovered.requeued,
            )
        if recovered.unsure:
            log.warning(
                "%s: %d message(s) were being sent when the bot stopped; they may have "
                "arrived, so they are marked unknown (the coordinator is told)",
                self.platform,
                recovered.unsure,
            )
        return recovered

    async def run(self) -> None:
        """Deliver until `stop()`; meant to run as a task for the life of the bot.

        Cancelling the task is treated like a crash: sends on the way are abandoned and
        their rows stay `sending` (the next start calls them unknown).
        """
        if not self._recovered:
            await self.recover()
        self._stop.clear()
        self._hold.clear()  # run again after a stop: replies go out again
        try:
            while not self._stop.is_set():
                self._wake.clear()
                try:
                    await self._take_over_the_dead()
                    handled = await self.run_once()
                    await self.report_progress()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("%s: delivery step failed; trying again shortly", self.platform)
                    await self._sleeper.wait(self._stop, self.policy.poll_seconds)
                    continue
                if handled:
                    continue
                if self._in_flight:
                    await asyncio.wait(
                        list(self._in_flight),
                        timeout=self.policy.poll_seconds,
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                    continue
                await self._sleeper.wait(self._wake, await self._idle_timeout())
            if self._in_flight:
                await asyncio.wait(list(self._in_flight))
        finally:
            for task in self._in_flight:
                task.cancel()

    async def _take_over_the_dead(self) -> None:
        """With several processes: now and then, the rows of those whose lease ran out."""
        if self.lease is None:
            return
        if self._sleeper.monotonic() - self._last_recovery >= self.lease.beat_seconds:
            await self.recover()

    async def _idle_timeout(self) -> float:
        timeout = self.policy.poll_seconds
        if self.lease is not None:
            timeout = min(timeout, self.lease.beat_seconds)
        async with self._db_lock, self._uow() as uow:
            next_due = await uow.delivery.next_due_at(self.platform)
        if next_due is not None:
            timeout = min(timeout, (next_due - self._clock.now()).total_seconds())
        return max(0.0, timeout)

    async def drain(self, *, follow_future: bool = False) -> DeliveryStats:
        """Deliver everything due now and wait for it (tests, the demo).

        With `follow_future`, also wait (through the sleeper) for rows due later: retries,
        postponed rows; with a `ClockSleeper` that is time travel, not waiting. (With a
        frozen clock and a real sleeper, rows due later stay pending.)
        """
        if not self._recovered:
            await self.recover()
        while True:
            handled = await self.run_once()
            await self.report_progress()
            if handled:
                continue
            if self._in_flight:
                await asyncio.wait(list(self._in_flight), return_when=asyncio.FIRST_COMPLETED)
                continue
            if not follow_future:
                break
            async with self._db_lock, self._uow() as uow:
                next_due = await uow.delivery.next_due_at(self.platform)
            if next_due is None:
                break
            before = self._clock.now()
            await self._sleeper.sleep(0.001)
            if self._clock.now() == before:
                break  # a frozen clock this sleeper does not move: nothing will fall due
            await self._sleeper.sleep((next_due - self._clock.now()).total_seconds())
        await self.report_progress(force=True)
        return self.stats

    # --- one step --------------------------------------------------------------------

    def _reap(self) -> None:
        for task in [t for t in self._in_flight if t.done()]:
            self._in_flight.discard(task)
            if not task.cancelled() and task.exception() is not None:
                log.error("%s: a send task failed", self.platform, exc_info=task.exception())

    async def run_once(self) -> int:
        """Close, postpone or claim (and start sending) one batch; returns rows handled.

        Also returns non-zero when it had to wait (for the rate limit or a free sender),
        so a loop calls it again at once.
        """
        self._reap()
        capacity = self.policy.concurrency - len(self._sending)
        if capacity <= 0:
            self._send_done.clear()
            await self._send_done.wait()
            return 1
        promised = self.limiter.pending_pushes
        slots = min(capacity, self.limiter.available() - promised)
        if slots <= 0:
            # Saturated: wait until a handful of slots are free, not one at a time.
            wanted = max(1, min(capacity, self.limiter.limits.per_second) // 8) + promised
            await self._sleeper.wait(self._stop, max(self.limiter.platform_delay(wanted), 0.0005))
            return 1

        now = self._clock.now()
        async with self._db_lock, self._uow() as uow:
            due = await uow.delivery.due(self.platform, now, self.policy.batch_size)
            if not due:
                return 0
            closes, postpones, chosen = sort_due(
                due, now, slots, set(self._sending.values()), self.limiter
            )
            closed = await uow.delivery.close_pending(
                (message.id, status, error) for message, status, error in closes
            )
            await uow.delivery.postpone_pending(postpones)
            claimed = await uow.delivery.claim(
                [message.id for message in chosen], self._lease_now()
            )
            if self._draw_at_send is not None and claimed:
                claimed = await self._draw_at_send(uow, claimed)
            await uow.commit()
        for _message, status, _error in closes:
            self.stats.outcomes[status] += 1
        for message in claimed:
            self._sending[message.id] = message.chat_id
            push = self.limiter.push(message.chat_id)
            task = asyncio.create_task(self._deliver(message, push), name=f"send-{message.id}")
            self._in_flight.add(task)
        log.debug(
            "%s: closed %d, postponed %d, claimed %d",
            self.platform,
            closed,
            len(postpones),
            len(claimed),
        )
        # Every due row was closed, postponed, claimed (by us or by another worker first) or
        # left for the next round because the limit is used up: look again at once.
        return len(due)

    # --- one message -----------------------------------------------------------------

    async def send_replies(self, replies: Sequence[ClaimedMessage]) -> None:
        """Send a step's replies now, in order, ahead of everything else (to the step's chat,
        and a word to the person's other chat here); each on the wire only once recorded as
        attempting, its outcome written before this returns (a tap on it finds it)."""
        for reply in replies:
            push = self.limiter.push(reply.chat_id, urgent=True)
            if not await self._deliver(reply, push, claimed=False):
                return  # held (stopping) or taken by a worker: the rest keep their order there

    async def _deliver(self, message: ClaimedMessage, push: Push, *, claimed: bool = True) -> bool:
        """`claimed`: the worker holds the row (`sending`); else it is a pending reply. False
        when the row stayed in the queue (see `_on_the_wire`)."""
        ref = ChatRef(self.platform, message.chat_id, message.user_id)
        result: TryResult | None = None
        went = False
        try:
            out: OutMessage | None = message_from_payload(message.payload)
        except Exception as exc:  # a malformed row: known not to have been sent
            out = None
            result = TryResult(Outcome.FAILED, f"unreadable message: {describe(exc)}")
        if out is not None:
            out = await with_photo(out, message.payload)  # the file the row refers to
        try:
            with push:
                went = out is None or await self._on_the_wire(message, push, claimed=claimed)
                if out is not None and went:
                    edit_of = message.payload.get(EDIT_OF)
                    edit = str(edit_of) if edit_of else None
                    transaction = SENDING_TRANSACTION.set(message.transaction_id)
                    try:
                        result = await try_send(self.transport, ref, out, edit_of=edit)
                    finally:
                        SENDING_TRANSACTION.reset(transaction)
        finally:
            self._sending.pop(message.id, None)
            self._send_done.set()
        if result is not None:
            self._results.append((message, out, result))
            await self._write_results()
        return went

    async def _on_the_wire(self, message: ClaimedMessage, push: Push, *, claimed: bool) -> bool:
        """Wait for the row's slot, then record that it goes out. False: not ours to send
        (another worker took the reply meanwhile, or we are stopping: a claimed row then
        goes back in the queue, a reply stays in it once replies are held)."""
        ready = asyncio.ensure_future(self.limiter.ready(push))
        stopping = asyncio.ensure_future(self._stop.wait() if claimed else self._held())
        try:
            await asyncio.wait((ready, stopping), return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
        if not ready.done():
            ready.cancel()
            if claimed:
                await self._release(message.id)
            return False
        return await self._attempting(message.id, claimed=claimed)

    async def _attempting(self, message_id: int, *, claimed: bool) -> bool:
        """Record one row as on the wire; rows that get their slots together share the
        commit (whoever takes the lock writes every mark waiting by then)."""
        marked: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._marks.append((message_id, claimed, marked))
        # Once another's commit has written our mark, go: waiting on for the lock (behind
        # claims and outcomes) would only keep the row "attempting" longer before its
        # request, and a crash meanwhile would call it unknown for nothing.
        acquiring = asyncio.ensure_future(self._db_lock.acquire())
        try:
            await asyncio.wait((acquiring, marked), return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not acquiring.done():
                acquiring.cancel()
            elif not acquiring.cancelled() and acquiring.exception() is None:
                try:
                    await self._write_marks()
                finally:
                    self._db_lock.release()
        return bool(await marked)

    async def _write_marks(self) -> None:
        """Every mark waiting by now, in one commit (the caller holds the lock)."""
        marks, self._marks = self._marks, []
        if not marks:
            return
        try:
            async with self._uow() as uow:
                got = await uow.delivery.attempt(
                    [m for m, was_claimed, _ in marks if was_claimed],
                    [m for m, was_claimed, _ in marks if not was_claimed],
                    self._lease_now(),
                )
                await uow.commit()
        except Exception as exc:
            for _, _, future in marks:
                if not future.done():
                    future.set_exception(exc)
        else:
            for row_id, _, future in marks:
                if not future.done():
                    future.set_result(row_id in got)

    def _lease_now(self) -> Lease | None:
        return None if self.lease is None else self.lease.current()

    async def _release(self, message_id: int) -> None:
        async with self._db_lock, self._uow() as uow:
            await uow.delivery.release([message_id])
            await uow.commit()

    async def _write_results(self) -> None:
        async with self._db_lock:
            results, self._results = self._results, []
            if not results:
                return  # a send that finished meanwhile wrote ours with its own
            try:
                async with self._uow() as uow:
                    outcomes = await self._recorder.record_all(uow, results)
                    await uow.commit()
            except Exception:
                log.exception(
                    "%s: could not record the outcome of %d message(s); they stay 'sending' "
                    "and will be reported unknown after a restart",
                    self.platform,
                    len(results),
                )
                return
        self.stats.outcomes.update(outcomes)

    # --- progress of broadcasts --------------------------------------------------------

    async def report_progress(self, *, force: bool = False) -> None:
        if self.progress is None:
            return
        moment = self._sleeper.monotonic()
        if not force and moment - self._last_report < self.policy.progress_seconds:
            return
        self._last_report = moment
        try:
            await self.progress.tick(self.limiter, wait=force)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s: could not update broadcast progress", self.platform)

"""The running bot: database, router, transports and housekeeping in one event loop."""

from __future__ import annotations

import asyncio
import logging
import signal
import time
import weakref
from collections.abc import Mapping, Sequence
from contextlib import suppress
from functools import partial

from bot.command_menus import RoleMenus
from bot.composition import build_access, build_router
from bot.delivery import DeliveryWorker
from bot.delivery_outcomes import policy_from
from bot.health import HealthServer
from bot.i18n import catalogs
from bot.intake import Intake, SendReplies, nothing_to_send
from bot.leases import ProcessLease
from bot.metrics import HANDLER_SECONDS, UPDATES_HANDLED
from bot.progress import BroadcastProgress
from bot.rate_limit import RateLimiter, RateLimits, limiter_for
from bot.retention import Retention
from bot.scheduler import EventJobs, Housekeeping
from bot.settings import Settings
from bot.shared_budget import SharedBudget
from bot.snap_files import SnapFiles
from bot.timing import RealSleeper, Sleeper
from bot.transports.base import (
    Closable,
    DeliveryError,
    RecipientBlocked,
    RetryLater,
    RoleCommandMenus,
    Transport,
)
from bot.transports.pacing import paced
from conversations.core.engine import QuestionOnItsWay
from conversations.core.media import MediaFetcher, take_files_to_fetch
from conversations.core.messages import ChatRef, Inbound, Membership, Outgoing
from conversations.core.services import Services
from conversations.events.rules.cards_at_send import draw_cards_at_send
from handlers.router import Handled
from storage.clock import Clock, SystemClock
from storage.db import create_engine, create_sessionmaker
from storage.migrate import upgrade_to_head_async
from storage.repositories.outbox import ClaimedMessage
from storage.unit_of_work import UnitOfWork, UnitOfWorkFactory

# A reaction whose question is on its way waits for it: at most this often, this long.
QUESTION_WAIT_TRIES = 40
QUESTION_WAIT_SECONDS = 0.25

log = logging.getLogger(__name__)


class BotApp:
    def __init__(
        self,
        settings: Settings,
        transports: Sequence[Transport],
        *,
        clock: Clock | None = None,
        sleeper: Sleeper | None = None,
        limits: Mapping[str, RateLimits] | None = None,
    ) -> None:
        """`limits`: a platform's rate limits other than the settings' (a benchmark that
        measures the bot's own work, not the platform's ceiling)."""
        self.settings = settings
        self._limits = dict(limits or {})
        self.clock = clock or SystemClock()
        self.engine = create_engine(settings.database_url)
        self.uow = UnitOfWorkFactory(create_sessionmaker(self.engine), self.clock)
        self.transports = {transport.platform: transport for transport in transports}
        fetchers: dict[str, MediaFetcher] = {
            name: transport
            for name, transport in self.transports.items()
            if isinstance(transport, MediaFetcher)
        }
        self.role_menus = RoleMenus(
            self.uow, build_access(settings), settings.default_language, transports
        )
        self.router = build_router(
            settings,
            self.uow,
            catalogs(),
            self.clock,
            on_role_change=self.role_menus.refresh,
        )
        for transport in transports:
            hook = getattr(transport, "set_language_lookup", None)
            if callable(hook):
                hook(self.language_of)
            if isinstance(transport, RoleCommandMenus):
                transport.when_ready(partial(self.role_menus.sync, transport.platform))
        self.sleeper = sleeper or RealSleeper()
        # Several processes may share a PostgreSQL database: this one's lease (bot/leases.py).
        self.lease: ProcessLease | None = None
        if self.uow.shared:
            self.lease = ProcessLease(self.uow, self.clock, seconds=settings.lease_seconds)
        self.housekeeping = Housekeeping(self.uow, self.clock, self.lease)
        self.retention = Retention(
            self.uow,
            self.clock,
            settings.retention_policy(),
            catalogs(),
            settings.timezone,
            lease=self.lease,
        )
        self.health = (
            HealthServer(
                self.uow,
                self.connected,
                listen=settings.http_listen,
                port=settings.http_port,
            )
            if settings.http_port is not None
            else None
        )
        self._stopping: asyncio.Task[None] | None = None
        self.event_jobs = EventJobs(
            self.uow,
            self.clock,
            catalogs(),
            settings.timezone,
            settings.feedback_options(),
            initiative_pushes_per_day=settings.initiative_pushes_per_day,
            missing_hands=settings.missing_hands_leads,
            lease=self.lease,
        )
        self._chat_locks: weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        # photos' files, fetched after the step that kept them has committed
        self.snap_files = SnapFiles(
            fetchers,
            self.uow,
            self.clock,
            catalogs(),
            timezone=settings.timezone,
            options=settings.feedback_options(),
            sleeper=self.sleeper,
            on_enqueued=self.wake_delivery,
        )
        self.delivery_workers: dict[str, DeliveryWorker] = {}
        self._delivery_tasks: list[asyncio.Task[None]] = []
        # One limiter per platform, made with its delivery worker (so before the transports
        # run); from then on the platform's transport takes every send's slot from it.
        self.limiters: dict[str, RateLimiter] = {}
        self._paced: dict[str, Transport] = {}
        # What transports hand their updates to: kept first where the platform allows it.
        self.intake = Intake(self.uow, lambda inbound: self.take_step(inbound))

    async def migrate(self) -> None:
        await upgrade_to_head_async(self.settings.database_url)

    async def dispatch(self, inbound: Inbound) -> None:
        """Handle one inbound message and send its replies, in order per chat.

        The replies were written to the outbox with the step; they are sent here at once,
        ahead of any broadcast, and a crash in between leaves them for the outbox worker.
        """
        async with self._chat_lock(inbound):
            send_replies = await self.take_step(inbound)
            await send_replies()

    async def take_step(self, inbound: Inbound) -> SendReplies:
        """Handle one inbound message; returns the sending of its replies.

        Apart from `dispatch`, so that the intake can give its handling slot to the next
        update while these replies wait for the platform (at 30 messages a second, a burst
        of people writing would otherwise have every slot waiting on a send, and nobody's
        taps recorded until then). The intake keeps a chat's next update waiting until they
        are sent: a tap on a reply must find the reply's message."""
        began = time.perf_counter()
        platform = inbound.ref.platform
        if inbound.membership is not None:
            await self.set_blocked(inbound.ref, blocked=inbound.membership == Membership.LEFT)
            return nothing_to_send
        handled = await self._handle_when_tied(inbound)
        self.wake_delivery()  # the step may have enqueued messages (a broadcast, a notice)
        if take_files_to_fetch():
            self.snap_files.wake()
        self.event_jobs.wake()  # or made timed work due sooner (a reminder, a moved event)

        async def send_replies() -> None:
            await self.deliver(handled.unsent + handled.echoes)
            if handled.replies and platform in self.transports:
                await self.delivery_worker(platform).send_replies(handled.replies)
            UPDATES_HANDLED.labels(platform=platform).inc()
            HANDLER_SECONDS.labels(platform=platform).observe(time.perf_counter() - began)

        return send_replies

    def _chat_lock(self, inbound: Inbound) -> asyncio.Lock:
        key = (inbound.ref.platform, inbound.ref.chat_id)
        lock = self._chat_locks.get(key)
        if lock is None:
            lock = self._chat_locks[key] = asyncio.Lock()
        return lock

    async def _handle_when_tied(self, inbound: Inbound) -> Handled:
        """A reaction on a message whose question is still on its way (its outcome not yet
        written, or its row sent again after a restart) waits for it, a few seconds at most,
        holding the chat's later updates back so they stay in order."""
        for _ in range(QUESTION_WAIT_TRIES):
            try:
                return await self.router.handle(inbound, last_try=False)
            except QuestionOnItsWay:
                await asyncio.sleep(QUESTION_WAIT_SECONDS)
        return await self.router.handle(inbound)

    async def deliver(self, replies: Sequence[Outgoing]) -> None:
        """Send messages directly, without the outbox: marks on answered questions, and
        replies that could not be stored. A courtesy: a failure is logged, not retried."""
        for reply in replies:
            platform = reply.ref.platform
            transport = self._paced.get(platform) or self.transports.get(platform)
            if transport is None:
                log.error("no transport for %s; dropping a reply", platform)
                continue
            try:
                if reply.message is not None:
                    await transport.send(reply.ref, reply.message)
                elif reply.echo is not None:
                    await transport.echo(reply.ref, reply.echo)
            except RecipientBlocked:
                await self.mark_blocked(reply.ref)
                return
            except RetryLater as exc:  # the platform is paused, the outbox held back with it
                log.warning("could not deliver a reply to %s: %s", reply.ref, exc)
            except DeliveryError:
                log.warning("could not deliver a reply to %s", reply.ref, exc_info=True)

    async def language_of(self, ref: ChatRef) -> str | None:
        """The language of the person behind a chat, if they are known."""
        async with self.uow() as uow:
            identity = await uow.persons.find_identity(ref.platform, ref.user_id)
            person = await uow.persons.get(identity.person_id) if identity else None
            return person.language if person is not None else None

    async def mark_blocked(self, ref: ChatRef) -> None:
        await self.set_blocked(ref, blocked=True)

    async def set_blocked(self, ref: ChatRef, *, blocked: bool) -> None:
        async with self.uow() as uow:
            changed = await uow.persons.set_blocked(ref.platform, ref.user_id, blocked=blocked)
            await uow.commit()
        if changed:
            log.info("%s %s the bot; marked", ref, "blocked" if blocked else "unblocked")

    def install_signal_handlers(self) -> None:
        """SIGTERM and SIGINT stop the transports gracefully; `run` then returns."""
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self._on_signal, signum)

    def _on_signal(self, signum: int) -> None:
        log.info(
            "%s received: finishing the updates in hand, then stopping", signal.strsignal(signum)
        )
        if self._stopping is None:
            self._stopping = asyncio.create_task(self.stop(), name="bot-stop")

    async def stop(self) -> None:
        """Stop receiving on every transport, then finish the updates in hand (their replies
        not yet on their way are sent at the next start)."""
        for name, transport in self.transports.items():
            try:
                await transport.stop()
            except Exception:
                log.exception("transport %s did not stop cleanly", name)
        for worker in self.delivery_workers.values():
            worker.hold_replies()
        await self.intake.finish()

    async def run(self) -> None:
        """Migrate, then run every transport until all have finished or one fails."""
        await self.migrate()
        if self.lease is not None:
            await self.lease.start()  # registered before anything is claimed
        self.housekeeping.start()
        self.retention.start()
        self.event_jobs.start()
        self.start_delivery()
        self.snap_files.start()
        if self.health is not None:
            await self.health.start()
        for platform in self.transports:  # kept before the last stop, handled before new ones
            await self.intake.replay(platform)
        tasks = [
            asyncio.create_task(transport.run(self.intake), name=f"transport-{name}")
            for name, transport in self.transports.items()
        ]
        try:
            await asyncio.gather(*tasks)
            await self.intake.finish()
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with suppress(asyncio.CancelledError):
                    await task
            await self.close()

    # --- the outbox: one delivery worker per transport (bot/delivery.py) ------------------

    def limiter(self, platform: str) -> RateLimiter:
        """The platform's one limiter; made on first use, and its transport paced by it."""
        limiter = self.limiters.get(platform)
        if limiter is None:
            transport = self.transports[platform]
            limits = self._limits.get(platform)
            if limits is None:
                limiter = limiter_for(self.settings, platform, self.sleeper)
            else:
                limiter = RateLimiter(limits, self.sleeper)
            if self.uow.shared:  # other processes may send for the platform too
                # on the database's clock: real waits, whatever sleeper the app has
                budget = SharedBudget(self.uow, platform, limiter.limits, RealSleeper())
                limiter.share(budget)
            self.limiters[platform] = limiter
            self._paced[platform] = paced(transport, limiter)
        return limiter

    def delivery_worker(self, platform: str) -> DeliveryWorker:
        worker = self.delivery_workers.get(platform)
        if worker is None:
            transport = self.transports[platform]
            limiter = self.limiter(platform)
            progress = BroadcastProgress(
                transport,
                self.uow,
                self.clock,
                self.sleeper,
                catalogs(),
                rate_hint=limiter.limits.per_second,
            )
            worker = DeliveryWorker(
                transport,
                self.uow,
                self.clock,
                limiter=limiter,
                policy=policy_from(self.settings),
                sleeper=self.sleeper,
                progress=progress,
                lease=self.lease,
                draw_at_send=self.draw_cards_at_send,
            )
            self.delivery_workers[platform] = worker
        return worker

    async def draw_cards_at_send(
        self, uow: UnitOfWork, rows: list[ClaimedMessage]
    ) -> list[ClaimedMessage]:
        """Invitations' cards as they are now, for rows a worker has just claimed."""
        services = Services(uow, catalogs(), self.settings.timezone, self.clock)
        return await draw_cards_at_send(services, rows)

    def start_delivery(self) -> None:
        """Start a worker per transport (recovering rows a stopped process left mid-send)."""
        for platform in self.transports:
            worker = self.delivery_worker(platform)
            self._delivery_tasks.append(
                asyncio.create_task(worker.run(), name=f"delivery-{platform}")
            )

    def wake_delivery(self) -> None:
        """Call after committing outbox rows so they go out now, not at the next poll."""
        for worker in self.delivery_workers.values():
            worker.wake()

    async def drain_outbox(self, *, follow_future: bool = False) -> None:
        """Deliver every due outbox row now, without running workers (tests, demo)."""
        for platform in self.transports:
            await self.delivery_worker(platform).drain(follow_future=follow_future)

    async def stop_delivery(self, grace: float = 10.0) -> None:
        """Let workers record the messages on their way, then stop them."""
        for worker in self.delivery_workers.values():
            await worker.stop()
        tasks, self._delivery_tasks = self._delivery_tasks, []
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=grace)
            for task in pending:
                task.cancel()
            for task in tasks:
                with suppress(asyncio.CancelledError, Exception):
                    await task

    def connected(self) -> dict[str, bool]:
        """Whether each transport is connected to its platform (for /healthz)."""
        states = {}
        for name, transport in self.transports.items():
            receiving = getattr(transport, "receiving", None)
            ready = getattr(transport, "ready", None)
            if isinstance(receiving, bool):
                states[name] = receiving
            elif isinstance(ready, asyncio.Event):
                states[name] = ready.is_set()
            else:
                states[name] = True  # the console, a test transport: nothing to lose
        return states

    async def close(self) -> None:
        await self.snap_files.stop()
        await self.stop_delivery()
        self.housekeeping.stop()
        self.retention.stop()
        if self.health is not None:
            await self.health.stop()
        await self.event_jobs.close()  # its transaction in hand ends before the engine
        if self.lease is not None:
            await self.lease.close()  # what it held is free for the others at once
        for transport in self.transports.values():
            with suppress(Exception):
                await transport.stop()
            if isinstance(transport, Closable):
                with suppress(Exception):
                    await transport.close()
        await self.engine.dispose()

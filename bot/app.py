"""The running bot: database, router, transports and housekeeping in one event loop."""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Sequence
from contextlib import suppress

from bot.composition import build_router
from bot.delivery import DeliveryWorker, limits_for, policy_from
from bot.i18n import catalogs
from bot.progress import BroadcastProgress
from bot.scheduler import Housekeeping
from bot.settings import Settings
from bot.timing import RealSleeper, Sleeper
from bot.transports.base import DeliveryError, RecipientBlocked, RetryLater, Transport
from conversations.messages import ChatRef, Inbound, Outgoing
from storage.clock import Clock, SystemClock
from storage.db import create_engine, create_sessionmaker
from storage.migrate import upgrade_to_head_async
from storage.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)


class BotApp:
    def __init__(
        self,
        settings: Settings,
        transports: Sequence[Transport],
        *,
        clock: Clock | None = None,
        sleeper: Sleeper | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.engine = create_engine(settings.database_url)
        self.uow = UnitOfWorkFactory(create_sessionmaker(self.engine), self.clock)
        self.router = build_router(settings, self.uow, catalogs(), self.clock)
        self.transports = {transport.platform: transport for transport in transports}
        self.housekeeping = Housekeeping(self.uow, self.clock)
        self._chat_locks: weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        self.sleeper = sleeper or RealSleeper()
        self.delivery_workers: dict[str, DeliveryWorker] = {}
        self._delivery_tasks: list[asyncio.Task[None]] = []

    async def migrate(self) -> None:
        await upgrade_to_head_async(self.settings.database_url)

    async def dispatch(self, inbound: Inbound) -> None:
        """Handle one inbound message and deliver the replies, in order per chat."""
        key = (inbound.ref.platform, inbound.ref.chat_id)
        lock = self._chat_locks.get(key)
        if lock is None:
            lock = self._chat_locks[key] = asyncio.Lock()
        async with lock:
            replies = await self.router.handle(inbound)
            await self.deliver(replies)
        self.wake_delivery()  # the step may have enqueued messages (a broadcast, a notice)

    async def deliver(self, replies: Sequence[Outgoing]) -> None:
        sent_prompts: list[tuple[str, str]] = []
        for reply in replies:
            transport = self.transports.get(reply.ref.platform)
            if transport is None:
                log.error("no transport for %s; dropping a reply", reply.ref.platform)
                continue
            worker = self.delivery_workers.get(reply.ref.platform)
            if worker is not None:  # replies count against the platform's limit too
                await worker.limiter.acquire(None)
            try:
                if reply.message is not None:
                    sent = await transport.send(reply.ref, reply.message)
                    if reply.message.prompt_id and sent.message_id:
                        sent_prompts.append((reply.message.prompt_id, sent.message_id))
                elif reply.echo is not None:
                    await transport.echo(reply.ref, reply.echo)
            except RecipientBlocked:
                await self.mark_blocked(reply.ref)
                return
            except RetryLater as exc:
                if worker is not None:
                    worker.limiter.pause(exc.seconds)  # holds the outbox back as well
                log.warning("could not deliver a reply to %s: %s", reply.ref, exc)
            except DeliveryError:
                log.warning("could not deliver a reply to %s", reply.ref, exc_info=True)
        if sent_prompts:
            async with self.uow() as uow:
                for prompt_id, message_id in sent_prompts:
                    await uow.prompts.set_message_id(prompt_id, message_id)
                await uow.commit()

    async def mark_blocked(self, ref: ChatRef) -> None:
        async with self.uow() as uow:
            identity = await uow.persons.find_identity(ref.platform, ref.user_id)
            if identity is not None and identity.blocked_at is None:
                identity.blocked_at = self.clock.now()
                await uow.commit()
        log.info("%s blocked the bot; marked", ref)

    async def run(self) -> None:
        """Migrate, then run every transport until all have finished or one fails."""
        await self.migrate()
        self.housekeeping.start()
        self.start_delivery()
        tasks = [
            asyncio.create_task(transport.run(self.dispatch), name=f"transport-{name}")
            for name, transport in self.transports.items()
        ]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with suppress(asyncio.CancelledError):
                    await task
            await self.close()

    # --- the outbox: one delivery worker per transport (bot/delivery.py) ------------------

    def delivery_worker(self, platform: str) -> DeliveryWorker:
        worker = self.delivery_workers.get(platform)
        if worker is None:
            transport = self.transports[platform]
            limits = limits_for(self.settings, platform)
            progress = BroadcastProgress(
                transport,
                self.uow,
                self.clock,
                self.sleeper,
                catalogs(),
                rate_hint=limits.per_second,
            )
            worker = DeliveryWorker(
                transport,
                self.uow,
                self.clock,
                limits=limits,
                policy=policy_from(self.settings),
                sleeper=self.sleeper,
                progress=progress,
            )
            self.delivery_workers[platform] = worker
        return worker

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

    async def close(self) -> None:
        await self.stop_delivery()
        self.housekeeping.stop()
        for transport in self.transports.values():
            with suppress(Exception):
                await transport.stop()
        await self.engine.dispose()

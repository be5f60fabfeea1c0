"""Updates kept before the platform lets go of them, then handled, in order per chat.

A transport that can have the platform send an update again until it says it has it
(Telegram's getUpdates offset, a webhook's answer, Matrix's sync token) hands a batch to
`Intake.receive`: the updates are written to the inbox in one small transaction, and only
then does `receive` return, so the transport may confirm them. Handling follows in the
background (`BotApp.dispatch`: one chat after another in arrival order, chats at the same
time), and marks each update handled in the transaction of its effects. With several
processes (PostgreSQL), an update of a chat whose earlier update reached another process and
is not handled yet has that one handled first, here. An update kept but
not handled when the process stopped is handled at the next start (`replay`), before new
ones; one the platform sends again is handled once.

A transport without such a step (the console, tests) just calls the intake with one update
and waits for it to be handled.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from conversations.core.messages import Inbound, inbound_from_record, inbound_to_record
from storage.repositories.inbox import Arrived
from storage.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)

SendReplies = Callable[[], Awaitable[None]]
# One update's step; what it returns (if anything) sends the step's replies, run once the
# step has given back its handling slot.
Handler = Callable[[Inbound], Awaitable[SendReplies | None]]


async def nothing_to_send() -> None:
    return None


class Intake:
    def __init__(self, uow: UnitOfWorkFactory, handle: Handler, *, concurrency: int = 64) -> None:
        """`handle`: one update's step (`BotApp.take_step`). `concurrency`: steps taken at
        the same time, across chats; replies waiting for the platform hold no slot, but the
        chat's next update waits for them."""
        self._uow = uow
        self._handle = handle
        self._slots = asyncio.Semaphore(concurrency)
        self._handling: set[asyncio.Task[None]] = set()
        # the newest update of each chat in hand: the next one of that chat waits for it
        self._newest: dict[tuple[str, str], asyncio.Task[None]] = {}

    async def __call__(self, inbound: Inbound) -> None:
        """Handle one update now and wait for it (no inbox step: nothing to confirm)."""
        await self._take_step(inbound)

    async def receive(self, platform: str, inbounds: Sequence[Inbound]) -> None:
        """Keep the updates; once this returns they are safe and the platform may be told.
        Their handling is started, in the order given."""
        if inbounds:
            async with self._uow() as uow:
                await uow.inbox.keep(
                    platform,
                    [
                        Arrived(inbound.event_id, inbound.ref.chat_id, inbound_to_record(inbound))
                        for inbound in inbounds
                    ],
                )
                await uow.commit()
        for inbound in inbounds:
            self._start(inbound)

    async def replay(self, platform: str) -> int:
        """Start handling what a stopped process kept but never handled, oldest first."""
        count, last = 0, 0
        while True:
            async with self._uow() as uow:
                waiting = await uow.inbox.waiting(platform, after=last)
            if not waiting:
                break
            last = waiting[-1].id
            for update in waiting:
                if update.payload is None:
                    continue
                try:
                    inbound = inbound_from_record(update.payload)
                except (KeyError, TypeError, ValueError):
                    log.exception("%s: update %s kept unreadable", platform, update.update_id)
                    continue
                self._start(inbound)
                count += 1
        if count:
            log.info("%s: handling %d update(s) kept before the last stop", platform, count)
        return count

    def _start(self, inbound: Inbound) -> None:
        chat = (inbound.ref.platform, inbound.ref.chat_id)
        before = self._newest.get(chat)
        task = asyncio.create_task(
            self._handle_one(inbound, after=before), name=f"update-{inbound.event_id}"
        )
        self._handling.add(task)
        self._newest[chat] = task

        def done(finished: asyncio.Task[None]) -> None:
            self._handling.discard(finished)
            if self._newest.get(chat) is finished:
                del self._newest[chat]

        task.add_done_callback(done)

    async def _handle_one(self, inbound: Inbound, *, after: asyncio.Task[None] | None) -> None:
        if after is not None:
            await asyncio.wait((after,))  # the chat's earlier update first, however it ends
        send_replies: SendReplies | None = None
        async with self._slots:
            try:
                if self._uow.shared and inbound.event_id:
                    for earlier in await self._kept_before(inbound):
                        await self._take_step(earlier)
                send_replies = await self._handle(inbound)
            except Exception:  # the router catches its own; this is the app around it
                log.exception(
                    "could not handle %s update %s", inbound.ref.platform, inbound.event_id
                )
        if send_replies is not None:
            try:
                await send_replies()
            except Exception:  # the rows are in the outbox: its worker sends them
                log.exception(
                    "could not send the replies to %s update %s",
                    inbound.ref.platform,
                    inbound.event_id,
                )

    async def _take_step(self, inbound: Inbound) -> None:
        send_replies = await self._handle(inbound)
        if send_replies is not None:
            await send_replies()

    async def _kept_before(self, inbound: Inbound) -> list[Inbound]:
        """The chat's updates that reached another process first and are not handled yet.

        The chat's turn (a lock per chat across processes, handlers/router.py) lets one
        update at a time through, but not in order: the one that reached a process a moment
        later could take it first. So this process handles those first itself; the process
        they reached then finds them handled and skips them. (Updates still on their way to
        a process when this one is handled cannot be waited for: Telegram numbers updates
        across all chats, so a gap says nothing.)"""
        platform = inbound.ref.platform
        async with self._uow() as uow:
            kept = await uow.inbox.kept_before(platform, inbound.event_id or "")
        earlier = []
        for update in kept:
            if update.payload is None:
                continue
            try:
                earlier.append(inbound_from_record(update.payload))
            except (KeyError, TypeError, ValueError):
                log.exception("%s: update %s kept unreadable", platform, update.update_id)
        return earlier

    @property
    def in_hand(self) -> int:
        """Updates being handled (or waiting for a free slot)."""
        return len(self._handling)

    async def finish(self) -> None:
        """Wait until every update in hand is handled (a clean stop)."""
        while self._handling:
            await asyncio.wait(list(self._handling))

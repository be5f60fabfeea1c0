"""Remembers which platform message carried which stored question, written in batches.

A reaction on a message (Matrix) is resolved through this mapping, and an answered button can
be marked on its message. Writing it right after each send would cost every reply a second
transaction, so ids are collected and written together a moment later — or at once, before
handling a reaction that may need them.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress

from storage.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)

FLUSH_DELAY_SECONDS = 0.05


class MessageIdRecorder:
    def __init__(self, uow: UnitOfWorkFactory, *, delay: float = FLUSH_DELAY_SECONDS) -> None:
        self._uow = uow
        self._delay = delay
        self._pending: dict[str, str] = {}
        self._flusher: asyncio.Task[None] | None = None
        self._closing = asyncio.Event()

    def remember(self, prompt_id: str, message_id: str) -> None:
        self._pending[prompt_id] = message_id
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_later(), name="message-ids")

    @property
    def pending(self) -> bool:
        return bool(self._pending)

    async def flush(self) -> None:
        if not self._pending:
            return
        batch, self._pending = self._pending, {}
        try:
            async with self._uow() as uow:
                await uow.prompts.set_message_ids(batch)
                await uow.commit()
        except asyncio.CancelledError:
            self._pending = {**batch, **self._pending}  # not written: the next flush does
            raise
        except Exception:
            log.exception(
                "could not record %d message ids; keeping them for the next try", len(batch)
            )
            self._pending = {**batch, **self._pending}

    async def _flush_later(self) -> None:
        with suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), self._delay)
        await self.flush()

    async def close(self) -> None:
        """Write what is waiting. A write already under way is finished, not cut short:
        cancelling it mid-statement would lose the connection (and, before, the ids)."""
        self._closing.set()
        if self._flusher is not None:
            await self._flusher
        await self.flush()

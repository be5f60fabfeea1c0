"""How a transport's requests take their slots from the platform's one rate limiter.

A transport that makes requests of its own (Telegram, Matrix) passes each through a
`RequestGate`: the slot is taken right before the request, and a `RetryLater` coming out
of it pauses the whole platform. Any other transport (the console, test doubles) is
wrapped in `PacedCalls`, where each call counts as one request. `paced()` gives either.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Protocol, runtime_checkable

from bot.rate_limit import RateLimiter
from bot.transports.base import Dispatch, RetryLater, Transport
from conversations.core.messages import ChatRef, ChoiceEcho, OutMessage, Sent


@runtime_checkable
class SelfPacing(Protocol):
    """A transport that takes a slot from `limiter` right before each request it makes."""

    def pace_with(self, limiter: RateLimiter) -> None: ...


class RequestGate:
    """The one way out for a transport's requests. Without a limiter (a transport used on
    its own, as in unit tests) requests go unpaced."""

    def __init__(self, limiter: RateLimiter | None = None) -> None:
        self.limiter = limiter

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """`async with gate.slot(): <one request>`; errors inside must already be mapped to
        delivery errors, so a `RetryLater` is seen here."""
        limiter = self.limiter
        if limiter is not None:
            await limiter.before_request()
        try:
            yield
        except RetryLater as exc:
            if limiter is not None:
                limiter.pause(exc.seconds)
            raise


class PacedCalls:
    """A transport without requests of its own to pace: every send, echo and edit takes a
    slot, as a request would."""

    def __init__(self, transport: Transport, limiter: RateLimiter) -> None:
        self.transport = transport
        self.platform = transport.platform
        self._gate = RequestGate(limiter)

    def pace_with(self, limiter: RateLimiter) -> None:
        self._gate.limiter = limiter

    async def run(self, dispatch: Dispatch) -> None:
        await self.transport.run(dispatch)

    async def stop(self) -> None:
        await self.transport.stop()

    async def send(self, ref: ChatRef, message: OutMessage) -> Sent:
        async with self._gate.slot():
            return await self.transport.send(ref, message)

    async def echo(self, ref: ChatRef, echo: ChoiceEcho) -> None:
        async with self._gate.slot():
            await self.transport.echo(ref, echo)

    async def edit(self, ref: ChatRef, message_id: str, message: OutMessage) -> None:
        async with self._gate.slot():
            await self.transport.edit(ref, message_id, message)


def paced(transport: Transport, limiter: RateLimiter) -> Transport:
    """`transport`, with every send taking its slot from `limiter` (safe to call twice)."""
    if isinstance(transport, SelfPacing):
        transport.pace_with(limiter)
        return transport
    return PacedCalls(transport, limiter)

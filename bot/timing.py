"""Waiting, abstracted: real sleeps in production, instant time travel in tests.

The delivery worker and the rate limiter never call `asyncio.sleep` or read a clock
themselves; they ask a `Sleeper`. `RealSleeper` waits for real. `ClockSleeper` drives a
`FrozenClock`: a sleep moves the clock forward and returns at once, so a broadcast that
takes minutes at 25 messages a second is checked in a moment of CPU time.
"""

from __future__ import annotations

import asyncio
import math
import time
from datetime import timedelta
from typing import Protocol

from storage.clock import FrozenClock


class Sleeper(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (only differences matter)."""
        ...

    async def sleep(self, seconds: float) -> None: ...

    async def wait(self, event: asyncio.Event, seconds: float) -> bool:
        """Wait until `event` is set or `seconds` pass; returns whether it was set."""
        ...


class RealSleeper:
    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    async def wait(self, event: asyncio.Event, seconds: float) -> bool:
        if event.is_set():
            return True
        try:
            async with asyncio.timeout(max(0.0, seconds)):
                await event.wait()
        except TimeoutError:
            return event.is_set()
        return True


class ClockSleeper:
    """Sleeping moves a `FrozenClock` forward instead of waiting (at least a microsecond,
    so a loop waiting for a moment always gets there)."""

    def __init__(self, clock: FrozenClock) -> None:
        self.clock = clock
        self.slept = 0.0

    def monotonic(self) -> float:
        return self.clock.now().timestamp()

    async def sleep(self, seconds: float) -> None:
        if seconds > 0:
            micros = max(1, math.ceil(seconds * 1_000_000))
            self.clock.advance(timedelta(microseconds=micros))
            self.slept += micros / 1_000_000
        await asyncio.sleep(0)

    async def wait(self, event: asyncio.Event, seconds: float) -> bool:
        if event.is_set():
            return True
        await self.sleep(seconds)
        return event.is_set()

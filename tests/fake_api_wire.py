"""The fake Bot API's wire: how long a request takes, Telegram's flood control, and a record
of every message that actually arrived, per chat, with the time it arrived.

Telegram's limits as its FAQ states them: about 30 messages a second overall, at most one
message a second to one private chat, at most 20 a minute to one group. A request over a
limit is refused with 429 and `retry_after` (whole seconds until the window has room).
Group chats have negative ids, as on Telegram.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import random
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field


@dataclass(frozen=True)
class FloodControl:
    """Telegram's flood control; each limit over a sliding window."""

    per_second: int = 30
    private_per_second: int = 1
    group_per_minute: int = 20


@dataclass(frozen=True)
class Arrival:
    at: float  # time.monotonic() when the request reached the platform
    method: str
    text: str  # the visible text or caption ("" for a location or a file without one)
    message_id: int = 0
    buttons: tuple[str, ...] = ()  # the callback data of its inline buttons


def is_group(chat_id: str) -> bool:
    return chat_id.startswith("-")


@dataclass
class Wire:
    """Latency, flood control and the record of arrivals, for one fake server."""

    flood: FloodControl | None = None
    latency: tuple[float, float] | None = None  # seconds, uniform, before the answer
    seed: int = 0
    arrived: dict[str, list[Arrival]] = field(default_factory=lambda: defaultdict(list))
    refused: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    torn: int = 0  # requests that began to arrive but never whole (the sender died)
    _random: random.Random = field(init=False)
    _all: deque[float] = field(default_factory=deque)
    _per_chat: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    async def answer_delay(self) -> None:
        """The rest of a request's way: processed at once, answered after the latency."""
        if self.latency is not None:
            await asyncio.sleep(self._random.uniform(*self.latency))

    def admit(self, chat_id: str, now: float | None = None) -> int | None:
        """None when a message to `chat_id` may go now (and counts it), else retry_after."""
        if self.flood is None:
            return None
        now = time.monotonic() if now is None else now
        chat_window, chat_limit = (
            (60.0, self.flood.group_per_minute)
            if is_group(chat_id)
            else (1.0, self.flood.private_per_second)
        )
        waits = [
            _wait(self._all, 1.0, self.flood.per_second, now),
            _wait(self._per_chat[chat_id], chat_window, chat_limit, now),
        ]
        wait = max(waits)
        if wait > 0:
            self.refused[chat_id].append(now)
            return max(1, math.ceil(wait))
        self._all.append(now)
        self._per_chat[chat_id].append(now)
        return None

    def record(self, chat_id: str, arrival: Arrival) -> None:
        self.arrived[chat_id].append(arrival)

    @property
    def refusals(self) -> int:
        return sum(len(times) for times in self.refused.values())

    def arrivals(self) -> list[tuple[float, str]]:
        """Every arrival as (time, chat id), in time order."""
        return sorted((a.at, chat) for chat, items in self.arrived.items() for a in items)


def _wait(times: deque[float], window: float, limit: int, now: float) -> float:
    """Seconds until `times` has room for one more in `window` (0 when it has now)."""
    while times and times[0] <= now - window:
        times.popleft()
    if len(times) < limit:
        return 0.0
    return times[len(times) - limit] + window - now


def largest_in_window(times: list[float], window: float) -> int:
    """The most arrivals in any window of `window` seconds, wherever it starts."""
    ordered = sorted(times)
    best = start = 0
    for end, moment in enumerate(ordered):
        while ordered[start] <= moment - window:
            start += 1
        best = max(best, end - start + 1)
    return best


def smallest_gap(times: list[float]) -> float | None:
    ordered = sorted(times)
    gaps = [b - a for a, b in itertools.pairwise(ordered)]
    return min(gaps) if gaps else None

"""The window a rate limit counts sends in (bot/rate_limit.py): at most N in any period."""

from __future__ import annotations

import bisect
from collections import deque

# Seconds kept between a window's oldest send and the send that replaces it. The slot is
# taken just before the request, but the platform counts the request when it arrives. A
# request written 5 ms or more after its slot is counted from its write (LATE_WRITE in
# rate_limit.py), so this covers the rest: the way to the platform and its jitter. 35 ms
# was needed while the fake Bot API stamped arrivals late whenever it waited for a core;
# with it under real-time scheduling, 20 ms gave 0 × 429 over 1,500 at the limit and
# 0.957 × the limit sustained (benchmarks/broadcast_wire.py).
MARGIN = 0.020
SMALL = 32  # windows with a limit up to this keep their times in a list


class SlidingWindow:
    """At most `limit` events in any `period` seconds."""

    __slots__ = ("_times", "limit", "margin", "period")

    def __init__(self, limit: int, period: float, margin: float = MARGIN) -> None:
        if limit < 1 or period <= 0:
            raise ValueError("a window needs a limit of at least 1 and a positive period")
        self.limit = limit
        self.period = period
        self.margin = margin
        # A deque costs a block of 64 slots; a chat's window holds one or a few times, so a
        # short list (far smaller) serves there.
        self._times: deque[float] | list[float] = deque() if limit > SMALL else []

    def _prune(self, now: float) -> None:
        times = self._times
        horizon = now - self.period - self.margin
        if isinstance(times, deque):
            while times and times[0] <= horizon:
                times.popleft()
        else:
            kept = 0
            while kept < len(times) and times[kept] <= horizon:
                kept += 1
            if kept:
                del times[:kept]

    def delay(self, now: float, count: int = 1) -> float:
        """Seconds until `count` more events are allowed (0 if they are allowed now)."""
        self._prune(now)
        count = min(max(count, 1), self.limit)
        index = len(self._times) - self.limit + count - 1
        if index < 0:
            return 0.0
        return self._times[index] + self.period + self.margin - now

    def available(self, now: float) -> int:
        self._prune(now)
        return self.limit - len(self._times)

    def record(self, now: float) -> None:
        self._times.append(now)

    def move(self, recorded: float, actual: float) -> None:
        """An event recorded at `recorded` happened at `actual` (later): count it from then."""
        times = self._times
        try:
            times.remove(recorded)
        except ValueError:
            return  # already out of the window
        bisect.insort(times, actual)

    def idle(self, now: float) -> bool:
        self._prune(now)
        return not self._times

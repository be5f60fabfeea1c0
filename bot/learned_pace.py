"""The pace a homeserver teaches with its 429s (Matrix).

Synapse limits each account on its own terms (`rc_message`: a burst, then a rate; an admin
may exempt the bot), and no setting of ours can know them. So the bot sends at full speed
until a 429 comes; then every send waits out its `retry_after_ms`, and for a while after
that the sends go one at a time, that far apart. Synapse's `retry_after_ms` is the time
until its bucket has room for one more, so one send per `retry_after` is what the account
is allowed once its burst is used up: the rest would only meet 429s of their own (each one
a wasted request and, with nio's own retries, a request that sleeps and comes back on its
own, past the pause). Sending at that pace keeps the homeserver's bucket full, so the pace
holds while the bot sends; after `FORGET_AFTER` seconds without a send (Synapse's bucket has
refilled by then, or the account was exempted meanwhile) it is forgotten. Forgotten while
sending, it cost a burst's worth of 429s every minute under stock limits.
"""

from __future__ import annotations

FORGET_AFTER = 60.0
# The homeserver counts a request when it arrives, a few milliseconds after its slot.
ARRIVAL_MARGIN = 0.035


class LearnedPace:
    """One send at a time, `gap` seconds apart, until `FORGET_AFTER` seconds pass without
    a send. Times are the limiter's monotonic seconds."""

    __slots__ = ("_before_last", "_gap", "_last", "_until")

    def __init__(self) -> None:
        self._gap = 0.0
        self._last = float("-inf")
        self._before_last = float("-inf")
        self._until = float("-inf")

    def learn(self, now: float, retry_after: float) -> None:
        """A 429 asking for `retry_after` seconds. Once paced, the refused send came
        `retry_after` too early, counted from the send before it: the gap grows to that
        (the first `retry_after` is counted from when the burst ran out, not from the last
        send that got through, and can be short of the account's pace)."""
        gap = retry_after + ARRIVAL_MARGIN
        if self.active(now):
            interval = self._last - self._before_last  # (after a quiet spell: no clue)
            self._gap = max(self._gap, gap + interval if interval < 2 * self._gap else gap)
        else:
            self._gap = gap
        self._until = now + retry_after + FORGET_AFTER

    def active(self, now: float) -> bool:
        return now < self._until

    def delay(self, now: float) -> float:
        """Seconds until the next send may go (0 also when no pace is learned)."""
        if not self.active(now):
            return 0.0
        return max(0.0, self._last + self._gap - now)

    def record(self, now: float) -> None:
        if self.active(now):
            self._until = max(self._until, now + FORGET_AFTER)
        self._before_last = self._last
        self._last = now

    @property
    def gap(self) -> float:
        return self._gap

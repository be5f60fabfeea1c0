"""The sliding-window limiter: no window of a second over the limit, wherever it starts."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.rate_limit import RateLimiter, RateLimits, limits_for, request_written
from bot.settings import ConfigurationError, load_settings
from bot.sliding_window import MARGIN, SlidingWindow
from tests.fault_transport import max_in_window


class ManualTime:
    """A sleeper whose time only moves when slept on or told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 1e-6)

    async def wait(self, event: asyncio.Event, seconds: float) -> bool:
        await self.sleep(seconds)
        return event.is_set()


TELEGRAM = RateLimits(per_second=25, private_per_second=1, group_per_minute=20, group_prefix="-")


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(
        st.tuples(
            st.floats(min_value=0, max_value=0.3, allow_nan=False),
            st.sampled_from(["1", "2", "3", "-4", "-5"] + [str(n) for n in range(10, 60)]),
        ),
        min_size=1,
        max_size=400,
    )
)
def test_no_window_ever_holds_more_than_the_limits(steps: list[tuple[float, str]]) -> None:
    time = ManualTime()
    limiter = RateLimiter(TELEGRAM, time)
    accepted: list[tuple[float, str]] = []
    for gap, chat in steps:
        time.now += gap
        if limiter.try_acquire(chat):
            accepted.append((time.now, chat))
    assert max_in_window([t for t, _ in accepted], 1.0) <= 25
    for chat in {c for _, c in accepted}:
        times = [t for t, c in accepted if c == chat]
        if chat.startswith("-"):
            assert max_in_window(times, 60.0) <= 20
        else:
            assert max_in_window(times, 1.0) <= 1


async def test_acquire_waits_and_keeps_the_overall_limit_at_full_speed() -> None:
    time = ManualTime()
    limiter = RateLimiter(TELEGRAM, time)
    start = time.now
    stamps = []
    for n in range(250):
        await limiter.acquire(str(n))
        stamps.append(time.now)
    assert max_in_window(stamps, 1.0) == 25
    # it does not dawdle either: 250 sends take about ten windows
    assert 9 <= stamps[-1] - start <= 10.1


async def test_one_private_chat_gets_at_most_one_message_a_second() -> None:
    time = ManualTime()
    limiter = RateLimiter(TELEGRAM, time)
    stamps = []
    for _ in range(5):
        await limiter.acquire("42")
        stamps.append(time.now)
    assert all(later - earlier > 1.0 for earlier, later in itertools.pairwise(stamps))
    assert limiter.chat_delay("43") == 0  # another chat is not held up


async def test_a_group_chat_gets_at_most_twenty_a_minute() -> None:
    time = ManualTime()
    limiter = RateLimiter(TELEGRAM, time)
    stamps = []
    for _ in range(41):
        await limiter.acquire("-100")
        stamps.append(time.now)
    assert max_in_window(stamps, 60.0) == 20
    assert stamps[20] - stamps[0] > 60


async def test_retry_after_pauses_every_chat() -> None:
    time = ManualTime()
    limiter = RateLimiter(TELEGRAM, time)
    assert limiter.try_acquire("1")
    limiter.pause(7.5)
    assert not limiter.try_acquire("2")
    assert limiter.available() == 0
    assert 7.4 < limiter.delay("3") <= 7.5
    await limiter.acquire("3")
    assert time.now >= 1000 + 7.5


def test_a_window_reports_how_long_until_more_slots_are_free() -> None:
    window = SlidingWindow(3, 1.0)
    for moment in (0.0, 0.2, 0.4):
        window.record(moment)
    assert window.available(0.5) == 0
    assert window.delay(0.5) == pytest.approx(0.5 + MARGIN)
    assert window.delay(0.5, count=3) == pytest.approx(0.9 + MARGIN)
    assert window.available(1.3) == 2


def test_memory_stays_flat_with_many_chats() -> None:
    time = ManualTime()
    limiter = RateLimiter(TELEGRAM, time)
    for n in range(20_000):
        time.now += 0.05
        assert limiter.try_acquire(str(n))
    assert limiter.tracked_chats <= 2048  # forgotten once their second has passed


def test_limits_come_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMM_TELEGRAM_RATE_PER_SECOND", "20")
    monkeypatch.setenv("TMM_MATRIX_RATE_PER_SECOND", "4")
    settings = load_settings(_env_file=None)
    telegram = limits_for(settings, "telegram")
    assert telegram == RateLimits(
        per_second=20, private_per_second=1, group_per_minute=20, group_prefix="-"
    )
    assert telegram.is_group("-100123")
    assert limits_for(settings, "matrix") == RateLimits(per_second=4)
    monkeypatch.setenv("TMM_TELEGRAM_RATE_PER_SECOND", "31")
    with pytest.raises(ConfigurationError, match="TMM_TELEGRAM_RATE_PER_SECOND"):
        load_settings(_env_file=None)


async def test_while_people_write_a_broadcast_leaves_a_slot_of_the_window_for_replies() -> None:
    time = ManualTime()
    limiter = RateLimiter(RateLimits(per_second=30), time)
    for n in range(30):  # a broadcast alone may use the whole window
        with limiter.push(f"b{n}"):
            await limiter.before_request()
    assert time.now < 1000.01
    time.now += 1.1  # the window is empty again
    with limiter.push("person", urgent=True):
        await limiter.before_request()  # someone is writing
    started = time.now
    for n in range(28):  # 1 reply + 28 = 29: one slot stays free
        with limiter.push(f"c{n}"):
            await limiter.before_request()
    assert time.now == started
    with limiter.push("c28"):
        await limiter.before_request()  # the 30th waits for the window to move on
    assert time.now > started + 0.9
    at = time.now  # a reply finds its slot at once
    with limiter.push("p", urgent=True):
        await limiter.before_request()
    assert time.now == at


async def _turns(
    limiter: RateLimiter, time: ManualTime, count: int, *, urgent_every: int = 0
) -> list[float]:
    """When each of `count` broadcast messages was let through `ready` (a reply between
    every `urgent_every` of them)."""
    times = []
    for n in range(count):
        if urgent_every and n % urgent_every == 0:
            with limiter.push(f"person{n}", urgent=True) as reply:
                await limiter.ready(reply)
                await limiter.before_request()
        with limiter.push(f"b{n}") as push:
            await limiter.ready(push)
            times.append(time.now)
            await limiter.before_request()
    return times


async def test_a_broadcast_goes_out_evenly_spaced_not_in_bunches() -> None:
    # Sent the moment slots free up, 30 would go at once and free their slots together a
    # second later; evenly spaced, a reply never finds the window full for long.
    time = ManualTime()
    limiter = RateLimiter(RateLimits(per_second=30), time)
    times = await _turns(limiter, time, 90)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 1 / 30 / 2 - 1e-9  # never two at once
    assert max_in_window(times, 0.1) <= 4
    assert 88 / (times[-1] - times[0]) >= 0.95 * 30  # and still at the window's rate


async def test_while_people_write_a_broadcast_is_paced_to_what_replies_leave() -> None:
    time = ManualTime()
    limiter = RateLimiter(RateLimits(per_second=30), time)
    # about 10 replies a second: one before every second broadcast message
    times = await _turns(limiter, time, 120, urgent_every=2)
    rate = (len(times) - 61) / (times[-1] - times[60])
    assert rate * 1.0001 >= 30 - 1 - 11  # what 10 a second (and the one slot) leave
    assert rate <= 30 - 1 - 9  # replies of the last second are taken off its share


async def test_a_request_written_late_counts_in_the_windows_from_when_it_was_written() -> None:
    # The process did not get the CPU for 80 ms between the slot and the request's write:
    # the platform saw it 80 ms late, so the slot that replaces it waits 80 ms longer.
    time = ManualTime()
    limiter = RateLimiter(RateLimits(per_second=2, private_per_second=1), time)
    start = time.now
    with limiter.push("1001"):
        await limiter.before_request()
        time.now += 0.080
        request_written()
    with limiter.push("1002"):
        await limiter.before_request()
        request_written()  # at once: nothing moves
    assert limiter.late_writes == 1
    assert limiter.platform_delay() == pytest.approx(1.0 + MARGIN, abs=1e-9)
    assert limiter.chat_delay("1001") == pytest.approx(1.0 + MARGIN, abs=1e-9)
    with limiter.push("1003"):
        await limiter.before_request()
    # the third waited for the late one's second (from its write), not its slot's
    assert time.now == pytest.approx(start + 0.080 + 1.0 + MARGIN, abs=1e-9)


async def test_a_request_written_without_a_slot_changes_nothing() -> None:
    time = ManualTime()
    limiter = RateLimiter(RateLimits(per_second=1), time)
    request_written()
    assert limiter.available() == 1


class TakingTurns(ManualTime):
    """Manual time whose sleeps let the other tasks run, as real sleeps do."""

    async def sleep(self, seconds: float) -> None:
        await super().sleep(seconds)
        await asyncio.sleep(0)


async def test_a_burst_of_replies_is_ready_only_for_the_slots_that_are_free() -> None:
    """Ten replies at once on a platform of 3 a second: no more are past `ready` (and so
    recorded as on the wire) than the window has free slots; the rest wait before it, where
    a stop or a kill leaves them unsent rather than in doubt."""
    time = TakingTurns()
    limiter = RateLimiter(RateLimits(per_second=3), time)
    ready_at: list[float] = []
    readied = most_readied = 0

    async def reply(n: int) -> None:
        nonlocal readied, most_readied
        push = limiter.push(f"chat-{n}", urgent=True)
        with push:
            await limiter.ready(push)
            ready_at.append(time.now)
            readied += 1
            most_readied = max(most_readied, readied)
            await asyncio.sleep(0)  # the attempting commit: others run meanwhile
            await limiter.before_request()
            readied -= 1

    await asyncio.gather(*(reply(n) for n in range(10)))
    assert len(ready_at) == 10
    assert most_readied <= 3
    assert max_in_window(sorted(ready_at), 1.0) <= 3

"""Matrix sends at full speed until the homeserver says 429; then every send waits out its
`retry_after_ms`, goes one at a time that far apart, replies first, and the pace is
forgotten after a minute without sends (bot/learned_pace.py)."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path
from typing import Any

import pytest
from nio import RoomSendError, RoomSendResponse

from bot.learned_pace import FORGET_AFTER
from bot.rate_limit import RateLimiter, RateLimits, limiter_for
from bot.settings import Settings
from bot.timing import RealSleeper
from bot.transports.base import RetryLater
from bot.transports.matrix import MatrixConfig, MatrixTransport
from conversations.core.messages import ChatRef, Choice, OutMessage
from tests.test_rate_limit import ManualTime

FAST = RateLimits(per_second=1000)


def too_many(retry_after_ms: int) -> RoomSendError:
    return RoomSendError.from_dict(
        {
            "errcode": "M_LIMIT_EXCEEDED",
            "error": "Too Many Requests",
            "retry_after_ms": retry_after_ms,
        },
        "!room:x",
    )


async def stamps_of(limiter: RateLimiter, time: ManualTime, count: int) -> list[float]:
    stamps = []
    for _ in range(count):
        await limiter.before_request()
        stamps.append(time.now)
    return stamps


def test_the_default_matrix_limiter_holds_nothing_back_and_learns(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        _env_file=None,  # type: ignore[call-arg]
    )
    limiter = limiter_for(settings, "matrix", ManualTime())
    assert limiter.available() >= 100  # no send interval, no low ceiling
    limiter.pause(2.0)
    assert limiter.available() == 0
    telegram_time = ManualTime()
    telegram = limiter_for(settings, "telegram", telegram_time)
    telegram.pause(2.0)
    telegram_time.now += 3.0
    assert telegram.available() > 1  # Telegram's limits are known: it does not learn


async def test_after_a_429_sends_go_one_at_a_time_until_a_quiet_minute() -> None:
    time = ManualTime()
    limiter = RateLimiter(FAST, time, learns=True)
    assert await stamps_of(limiter, time, 20) == [1000.0] * 20  # full speed before any 429
    limiter.pause(5.0)
    stamps = await stamps_of(limiter, time, 4)
    assert stamps[0] >= 1005.0
    assert all(later - earlier >= 5.0 for earlier, later in itertools.pairwise(stamps))
    assert limiter.available() == 0
    time.now += 5.1
    assert limiter.available() == 1  # one at a time, not the whole window
    time.now += FORGET_AFTER
    assert limiter.available() > 1
    now = time.now
    assert await stamps_of(limiter, time, 10) == [now] * 10


async def test_the_pace_holds_while_the_bot_sends_at_it() -> None:
    time = ManualTime()
    limiter = RateLimiter(FAST, time, learns=True)
    limiter.pause(5.0)
    stamps = await stamps_of(limiter, time, 3 * int(FORGET_AFTER / 5))  # three minutes
    assert all(later - earlier >= 5.0 for earlier, later in itertools.pairwise(stamps))


async def test_a_later_429_asking_less_keeps_the_longer_gap() -> None:
    time = ManualTime()
    limiter = RateLimiter(FAST, time, learns=True)
    limiter.pause(5.0)
    await limiter.before_request()
    limiter.pause(0.1)  # came a hair early: told only the rest
    stamps = await stamps_of(limiter, time, 3)
    assert all(later - earlier >= 5.0 for earlier, later in itertools.pairwise(stamps))


async def test_a_429_while_paced_grows_the_gap_to_the_accounts_pace() -> None:
    time = ManualTime()
    limiter = RateLimiter(FAST, time, learns=True)
    limiter.pause(4.5)  # counted from when the burst ran out: the account allows one per 5 s
    await stamps_of(limiter, time, 2)  # 4.535 s apart
    limiter.pause(0.4)  # the second came 0.4 s too early
    stamps = await stamps_of(limiter, time, 3)
    assert all(later - earlier >= 4.9 for earlier, later in itertools.pairwise(stamps))


async def test_while_paced_one_at_a_time_a_waiting_reply_takes_the_next_slot() -> None:
    limiter = RateLimiter(FAST, RealSleeper(), learns=True)
    limiter.pause(0.1)
    order: list[str] = []

    async def send(name: str, *, urgent: bool) -> None:
        with limiter.push(f"!{name}", urgent=urgent):
            await limiter.before_request()
            order.append(name)

    broadcast = [asyncio.create_task(send(f"b{n}", urgent=False)) for n in range(3)]
    await asyncio.sleep(0)  # the broadcast is waiting first
    reply = asyncio.create_task(send("reply", urgent=True))
    await asyncio.gather(*broadcast, reply)
    assert order[0] == "reply", order


class Homeserver:
    """nio's room_send answered by a script: 429s first, then the event."""

    def __init__(self, time: ManualTime, refusals: list[int]) -> None:
        self.time = time
        self.refusals = refusals
        self.sent: list[tuple[float, str]] = []
        self._ids = itertools.count(1)

    async def room_send(
        self, room_id: str, event_type: str, content: dict[str, Any], **_: object
    ) -> RoomSendResponse | RoomSendError:
        if self.refusals:
            return too_many(self.refusals.pop(0))
        self.sent.append((self.time.now, content.get("m.relates_to", {}).get("key", "text")))
        return RoomSendResponse(f"$e{next(self._ids)}", room_id)


def matrix_with(tmp_path: Path, limiter: RateLimiter, homeserver: Homeserver) -> MatrixTransport:
    matrix = MatrixTransport(
        MatrixConfig(homeserver="http://127.0.0.1:9", user_id="@bot:x", store_path=tmp_path),
        limiter=limiter,
    )
    matrix.client.room_send = homeserver.room_send
    return matrix


QUESTION = OutMessage(
    "Kommer du?", choices=(Choice("y", "Ja", "✅"), Choice("m", "Måske"), Choice("n", "Nej"))
)
ANNA = ChatRef("matrix", "!room:x", "@anna:x")


async def test_a_429_pauses_the_account_and_the_request_goes_again_after_it(
    tmp_path: Path,
) -> None:
    time = ManualTime()
    limiter = RateLimiter(FAST, time, learns=True)
    homeserver = Homeserver(time, refusals=[2000])
    matrix = matrix_with(tmp_path, limiter, homeserver)
    try:
        with limiter.push(ANNA.chat_id):
            await matrix.send(ANNA, QUESTION)
    finally:
        await matrix.client.close()
    times = [when for when, _ in homeserver.sent]
    assert [what for _, what in homeserver.sent] == ["text", "✅", "2️⃣", "3️⃣"]  # none dropped
    assert times[0] >= 1002.0  # the refused text waited out the 429's 2 s
    assert all(later - earlier >= 2.0 for earlier, later in itertools.pairwise(times))


async def test_429s_past_the_retries_fail_the_send_for_its_row_to_be_tried_again(
    tmp_path: Path,
) -> None:
    time = ManualTime()
    limiter = RateLimiter(FAST, time, learns=True)
    homeserver = Homeserver(time, refusals=[500] * 4)  # the first try and 3 retries
    matrix = matrix_with(tmp_path, limiter, homeserver)
    try:
        with pytest.raises(RetryLater):
            await matrix.send(ANNA, QUESTION)
    finally:
        await matrix.client.close()
    assert homeserver.sent == []
    assert time.now >= 1001.5  # three waits of 0.5 s between the four tries

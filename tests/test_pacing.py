"""One rate limiter per platform: every send takes its slot from it, right before the request.

Replies, outbox messages, progress edits, command menus and Matrix reactions all go through
the same limiter; a transport with requests of its own takes the slot inside its request
path, so nothing waits between the slot and the request.
"""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path
from typing import Any

import pytest
from nio import RoomSendResponse

from bot.app import BotApp
from bot.i18n import catalogs
from bot.rate_limit import RateLimiter, RateLimits, limiter_for
from bot.settings import Settings
from bot.timing import ClockSleeper, RealSleeper
from bot.transports.matrix import MatrixConfig, MatrixTransport
from bot.transports.pacing import PacedCalls, paced
from bot.transports.telegram import TelegramTransport
from conversations.core.messages import (
    Attachment,
    ChatRef,
    Choice,
    ChoiceEcho,
    Location,
    Outgoing,
    OutMessage,
)
from storage.clock import FrozenClock
from storage.models import Role
from tests.fault_transport import Faults, FaultTransport, enqueue_broadcast, seed_people
from tests.telegram_fake_api import EDIT_METHODS, SEND_METHODS, FakeBotAPI
from tests.test_rate_limit import TELEGRAM, ManualTime

ANNA = ChatRef("telegram", "1001", "1001")


class CountingLimiter(RateLimiter):
    """Counts the slots requests took."""

    def __init__(self, limits: RateLimits) -> None:
        super().__init__(limits, RealSleeper())
        self.slots = 0

    async def before_request(self) -> None:
        await super().before_request()
        self.slots += 1


def telegram_settings(tmp_path: Path) -> Settings:
    return Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        _env_file=None,  # type: ignore[call-arg]
    )


async def test_a_push_counts_its_first_request_in_the_chat_window_and_a_reply_never() -> None:
    time = ManualTime()
    limiter = RateLimiter(TELEGRAM, time)
    push = limiter.push("42")
    assert limiter.pending_pushes == 1
    with push:
        await limiter.before_request()
        assert limiter.pending_pushes == 0
        await limiter.before_request()  # the second part of a long text: no wait for the chat
    assert time.now == 1000
    assert limiter.chat_delay("42") > 0
    await limiter.before_request()  # a reply to the same chat: the platform's window only
    assert time.now == 1000
    with limiter.push("42"):
        await limiter.before_request()  # the next push waits out the chat's second
    assert time.now > 1001


def test_a_push_that_sends_nothing_stops_being_pending() -> None:
    limiter = RateLimiter(TELEGRAM, ManualTime())
    with limiter.push("42"):
        pass
    assert limiter.pending_pushes == 0
    assert limiter.chat_delay("42") == 0


async def test_matrix_keeps_its_send_interval_between_any_two_requests(tmp_path: Path) -> None:
    time = ManualTime()
    settings = telegram_settings(tmp_path).model_copy(update={"matrix_send_interval_ms": 200})
    limiter = limiter_for(settings, "matrix", time)
    stamps = []
    for _ in range(5):
        await limiter.before_request()
        stamps.append(time.now)
    assert all(later - earlier >= 0.2 for earlier, later in itertools.pairwise(stamps))
    assert limiter.limits == RateLimits(per_second=settings.matrix_rate_per_second)


async def test_replies_and_outbox_sends_share_one_limiter_and_keep_its_windows(
    tmp_path: Path, clock: FrozenClock
) -> None:
    platform = FaultTransport(clock)  # strict: records every second over the limits
    app = BotApp(telegram_settings(tmp_path), [platform], clock=clock, sleeper=ClockSleeper(clock))
    await app.migrate()
    try:
        worker = app.delivery_worker("telegram")
        assert app.limiter("telegram") is worker.limiter
        people = await seed_people(app.uow, clock, 60)
        await enqueue_broadcast(app.uow, people, batch=None)
        replies = [
            Outgoing(ChatRef("telegram", str(50_000 + n), str(50_000 + n)), OutMessage("Hej"))
            for n in range(60)
        ]

        async def converse() -> None:
            for reply in replies:
                await app.deliver([reply])

        await asyncio.gather(app.drain_outbox(follow_future=True), converse())

        assert len(platform.send_times) == 120
        assert platform.violations == []
        assert platform.largest_second() <= 25
    finally:
        await app.close()


async def test_a_retry_after_on_a_reply_holds_the_outbox_back(
    tmp_path: Path, clock: FrozenClock
) -> None:
    faults = Faults(retry_after_rate=1.0, retry_after_seconds=(5, 5))
    platform = FaultTransport(clock, faults=faults)
    app = BotApp(telegram_settings(tmp_path), [platform], clock=clock, sleeper=ClockSleeper(clock))
    await app.migrate()
    try:
        limiter = app.limiter("telegram")
        await app.deliver([Outgoing(ANNA, OutMessage("Hej"))])
        assert limiter.paused_for() == pytest.approx(5)
        assert limiter.available() == 0
    finally:
        await app.close()


def test_pacing_wraps_a_plain_transport_once_and_paces_a_real_one_in_place() -> None:
    limiter = RateLimiter(TELEGRAM, ManualTime())
    wrapped = paced(FaultTransport(FrozenClock()), limiter)
    assert isinstance(wrapped, PacedCalls)
    assert paced(wrapped, limiter) is wrapped
    telegram = TelegramTransport("1:x")
    assert paced(telegram, limiter) is telegram
    assert telegram.limiter is limiter


@pytest.fixture
async def fake() -> Any:
    server = FakeBotAPI()
    await server.start()
    yield server
    await server.stop()


async def test_no_request_reaches_the_bot_api_without_a_slot(fake: FakeBotAPI) -> None:
    limiter = CountingLimiter(RateLimits(per_second=30))
    tg = TelegramTransport(
        "4242:FAKE", api_base_url=fake.url, limiter=limiter, translations=catalogs()
    )
    await tg.application.initialize()
    try:
        question = OutMessage(
            "\n\n".join(f"Afsnit {n}: " + "gå og snak " * 80 for n in range(8)),  # 2+ parts
            choices=(Choice("yes", "Tæl mig med", "✅"), Choice("no", "Kan ikke")),
            prompt_id="p1",
        )
        sent = await tg.send(ANNA, question)
        assert sent.message_id is not None
        await tg.echo(ANNA, ChoiceEcho(sent.message_id, "Tæl mig med"))
        picture = Attachment("qr.png", b"\x89PNG fake", "image/png")
        await tg.send(ANNA, OutMessage("x" * 2000, attachment=picture))  # caption too long
        await tg.send(ANNA, OutMessage("Her", location=Location(55.7, 12.5, "Søen")))
        await tg.edit(ANNA, sent.message_id, OutMessage("Rettet"))
        await tg.show_commands("1001", Role.CITIZEN, "da")
    finally:
        await tg.application.shutdown()
    paced_methods = SEND_METHODS | EDIT_METHODS | {"setMyCommands", "deleteMyCommands"}
    requests = [method for method in fake.requests if method in paced_methods]
    assert len(requests) >= 10
    assert limiter.slots == len(requests)


async def test_matrix_messages_and_their_reactions_each_take_a_slot(tmp_path: Path) -> None:
    limiter = CountingLimiter(RateLimits(per_second=10))
    matrix = MatrixTransport(
        MatrixConfig(homeserver="http://127.0.0.1:9", user_id="@bot:x", store_path=tmp_path),
        limiter=limiter,
    )
    slots_at_send: list[int] = []
    ids = itertools.count(1)

    async def room_send(room_id: str, *_args: object, **_kwargs: object) -> RoomSendResponse:
        slots_at_send.append(limiter.slots)
        return RoomSendResponse(f"$e{next(ids)}", room_id)

    matrix.client.room_send = room_send  # type: ignore[assignment, method-assign]
    try:
        ref = ChatRef("matrix", "!room:x", "@anna:x")
        choices = (Choice("y", "Ja", "✅"), Choice("m", "Måske"), Choice("n", "Nej"))
        question = OutMessage("Kommer du?", choices=choices)
        with limiter.push(ref.chat_id):
            await matrix.send(ref, question)
        await matrix.edit(ref, "$e1", OutMessage("Rettet"))
    finally:
        await matrix.client.close()
    assert slots_at_send == [1, 2, 3, 4, 5]  # the message, three reactions, the edit

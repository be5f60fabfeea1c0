"""The Telegram transport against a strict, misbehaving fake Bot API: limits and errors."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest

from bot.rate_limit import RateLimiter, RateLimits
from bot.settings import Settings
from bot.timing import RealSleeper
from bot.transports.base import (
    AmbiguousDelivery,
    PermanentFailure,
    RecipientBlocked,
    RetryLater,
    TemporaryFailure,
    TransportStopped,
)
from bot.transports.telegram import TelegramTransport
from conversations.core.messages import (
    Attachment,
    ChatRef,
    Choice,
    ChoiceEcho,
    Inbound,
    Location,
    OutMessage,
)
from handlers.router import Handled
from storage.clock import FrozenClock
from tests.telegram_fake_api import FakeBotAPI, Fault
from tests.telegram_support import RunningBot

TOKEN = "4242:FAKE-token-for-tests"
ANNA = ChatRef("telegram", "1001", "1001")


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    server = FakeBotAPI()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def transport(fake: FakeBotAPI) -> AsyncIterator[TelegramTransport]:
    limiter = RateLimiter(RateLimits(per_second=30), RealSleeper())
    tg = TelegramTransport(TOKEN, api_base_url=fake.url, request_timeout=0.5, limiter=limiter)
    await tg.application.initialize()
    yield tg
    await tg.application.shutdown()


def question(text: str = "Are you coming?") -> OutMessage:
    return OutMessage(
        text,
        choices=(Choice("yes", "Count me in", "✅"), Choice("no", "Can't", "🚫")),
        prompt_id="p1",
    )


async def test_keyboard_one_button_a_row_with_short_callback_data(
    fake: FakeBotAPI, transport: TelegramTransport
) -> None:
    sent = await transport.send(ANNA, question())
    (params,) = fake.sent_to(1001, "sendMessage")
    rows = params["reply_markup"]["inline_keyboard"]
    assert [[b["text"] for b in row] for row in rows] == [["✅ Count me in"], ["🚫 Can't"]]
    assert [row[0]["callback_data"] for row in rows] == ["p1:yes", "p1:no"]
    assert params["parse_mode"] == "HTML"
    assert sent.message_id is not None


async def test_text_is_escaped_so_people_see_it_as_written(
    fake: FakeBotAPI, transport: TelegramTransport
) -> None:
    text = "Bring <b>boots</b> & a <thermos> — 5 < 6"
    await transport.send(ANNA, OutMessage(text))
    (params,) = fake.sent_to(1001, "sendMessage")
    assert "&lt;thermos&gt;" in params["text"]
    # the fake parses HTML like Telegram: what is shown equals what we wrote
    assert fake._messages[("1001", 1)]["text"] == text


async def test_long_text_is_split_at_paragraphs_keyboard_on_the_last_part(
    fake: FakeBotAPI, transport: TelegramTransport
) -> None:
    paragraphs = [f"Paragraph {n}: " + "walk & talk " * 60 for n in range(14)]
    text = "\n\n".join(paragraphs)
    assert len(text) > 2 * 4096
    await transport.send(ANNA, question(text))
    parts = fake.sent_to(1001, "sendMessage")
    assert len(parts) >= 3
    assert all("reply_markup" not in p for p in parts[:-1])
    assert "reply_markup" in parts[-1]
    shown = [fake._messages[("1001", n)]["text"] for n in range(1, len(parts) + 1)]
    assert all(len(part) <= 4096 for part in shown)
    assert "\n\n".join(shown) == text  # cut only between paragraphs


async def test_callback_data_over_64_bytes_is_refused_before_sending(
    fake: FakeBotAPI, transport: TelegramTransport
) -> None:
    message = OutMessage("?", choices=(Choice("x" * 62, "X"),), prompt_id="p1")
    with pytest.raises(PermanentFailure):
        await transport.send(ANNA, message)
    assert fake.sent == []


async def test_images_as_photos_files_as_documents_places_as_venues(
    fake: FakeBotAPI, transport: TelegramTransport
) -> None:
    png = Attachment("qr.png", b"\x89PNG fake", "image/png")
    ics = Attachment("walk.ics", b"BEGIN:VCALENDAR", "text/calendar")
    await transport.send(ANNA, OutMessage("Your ticket", attachment=png))
    await transport.send(ANNA, OutMessage("In your calendar", attachment=ics))
    await transport.send(ANNA, OutMessage("Meet here", location=Location(55.7, 12.5, "The lake")))
    methods = [name for name, _ in fake.sent]
    assert methods == ["sendPhoto", "sendDocument", "sendVenue", "sendMessage"]
    assert fake.sent[1][1]["document"]["file_name"] == "walk.ics"
    assert fake.sent[1][1]["document"]["content"] == b"BEGIN:VCALENDAR"
    assert fake.sent[0][1]["caption"] == "Your ticket"


async def test_echo_shows_the_choice_and_removes_the_buttons(
    fake: FakeBotAPI, transport: TelegramTransport
) -> None:
    sent = await transport.send(ANNA, question("Walk <on> Sunday?"))
    assert sent.message_id is not None
    await transport.echo(ANNA, ChoiceEcho(sent.message_id, "Count me in"))
    edit = fake.sent[-1]
    assert edit[0] == "editMessageText"
    shown = fake._messages[("1001", int(sent.message_id))]
    assert shown["text"] == "Walk <on> Sunday?\n\n✓ Count me in"
    assert "reply_markup" not in shown


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault.FORBIDDEN, RecipientBlocked),
        (Fault.BAD_REQUEST, PermanentFailure),
        (Fault.SERVER_ERROR, TemporaryFailure),
        (Fault.BAD_GATEWAY, TemporaryFailure),
        (Fault.SLOW, AmbiguousDelivery),
        (Fault.DROP, AmbiguousDelivery),
    ],
)
async def test_bot_api_failures_map_to_delivery_errors(
    fake: FakeBotAPI,
    transport: TelegramTransport,
    fault: Fault,
    error: type[Exception],
) -> None:
    fake.fail("sendMessage", fault, delay=2.0)
    with pytest.raises(error):
        await transport.send(ANNA, OutMessage("Hello"))


async def test_dropped_connection_after_processing_is_ambiguous_not_lost(
    fake: FakeBotAPI, transport: TelegramTransport
) -> None:
    fake.fail("sendMessage", Fault.DROP)
    with pytest.raises(AmbiguousDelivery):
        await transport.send(ANNA, OutMessage("Hello"))
    assert len(fake.sent_to(1001, "sendMessage")) == 1  # it did arrive


async def test_retry_after_is_reported_and_pauses_all_sends(
    fake: FakeBotAPI, transport: TelegramTransport
) -> None:
    fake.fail("sendMessage", Fault.RETRY_AFTER, retry_after=7)
    with pytest.raises(RetryLater) as caught:
        await transport.send(ANNA, OutMessage("Hello"))
    assert caught.value.seconds == 7
    assert transport.limiter is not None
    assert transport.limiter.paused_for() > 0


async def test_flood_limit_of_the_fake_is_enforced(fake: FakeBotAPI) -> None:
    fake.per_chat_per_second = 2
    tg = TelegramTransport(TOKEN, api_base_url=fake.url)
    await tg.application.initialize()
    try:
        await tg.send(ANNA, OutMessage("1"))
        await tg.send(ANNA, OutMessage("2"))
        with pytest.raises(RetryLater):
            await tg.send(ANNA, OutMessage("3"))
    finally:
        await tg.application.shutdown()


async def test_unreachable_server_is_a_temporary_failure() -> None:
    tg = TelegramTransport(TOKEN, api_base_url="http://127.0.0.1:9", request_timeout=0.5)
    with pytest.raises(TransportStopped):
        await tg.run(lambda inbound: asyncio.sleep(0))


@pytest.fixture
def fake_settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, _env_file=None)  # type: ignore[call-arg]


async def test_second_poller_409_is_reported_once_and_stops(
    fake: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    tg = TelegramTransport(TOKEN, api_base_url=fake.url, poll_timeout=1)
    fake.fail("getUpdates", Fault.CONFLICT, times=50)
    with caplog.at_level(logging.ERROR), pytest.raises(TransportStopped, match="409"):
        await asyncio.wait_for(tg.run(lambda inbound: asyncio.sleep(0)), 20)
    conflicts = [r for r in caplog.records if "another process is receiving updates" in r.message]
    assert len(conflicts) == 1
    assert not tg.receiving


async def test_failing_command_menus_are_logged_not_fatal(
    fake: FakeBotAPI, fake_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    fake.fail("setMyCommands", Fault.SERVER_ERROR, times=10)
    running = RunningBot(fake_settings, fake.url, TOKEN, clock=FrozenClock())
    with caplog.at_level(logging.WARNING):
        await running.start()
    try:
        assert any("command menu" in r.message for r in caplog.records)
        fake.push_update(fake.message_update(77, "/start"))
        await running.wait_handled(1)
        assert fake.sent_to(77, "sendMessage")
    finally:
        await running.stop()


async def test_a_403_on_reply_marks_the_person_blocked(
    fake: FakeBotAPI, fake_settings: Settings
) -> None:
    running = RunningBot(fake_settings, fake.url, TOKEN, clock=FrozenClock())
    await running.start()
    try:
        fake.push_update(fake.message_update(78, "/start"))
        await running.wait_handled(1)
        fake.blocked.add("78")
        fake.push_update(fake.message_update(78, "/help"))
        await running.wait_handled(2)
        async with running.app.uow() as uow:
            identity = await uow.persons.find_identity("telegram", "78")
            assert identity is not None
            assert identity.blocked_at is not None
    finally:
        await running.stop()


async def test_edit_replaces_text_and_keyboard(
    fake: FakeBotAPI, transport: TelegramTransport
) -> None:
    sent = await transport.send(ANNA, OutMessage("Sending 0 of 10"))
    assert sent.message_id is not None
    await transport.edit(ANNA, sent.message_id, question("Sent 10 of 10 <done>"))
    shown = fake._messages[("1001", int(sent.message_id))]
    assert shown["text"] == "Sent 10 of 10 <done>"
    assert len(shown["reply_markup"]["inline_keyboard"]) == 2


async def test_stop_finishes_the_update_in_hand(fake: FakeBotAPI, fake_settings: Settings) -> None:
    running = RunningBot(fake_settings, fake.url, TOKEN, clock=FrozenClock())
    await running.start()
    started = asyncio.Event()
    handle = running.app.router.handle

    async def slow_handle(inbound: Inbound, *, last_try: bool = True) -> Handled:
        started.set()
        await asyncio.sleep(0.3)
        return await handle(inbound, last_try=last_try)

    running.app.router.handle = slow_handle  # type: ignore[method-assign]
    fake.push_update(fake.message_update(79, "/start"))
    await asyncio.wait_for(started.wait(), 20)
    await running.stop()  # as SIGTERM does: stop polling, finish what is in hand
    assert running.handled == 1
    assert fake.sent_to(79, "sendMessage"), "the reply to the update in hand was lost"
    async with running.app.uow() as uow:
        assert await uow.persons.find_identity("telegram", "79") is not None


async def test_a_photo_people_sent_is_fetched_as_bytes(
    fake: FakeBotAPI, transport: TelegramTransport
) -> None:
    """The snap-log stores Telegram photos as files: getFile, then the file download."""
    fake.files["photo-1"] = b"\x89PNG fake picture bytes"
    assert await transport.fetch("photo-1") == b"\x89PNG fake picture bytes"
    with pytest.raises(PermanentFailure):
        await transport.fetch("no-such-file")

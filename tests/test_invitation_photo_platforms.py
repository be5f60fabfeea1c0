"""An invitation's photo as each platform shows it: on a real Synapse an m.image whose body
is the text alternative, then the card with its reactions (answered by one), broadcast or
opened by its link; on Telegram
(the project's fake Bot API) the photo, then the card with its buttons (the message answers
and changes edit); on the console the text alternative above the card."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.rate_limit import RateLimiter, RateLimits
from bot.settings import Settings
from bot.timing import RealSleeper
from bot.transports.console import ConsoleTransport
from bot.transports.telegram import TelegramTransport
from conversations.core.messages import Attachment, ChatRef, Choice, OutMessage
from tests.fakes import Chat, RecordingTransport
from tests.matrix_people import Citizen, RunningBot, matrix_config
from tests.snap_support import CountingFetcher
from tests.synapse import Synapse
from tests.telegram_fake_api import FakeBotAPI
from tests.test_invitation_photo import publish_with_photo
from tests.test_matrix_e2e import onboard

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
TOKEN = "4242:FAKE-token-for-tests"
ANNA = ChatRef("telegram", "1001", "1001")


def invitation(text: str) -> OutMessage:
    photo = Attachment("cover.png", PNG, "image/png", "Tre mennesker ved et bål")
    choices = (Choice("yes", "Tæl mig med", "✅"), Choice("no", "Kan ikke", "❌"))
    return OutMessage(text, choices=choices, attachment=photo, prompt_id="p1")


# -- Matrix: a real Synapse -------------------------------------------------------------------


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
async def test_on_matrix_the_invitation_is_an_image_with_its_text_then_the_card(
    synapse: Synapse, tmp_path: Path, request: pytest.FixtureRequest, encrypted: bool
) -> None:
    fake = RecordingTransport()
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        coordinators=["fake:kim"],
        media_path=tmp_path / "media",
        _env_file=None,  # type: ignore[call-arg]
    )
    running = RunningBot(settings, matrix_config(synapse, tmp_path, request), extra=[fake])
    await running.start()
    app = running.app
    assert app is not None
    kim = Chat(app, fake)
    anna = await Citizen.connect(synapse, f"photoanna{int(encrypted)}", tmp_path)
    try:
        room = await anna.open_dm(running.config.user_id, encrypted=encrypted)
        await onboard(anna, room)
        await kim.onboard("kim", name="Kim")
        app.snap_files.fetchers["fake"] = CountingFetcher(content=PNG)
        await publish_with_photo(kim, says="Tre mennesker ved et bål")
        await app.snap_files.drain()
        before = len(anna.messages_in(room))
        await app.drain_outbox()
        [image, card] = await anna.replies(room, before, 2)
        assert image.msgtype == "m.image"
        assert image.body == "Tre mennesker ved et bål"  # the text alternative
        assert image.content["info"]["mimetype"] == "image/jpeg"  # as the photo came
        assert card.msgtype == "m.text"
        assert card.body.startswith("🌿 Skovtur med suppe")
        assert "1. ✅" in card.body
        # the card carries the reactions, and one answers the invitation
        await anna.wait_until(lambda: "✅" in card.reactions, "the card's ✅ reaction")
        before = len(anna.messages_in(room))
        await anna.react(room, card.event_id, "✅")
        [confirmed, *_] = await anna.replies(room, before)
        assert "du er med" in confirmed.body
    finally:
        await anna.close()
        await running.stop()


# -- Telegram: the fake Bot API ---------------------------------------------------------------


@pytest.fixture
async def fake_api() -> AsyncIterator[FakeBotAPI]:
    server = FakeBotAPI()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def telegram(fake_api: FakeBotAPI) -> AsyncIterator[TelegramTransport]:
    limiter = RateLimiter(RateLimits(per_second=30), RealSleeper())
    tg = TelegramTransport(TOKEN, api_base_url=fake_api.url, request_timeout=2, limiter=limiter)
    await tg.application.initialize()
    yield tg
    await tg.application.shutdown()


@pytest.mark.parametrize("length", ["short", "longer than a caption"])
async def test_on_telegram_the_photo_goes_first_then_the_card_with_its_buttons(
    fake_api: FakeBotAPI, telegram: TelegramTransport, length: str
) -> None:
    text = "🌿 Skovtur med suppe\n🗓 lørdag kl. 10"
    if length != "short":
        text += "\n\n" + "Vi går en tur i skoven. " * 60  # > 1,024, a caption's limit
    sent = await telegram.send(ANNA, invitation(text))
    [(first, photo), (second, card)] = fake_api.sent
    assert (first, second) == ("sendPhoto", "sendMessage")
    assert photo["photo"]["content"] == PNG
    assert "reply_markup" not in photo
    assert not photo.get("caption")
    assert card["text"].startswith("🌿 Skovtur med suppe")
    assert "reply_markup" in card  # the buttons under the card
    # the card is the message an answer edits
    card_id = max(n for (_chat, n) in fake_api._messages)
    assert sent.message_id == str(card_id)
    assert fake_api._messages[("1001", card_id)]["text"].startswith("🌿")


# -- the console --------------------------------------------------------------------------------


async def test_on_the_console_the_photo_is_its_text_alternative() -> None:
    out = io.StringIO()
    console = ConsoleTransport(output=out)
    await console.send(ChatRef("console", "anna", "anna"), invitation("🌿 Skovtur med suppe"))
    shown = await asyncio.to_thread(out.getvalue)
    assert "🖼 Tre mennesker ved et bål" in shown
    assert shown.index("🖼") < shown.index("🌿 Skovtur med suppe")
    assert "cover.png" not in shown  # no file name where a picture cannot be shown


async def test_on_matrix_the_invitation_opened_by_its_link_comes_with_the_photo(
    synapse: Synapse, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """`!start ev_…` from someone who came after publishing: the image with its text
    alternative, then the card, whose reaction answers."""
    fake = RecordingTransport()
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        coordinators=["fake:kim"],
        media_path=tmp_path / "media",
        _env_file=None,  # type: ignore[call-arg]
    )
    running = RunningBot(settings, matrix_config(synapse, tmp_path, request), extra=[fake])
    await running.start()
    app = running.app
    assert app is not None
    kim = Chat(app, fake)
    bo = await Citizen.connect(synapse, "photolinkbo", tmp_path)
    try:
        await kim.onboard("kim", name="Kim")
        app.snap_files.fetchers["fake"] = CountingFetcher(content=PNG)
        event = await publish_with_photo(kim, says="Tre mennesker ved et bål")
        await app.snap_files.drain()
        room = await bo.open_dm(running.config.user_id, encrypted=False)
        await onboard(bo, room)
        image, card = await bo.ask(room, f"!start ev_{event.link_code}", 2)
        assert image.msgtype == "m.image"
        assert image.body == "Tre mennesker ved et bål"
        assert await bo.download(image) == PNG
        assert card.msgtype == "m.text"
        assert card.body.startswith("🌿 Skovtur med suppe")
        await bo.wait_until(lambda: "✅" in card.reactions, "the card's ✅ reaction")
        before = len(bo.messages_in(room))
        await bo.react(room, card.event_id, "✅")
        [confirmed, *_] = await bo.replies(room, before)
        assert "du er med" in confirmed.body
    finally:
        await bo.close()
        await running.stop()

"""A bot that is also on Matrix gives each event a matrix.to link beside the t.me one (Matrix
has no start payload, so the line says what to write), and a QR code even without a
Telegram name."""

from __future__ import annotations

import pytest

from bot.settings import Settings
from tests.fakes import Chat
from tests.test_events import create_event

MATRIX_LINK = "https://matrix.to/#/@taelmigmed:example.org"


def matrix_settings(database_url: str, **more: str) -> Settings:
    return Settings(
        database_url=database_url,
        admins=["fake:admin"],
        coordinators=["fake:kim"],
        matrix_homeserver="https://matrix.example.org",
        matrix_user_id="@taelmigmed:example.org",
        _env_file=None,  # type: ignore[call-arg]
        **more,
    )


class TestBothPlatforms:
    @pytest.fixture
    def settings(self, database_url: str) -> Settings:
        return matrix_settings(database_url, telegram_bot_username="taelmigmed_bot")

    async def test_the_published_event_has_both_links(self, chat: Chat) -> None:
        await chat.onboard("kim", name="Kim")
        event = await create_event(chat, audience="link")
        published = chat.last_text("kim")
        assert f"https://t.me/taelmigmed_bot?start=ev_{event.link_code}" in published
        assert f"{MATRIX_LINK}, og skriv så !start ev_{event.link_code}" in published
        replies = await chat.tap("kim", "qr")
        assert replies[-1].attachment is not None
        assert "t.me/taelmigmed_bot" in replies[-1].text  # the poster's code opens the event
        assert MATRIX_LINK in replies[-1].text


class TestMatrixOnly:
    @pytest.fixture
    def settings(self, database_url: str) -> Settings:
        return matrix_settings(database_url)

    async def test_the_qr_code_opens_the_chat_and_the_poster_says_what_to_write(
        self, chat: Chat
    ) -> None:
        await chat.onboard("kim", name="Kim")
        event = await create_event(chat, audience="link")
        published = chat.last_text("kim")
        assert "t.me" not in published
        assert f"!start ev_{event.link_code}" in published
        replies = await chat.tap("kim", "qr")
        qr = replies[-1]
        assert qr.attachment is not None
        assert qr.attachment.content.startswith(b"\x89PNG")
        assert MATRIX_LINK in qr.text
        assert f"!start ev_{event.link_code}" in qr.text
        assert "TMM_TELEGRAM_BOT_USERNAME" not in qr.text

"""With the bot's Telegram name configured, the coordinator gets a QR code picture."""

from __future__ import annotations

import pytest

from bot.settings import Settings
from tests.fakes import Chat
from tests.test_events import create_event


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        admins=["fake:admin"],
        coordinators=["fake:kim"],
        telegram_bot_username="taelmigmed_bot",
        _env_file=None,  # type: ignore[call-arg]
    )


async def test_qr_code_png_of_the_deep_link(chat: Chat) -> None:
    await chat.onboard("kim", name="Kim")
    event = await create_event(chat, audience="link")
    url = f"https://t.me/taelmigmed_bot?start=ev_{event.link_code}"
    assert url in chat.last_text("kim")
    replies = await chat.tap("kim", "qr")
    attachment = replies[-1].attachment
    assert attachment is not None
    assert attachment.mime_type == "image/png"
    assert attachment.content.startswith(b"\x89PNG")
    await chat.say("kim", "/qr")
    replies = await chat.tap("kim", f"e{event.id}")
    assert replies[-1].attachment is not None
    assert url in replies[-1].text


async def test_citizen_cannot_use_the_qr_button(chat: Chat) -> None:
    await chat.onboard("kim", name="Kim")
    await chat.onboard("anna")
    await create_event(chat, audience="link")
    published = chat.last_question("kim")
    assert published.prompt_id is not None
    replies = await chat.press("anna", published.prompt_id, "qr")
    assert all(m.attachment is None for m in replies)

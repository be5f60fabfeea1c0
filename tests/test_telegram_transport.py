"""The Telegram transport's pure parts: updates to Inbound, text splitting, errors."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from telegram import Update

from bot.rate_limit import RateLimiter, RateLimits
from bot.settings import ConfigurationError, load_settings
from bot.timing import RealSleeper
from bot.transports.telegram import (
    MAX_TEXT,
    TelegramTransport,
    map_error,
    menu_name,
    split_text,
)
from conversations.core.messages import ChatRef, Command, MediaKind, Membership, OutMessage
from tests.telegram_fake_api import FakeBotAPI

USER = {"id": 7, "is_bot": False, "first_name": "Ane", "language_code": "en"}
CHAT = {"id": 7, "type": "private", "first_name": "Ane"}


@pytest.fixture
async def transport() -> AsyncIterator[TelegramTransport]:
    fake = FakeBotAPI()
    await fake.start()
    tg = TelegramTransport("1:x", api_base_url=fake.url)
    await tg.application.initialize()  # getMe: the bot is @FakeBot
    yield tg
    await tg.application.shutdown()
    await fake.stop()


def update(**content: Any) -> Update:
    data = {"update_id": 31, **content}
    parsed = Update.de_json(data, None)
    assert parsed is not None
    return parsed


def message(**fields: Any) -> dict[str, Any]:
    return {"message_id": 5, "date": 1, "chat": CHAT, "from": USER, **fields}


def command(text: str) -> dict[str, Any]:
    length = len(text.split(" ", 1)[0])
    return message(text=text, entities=[{"type": "bot_command", "offset": 0, "length": length}])


async def test_deep_link_payload_and_bot_name(transport: TelegramTransport) -> None:
    inbound = transport.to_inbound(update(message=command("/start@FakeBot co_ABCDE")))
    assert inbound is not None
    assert inbound.command == Command("start", "co_ABCDE")
    assert inbound.event_id == "31"
    assert inbound.sender_name == "Ane"
    assert inbound.language_hint == "en"
    assert (inbound.ref.platform, inbound.ref.chat_id, inbound.ref.user_id) == (
        "telegram",
        "7",
        "7",
    )


async def test_command_for_another_bot_is_ignored(transport: TelegramTransport) -> None:
    assert transport.to_inbound(update(message=command("/start@OtherBot"))) is None


async def test_text_callback_and_malformed_callback(transport: TelegramTransport) -> None:
    text = transport.to_inbound(update(message=message(text="hej med dig")))
    assert text is not None
    assert text.text == "hej med dig"
    query = {"id": "q", "from": USER, "chat_instance": "c", "data": "abc123:yes"}
    query["message"] = message(text="?")
    pick = transport.to_inbound(update(callback_query=query))
    assert pick is not None
    assert pick.choice is not None
    assert (pick.choice.prompt_id, pick.choice.choice_id) == ("abc123", "yes")
    assert transport.to_inbound(update(callback_query={**query, "data": "junk"})) is None


async def test_a_group_message_or_press_is_not_a_private_chat(transport: TelegramTransport) -> None:
    group = {"id": -1001234, "type": "supergroup", "title": "Naturgruppen"}
    typed = transport.to_inbound(update(message={**command("/start"), "chat": group}))
    assert typed is not None
    assert typed.command == Command("start", "")
    assert typed.private_chat is False
    assert typed.ref.chat_id == "-1001234"
    query = {"id": "q", "from": USER, "chat_instance": "c", "data": "abc123:yes"}
    pressed = transport.to_inbound(
        update(callback_query={**query, "message": {**message(text="?"), "chat": group}})
    )
    assert pressed is not None
    assert pressed.private_chat is False
    private = transport.to_inbound(update(message=command("/start")))
    assert private is not None
    assert private.private_chat is True


async def test_media_venue_and_membership(transport: TelegramTransport) -> None:
    doc = {"file_id": "f1", "file_unique_id": "u", "mime_type": "text/csv", "file_size": 12}
    inbound = transport.to_inbound(update(message=message(document=doc, caption="list")))
    assert inbound is not None
    assert inbound.media is not None
    assert (inbound.media.kind, inbound.media.file_ref) == (MediaKind.DOCUMENT, "f1")
    venue = {"location": {"latitude": 1.5, "longitude": 2.5}, "title": "Søen", "address": "x"}
    inbound = transport.to_inbound(update(message=message(venue=venue, location=venue["location"])))
    assert inbound is not None
    assert inbound.location is not None
    assert inbound.location.title == "Søen"
    bot = {"id": 1, "is_bot": True, "first_name": "B"}
    member = {
        "chat": CHAT,
        "from": USER,
        "date": 1,
        "old_chat_member": {"status": "member", "user": bot},
        "new_chat_member": {"status": "kicked", "user": bot, "until_date": 0},
    }
    inbound = transport.to_inbound(update(my_chat_member=member))
    assert inbound is not None
    assert inbound.membership == Membership.LEFT


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.text(alphabet=st.sampled_from("ab <&>\n"), min_size=0, max_size=3000),
        min_size=1,
        max_size=6,
    )
)
def test_split_text_fits_and_keeps_every_character(paragraphs: list[str]) -> None:
    text = "\n\n".join(paragraphs)
    parts = split_text(text)
    assert all(len(html.escape(p, quote=False)) <= MAX_TEXT for p in parts)
    joined = "".join(parts)
    assert joined.replace("\n", "").replace(" ", "") == text.replace("\n", "").replace(" ", "")


def test_split_prefers_paragraphs() -> None:
    text = "\n\n".join(["a" * 3000, "b" * 3000, "c" * 100])
    assert split_text(text) == ["a" * 3000, "b" * 3000 + "\n\n" + "c" * 100]


def test_map_error_for_unknown_telegram_errors_is_temporary() -> None:
    from telegram.error import ChatMigrated, TelegramError

    from bot.transports.base import PermanentFailure, TemporaryFailure

    assert isinstance(map_error(TelegramError("odd"), "x"), TemporaryFailure)
    assert isinstance(map_error(ChatMigrated(5), "x"), PermanentFailure)


def test_settings_validate_telegram_values() -> None:
    ok = load_settings(
        _env_file=None,
        telegram_token="1:abc",
        telegram_webhook_url="https://bot.example.org/tg/",
        telegram_webhook_secret="abc_DEF-1",
    )
    assert ok.telegram_webhook_url == "https://bot.example.org/tg"
    assert ok.telegram_token is not None
    assert "1:abc" not in repr(ok)
    with pytest.raises(ConfigurationError, match="TMM_TELEGRAM_WEBHOOK_SECRET"):
        load_settings(_env_file=None, telegram_webhook_secret="spaces are bad")
    with pytest.raises(ConfigurationError, match="TMM_TELEGRAM_API_BASE_URL"):
        load_settings(_env_file=None, telegram_api_base_url="api.telegram.org")


def test_registry_adds_telegram_when_a_token_is_set() -> None:
    from bot.transports.registry import configured_transports

    settings = load_settings(_env_file=None, telegram_token="1:abc")
    assert [t.platform for t in configured_transports(settings)] == ["telegram"]
    assert configured_transports(load_settings(_env_file=None)) == []


def test_the_menu_described_for_transports_gives_each_role_its_commands_in_order() -> None:
    from bot.composition import build_command_menu, build_commands
    from bot.i18n import catalogs
    from storage.models import Role

    registry = build_commands()
    menu = build_command_menu()
    tg = TelegramTransport("1:x", menu=menu, translations=catalogs())
    for role in Role:
        for language in ("da", "en"):
            expected = [(s.label(language), s.description) for s in registry.visible_to(role)]
            described = [(e.name_in(language), e.description) for e in menu if role in e.roles]
            assert described == expected
            shown = [c.command for c in tg.menus.commands_for(role, language)]
            assert shown == [
                menu_name(s.label(language), s.name) for s in registry.visible_to(role)
            ]


async def test_the_limiter_hears_when_each_request_has_been_written(
    transport: TelegramTransport, monkeypatch: pytest.MonkeyPatch
) -> None:
    # (bot/rate_limit.py: a request written late counts from its write, not its slot)
    limiter = RateLimiter(RateLimits(per_second=30, private_per_second=1), RealSleeper())
    transport.pace_with(limiter)
    written: list[str | None] = []
    original = RateLimiter._written

    def heard(self: RateLimiter, taken_at: float, chat_id: str | None) -> None:
        written.append(chat_id)
        original(self, taken_at, chat_id)

    monkeypatch.setattr(RateLimiter, "_written", heard)
    for chat in ("7", "8"):
        with limiter.push(chat):
            await transport.send(ChatRef("telegram", chat, chat), OutMessage("Hej"))

    assert written == ["7", "8"]

"""Coordinators' Telegram command menus, whatever made them coordinators: named in the
settings, granted on the command line, or by a code. Set at start and when the role comes,
in the person's language; taken away when the role goes. Against the fake Bot API."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.settings import Settings
from conversations.core.messages import ChatRef
from storage.clock import FrozenClock
from storage.models import Role
from tests.telegram_fake_api import FakeBotAPI
from tests.telegram_support import RunningBot

TOKEN = "4242:FAKE-token-for-menus"
LANGUAGES = ("", "da", "en", "ar", "uk")


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    server = FakeBotAPI()
    await server.start()
    yield server
    await server.stop()


def settings_for(database_url: str, **values: Any) -> Settings:
    return Settings(database_url=database_url, _env_file=None, **values)  # type: ignore[call-arg]


def chat_menus(fake: FakeBotAPI) -> dict[tuple[str, str], list[str] | None]:
    """Each private chat's menu by (chat id, language code) as the calls left it; None when
    it was deleted (back to the common menu)."""
    menus: dict[tuple[str, str], list[str] | None] = {}
    for method, params in fake.sent:
        scope = params.get("scope") or {}
        if method not in ("setMyCommands", "deleteMyCommands") or scope.get("type") != "chat":
            continue
        key = (str(scope["chat_id"]), str(params.get("language_code") or ""))
        commands = params.get("commands") if method == "setMyCommands" else None
        menus[key] = [c["command"] for c in commands] if commands is not None else None
    return menus


def menu_calls(fake: FakeBotAPI, chat_id: str) -> int:
    return sum(
        1
        for method, params in fake.sent
        if method in ("setMyCommands", "deleteMyCommands")
        and str((params.get("scope") or {}).get("chat_id")) == chat_id
    )


async def add_person(
    bot: RunningBot, user_id: int, *, role: Role = Role.CITIZEN, language: str = "da"
) -> int:
    """Someone the bot has met: onboarded, with a role and a language."""
    async with bot.app.uow() as uow:
        person, _ = await uow.persons.get_or_create(
            "telegram", str(user_id), str(user_id), language=language
        )
        await uow.persons.record_consent(person, bot.app.settings.consent_version, given=True)
        person.onboarded_at = uow.clock.now()
        person.display_name = f"Person {user_id}"
        await uow.persons.set_role(person, role)
        await uow.commit()
        return person.id


async def set_role(bot: RunningBot, user_id: int, role: Role) -> None:
    async with bot.app.uow() as uow:
        identity = await uow.persons.find_identity("telegram", str(user_id))
        assert identity is not None
        person = await uow.persons.get(identity.person_id)
        assert person is not None
        await uow.persons.set_role(person, role)
        await uow.commit()


async def test_coordinators_by_any_route_get_their_menu_at_start_in_their_language(
    fake: FakeBotAPI, database_url: str
) -> None:
    settings = settings_for(
        database_url, admins=["telegram:500"], coordinators=["telegram:501", "matrix:@kim:x"]
    )
    bot = RunningBot(settings, fake.url, TOKEN, clock=FrozenClock())
    await bot.app.migrate()
    await add_person(bot, 502, role=Role.COORDINATOR, language="en")  # granted before
    await add_person(bot, 503)  # a citizen
    await bot.start()
    try:
        menus = chat_menus(fake)
        for language in LANGUAGES:  # the person's language, whatever their app's
            assert "emner" in (menus[("500", language)] or [])  # named, not met: Danish
            assert "emner" in (menus[("501", language)] or [])
            assert "topics" in (menus[("502", language)] or [])  # granted, chose English
            assert "newevent" in (menus[("502", language)] or [])
            assert "administrer" in (menus[("500", language)] or [])  # the admin's own tools
            assert "administrer" not in (menus[("501", language)] or [])
            assert "admin" not in (menus[("502", language)] or [])
        assert not any(chat == "503" for chat, _ in menus)
    finally:
        await bot.stop()


async def test_a_code_gives_the_menu_before_the_welcome_and_a_new_language_follows(
    fake: FakeBotAPI, database_url: str
) -> None:
    bot = RunningBot(settings_for(database_url), fake.url, TOKEN, clock=FrozenClock())
    await bot.app.migrate()
    await add_person(bot, 77)
    async with bot.app.uow() as uow:
        code = await uow.invites.create(
            Role.COORDINATOR, valid_for=timedelta(days=1), created_by=None, note=None
        )
        await uow.commit()
    await bot.start()
    try:
        assert menu_calls(fake, "77") == 0
        fake.push_update(fake.message_update(77, f"/koordinator {code}"))
        await bot.wait_handled(1)
        assert "emner" in (chat_menus(fake)[("77", "")] or [])
        welcome = next(
            i
            for i, (method, params) in enumerate(fake.sent)
            if method == "sendMessage" and "koordinator" in str(params.get("text"))
        )
        first_menu = next(
            i
            for i, (method, params) in enumerate(fake.sent)
            if method == "setMyCommands" and (params.get("scope") or {}).get("chat_id") == 77
        )
        assert first_menu < welcome  # the menu is there when they read "write /help"

        fake.push_update(fake.message_update(77, "/sprog"))
        fake.push_update(fake.message_update(77, "English"))
        await bot.wait_handled(3)
        for language in LANGUAGES:
            assert "topics" in (chat_menus(fake)[("77", language)] or [])
        calls = menu_calls(fake, "77")
        fake.push_update(fake.message_update(77, "/help"))
        await bot.wait_handled(4)
        assert menu_calls(fake, "77") == calls  # nothing changed, nothing sent
    finally:
        await bot.stop()


async def test_only_a_coordinators_new_language_is_followed_up(
    fake: FakeBotAPI, database_url: str
) -> None:
    """Every newcomer picks a language; citizens share the common menu, so that costs no
    follow-up (no extra unit of work on the busiest path)."""
    bot = RunningBot(settings_for(database_url), fake.url, TOKEN, clock=FrozenClock())
    await bot.app.migrate()
    await add_person(bot, 88)
    await add_person(bot, 89, role=Role.COORDINATOR)
    await bot.start()
    followed: list[str] = []
    original = bot.app.router._on_role_change
    assert original is not None

    async def recording(ref: ChatRef) -> None:
        followed.append(ref.user_id)
        await original(ref)

    bot.app.router._on_role_change = recording
    try:
        for user in (88, 89):
            fake.push_update(fake.message_update(user, "/sprog"))
            fake.push_update(fake.message_update(user, "English"))
        await bot.wait_handled(4)
        assert followed == ["89"]
        assert "topics" in (chat_menus(fake)[("89", "")] or [])
        assert not any(chat == "88" for chat, _ in chat_menus(fake))
    finally:
        await bot.stop()


async def test_a_coordinator_who_deletes_everything_loses_the_menu_at_once(
    fake: FakeBotAPI, database_url: str
) -> None:
    bot = RunningBot(settings_for(database_url), fake.url, TOKEN, clock=FrozenClock())
    await bot.app.migrate()
    await add_person(bot, 90, role=Role.COORDINATOR)
    await bot.start()
    try:
        assert "emner" in (chat_menus(fake)[("90", "")] or [])
        fake.push_update(fake.message_update(90, "/glem"))
        fake.push_update(fake.message_update(90, "slet"))
        await bot.wait_handled(2)
        for language in LANGUAGES:
            assert chat_menus(fake)[("90", language)] is None  # back to the common menu
        async with bot.app.uow() as uow:
            assert await uow.persons.find_identity("telegram", "90") is None
    finally:
        await bot.stop()


async def test_a_role_taken_away_while_the_bot_was_down_loses_its_menu_at_start(
    fake: FakeBotAPI, database_url: str
) -> None:
    first = RunningBot(
        settings_for(database_url, coordinators=["telegram:501"]),
        fake.url,
        TOKEN,
        clock=FrozenClock(),
    )
    await first.app.migrate()
    await add_person(first, 502, role=Role.COORDINATOR)
    await add_person(first, 503, role=Role.COORDINATOR)
    await first.start()
    await first.stop()
    assert chat_menus(fake)[("502", "")] is not None

    # while it was down: 502 revoked, 501 no longer named in the settings
    await set_role(first, 502, Role.CITIZEN)
    again = RunningBot(settings_for(database_url), fake.url, TOKEN, clock=FrozenClock())
    calls_for_503 = menu_calls(fake, "503")
    await again.start()
    try:
        menus = chat_menus(fake)
        for language in LANGUAGES:
            assert menus[("501", language)] is None
            assert menus[("502", language)] is None
            assert "emner" in (menus[("503", language)] or [])
        assert menu_calls(fake, "503") == calls_for_503  # unchanged: not sent again
    finally:
        await again.stop()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def run_cli(*args: str, cwd: Path, **settings: str) -> tuple[int, str, str]:
    """`python -m bot ...` without blocking this loop (the fake Bot API runs in it)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("TMM_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=cwd,
        env={**env, "PYTHONPATH": str(Path(__file__).parent.parent), **settings},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_a_grant_and_a_revoke_on_the_command_line_change_the_menu_at_once(
    fake: FakeBotAPI, database_url: str, tmp_path: Path
) -> None:
    env = {
        "TMM_DATABASE_URL": database_url,
        "TMM_TELEGRAM_TOKEN": TOKEN,
        "TMM_TELEGRAM_API_BASE_URL": fake.url,
    }
    code, out, err = await run_cli(
        "admin",
        "grant-coordinator",
        "telegram:610",
        cwd=tmp_path,
        **env,
    )
    assert code == 0, err
    assert "is now a coordinator" in out
    for language in LANGUAGES:
        assert "emner" in (chat_menus(fake)[("610", language)] or [])

    code, out, err = await run_cli(
        "admin", "revoke-coordinator", "telegram:610", cwd=tmp_path, **env
    )
    assert code == 0, err
    for language in LANGUAGES:
        assert chat_menus(fake)[("610", language)] is None


async def test_a_grant_with_telegram_unreachable_still_grants_and_says_so(
    database_url: str, tmp_path: Path
) -> None:
    code, out, err = await run_cli(
        "admin",
        "grant-coordinator",
        "telegram:611",
        cwd=tmp_path,
        TMM_DATABASE_URL=database_url,
        TMM_TELEGRAM_TOKEN=TOKEN,
        TMM_TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{_closed_port()}",
        TMM_TELEGRAM_REQUEST_TIMEOUT="2",
    )
    assert code == 0, err
    assert "is now a coordinator" in out
    assert "Could not reach Telegram" in err
    assert "when it next starts" in err
    assert "FAKE-token-for-menus" not in err
    assert "Traceback" not in err

"""What people see before they press Start: the bot's description and short description,
in Danish (the default) and English."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.settings import Settings
from storage.clock import FrozenClock
from tests.telegram_fake_api import FakeBotAPI
from tests.telegram_support import RunningBot

TOKEN = "4243:FAKE-token-for-descriptions"


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    api = FakeBotAPI()
    await api.start()
    yield api
    await api.stop()


async def test_the_description_is_set_per_language(fake: FakeBotAPI, database_url: str) -> None:
    settings = Settings(database_url=database_url, _env_file=None)  # type: ignore[call-arg]
    running = RunningBot(settings, fake.url, TOKEN, clock=FrozenClock())
    await running.start()
    try:
        fake.push_update(fake.message_update(90, "/start"))
        await running.wait_handled(1)  # the descriptions are set before the first update
    finally:
        await running.stop()
    described = {
        (method, params.get("language_code")): str(
            params.get("description") or params.get("short_description")
        )
        for method, params in fake.sent
        if method in ("setMyDescription", "setMyShortDescription")
    }
    assert set(described) == {
        (method, language)
        for method in ("setMyDescription", "setMyShortDescription")
        for language in (None, "da", "en")
    }
    assert described[("setMyDescription", None)] == described[("setMyDescription", "da")]
    assert described[("setMyDescription", "da")].startswith("Hej! Jeg er Tæl mig med")
    assert described[("setMyDescription", "en")].startswith("Hello! I'm Tæl mig med")
    assert "/privatliv" in described[("setMyDescription", "da")]
    assert len(described[("setMyShortDescription", "en")]) <= 120
    assert described[("setMyShortDescription", "da")] != described[("setMyShortDescription", "en")]

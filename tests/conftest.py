"""Shared fixtures: settings on a temporary SQLite file, a frozen clock, the app, a chat."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.app import BotApp
from bot.demo import seed_starter_topics
from bot.settings import Settings
from storage.clock import FrozenClock
from tests.fakes import Chat, RecordingTransport
from tests.synapse import Synapse


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        admins=["fake:admin"],
        coordinators=["fake:kim"],
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def transport() -> RecordingTransport:
    return RecordingTransport()


@pytest.fixture
async def app(
    settings: Settings, clock: FrozenClock, transport: RecordingTransport
) -> AsyncIterator[BotApp]:
    bot = BotApp(settings, [transport], clock=clock)
    await bot.migrate()
    await seed_starter_topics(bot.uow)
    yield bot
    await bot.close()


@pytest.fixture
def chat(app: BotApp, transport: RecordingTransport) -> Chat:
    return Chat(app, transport)


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synapse]:
    """A real Synapse for the Matrix end-to-end tests; fails (with its log) if it can't start."""
    server = Synapse(tmp_path_factory.mktemp("synapse"))
    server.start()
    try:
        yield server
    finally:
        server.stop()

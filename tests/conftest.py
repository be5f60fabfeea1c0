"""Shared fixtures: settings on a temporary SQLite file, a frozen clock, the app, a chat."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from bot.app import BotApp
from bot.demo import seed_starter_topics
from bot.settings import Settings
from storage.clock import FrozenClock
from storage.db import create_engine, create_sessionmaker
from storage.migrate import upgrade_to_head
from storage.models import Base
from storage.unit_of_work import UnitOfWorkFactory
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


# -- databases for the storage contract tests: SQLite always, PostgreSQL when configured ------

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "").strip()
BACKENDS = ["sqlite", "postgres"] if POSTGRES_URL else ["sqlite"]


@dataclass(frozen=True)
class Backend:
    name: str
    url: str


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _create_database(url: str, name: str) -> None:
    try:
        connection = await asyncpg.connect(_asyncpg_dsn(url), timeout=10)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        raise RuntimeError(
            f"TEST_POSTGRES_URL is set, but PostgreSQL does not answer there: {exc}"
        ) from exc
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def _drop_database(url: str, name: str) -> None:
    connection = await asyncpg.connect(_asyncpg_dsn(url), timeout=10)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def _empty_all_tables(url: str) -> None:
    connection = await asyncpg.connect(_asyncpg_dsn(url), timeout=10)
    try:
        names = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
        await connection.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated database on the TEST_POSTGRES_URL server, dropped at the end."""
    if not POSTGRES_URL:
        raise RuntimeError("TEST_POSTGRES_URL is not set")
    name = f"tmm_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_create_database(POSTGRES_URL, name))
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade_to_head(url)
        yield url
    finally:
        asyncio.run(_drop_database(POSTGRES_URL, name))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """An empty, migrated database: a new SQLite file, or the emptied PostgreSQL test database."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'contract.db'}"
        upgrade_to_head(url)
        return Backend("sqlite", url)
    url = request.getfixturevalue("postgres_url")
    asyncio.run(_empty_all_tables(url))
    return Backend("postgres", url)


@pytest.fixture
async def uow_factory(backend: Backend, clock: FrozenClock) -> AsyncIterator[UnitOfWorkFactory]:
    engine = create_engine(backend.url)
    try:
        yield UnitOfWorkFactory(create_sessionmaker(engine), clock)
    finally:
        await engine.dispose()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not POSTGRES_URL:
        terminalreporter.write_line(
            "PostgreSQL tests were NOT run (set TEST_POSTGRES_URL, see README)", yellow=True
        )


@pytest.fixture
async def backend_chat(backend: Backend, clock: FrozenClock) -> AsyncIterator[Chat]:
    """The whole bot on each database backend, for chats that must work on both."""
    settings = Settings(
        database_url=backend.url,
        admins=["fake:admin"],
        coordinators=["fake:kim"],
        _env_file=None,  # type: ignore[call-arg]
    )
    transport = RecordingTransport()
    bot = BotApp(settings, [transport], clock=clock)
    await bot.migrate()
    await seed_starter_topics(bot.uow)
    try:
        yield Chat(bot, transport)
    finally:
        await bot.close()

"""Engine and session factory, with the SQLite settings that make it safe to share.

SQLite is the embedded default: WAL so readers never block the writer, foreign keys on,
a busy timeout, and `BEGIN IMMEDIATE` so a write transaction takes the write lock up front
instead of upgrading later (the upgrade is what fails with "database is locked" when two
writers meet). SQLite goes through aiosqlite with one thread trip per statement
(storage/sqlite_driver.py). PostgreSQL is used as it comes.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.sqlite_driver import one_trip_connector

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///data/taelmigmed.db"
SQLITE_BUSY_TIMEOUT_MS = 30_000
REACH_TIMEOUT_SECONDS = 10.0
DEFAULT_PORTS = {"postgresql": 5432}


class DatabaseUnreachable(Exception):
    """The database did not answer. The message is one line for a person, without the
    URL's password."""


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(url, echo=echo, pool_pre_ping=True)

    database = parsed.database
    if database and database != ":memory:":
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(
        url,
        echo=echo,
        async_creator=one_trip_connector(parsed, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000),
    )
    _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins (below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Deleted rows are overwritten with zeros, so a forgotten name is not left in the
        # file's free pages (the WAL is checkpointed after a forget: checkpoint_wal).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection: Any) -> None:
        if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            connection.exec_driver_sql("BEGIN IMMEDIATE")


async def checkpoint_wal(engine: AsyncEngine) -> tuple[int, int, int] | None:
    """Copy SQLite's write-ahead log into the database and truncate it (None elsewhere).
    Returns SQLite's (busy, log pages, pages copied): busy 1 means a reader held it back,
    and the next checkpoint finishes it."""
    if engine.dialect.name != "sqlite":
        return None
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        result = await autocommit.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        busy, log_pages, copied = tuple(result.one())
        return int(busy), int(log_pages), int(copied)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True)


def location(url: str) -> str:
    """Where the database is, for people: host:port, or the SQLite file (never a password)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or ":memory:"
    port = parsed.port or DEFAULT_PORTS.get(parsed.get_backend_name())
    return f"{parsed.host or 'localhost'}:{port}" if port else (parsed.host or "localhost")


async def check_reachable(url: str, *, patience: float = REACH_TIMEOUT_SECONDS) -> None:
    """Connect once and ask a trivial question; raise `DatabaseUnreachable` if that fails.

    Run before anything else touches the database, so a server that is down, a wrong
    password or a missing database is one clear line instead of a driver's traceback.
    """
    engine: AsyncEngine | None = None
    try:
        engine = create_engine(url)  # (for SQLite this makes the file's folder)
        async with asyncio.timeout(patience):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    except TimeoutError:
        raise DatabaseUnreachable(
            f"Cannot reach the database at {location(url)}: no answer within {patience:g} s"
        ) from None
    except (OSError, DBAPIError) as exc:
        reason = str(exc.orig if isinstance(exc, DBAPIError) and exc.orig else exc)
        password = make_url(url).password
        if password:
            reason = reason.replace(str(password), "***")
        reason = " ".join(reason.split())  # one line, whatever the driver said
        raise DatabaseUnreachable(
            f"Cannot reach the database at {location(url)}: {reason}"
        ) from None
    finally:
        if engine is not None:
            await engine.dispose()

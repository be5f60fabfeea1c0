"""aiosqlite with one trip to its thread per statement, for SQLAlchemy's aiosqlite dialect.

aiosqlite runs every call on the connection's own thread. Through SQLAlchemy a plain
statement makes four trips there and back (make a cursor, execute, fetch the rows, close
the cursor), and a trip costs far more than SQLite's own work for the small statements a
chat step makes: each one waits for the thread to get the GIL and for the event loop to
come round again. Under load that waiting, not SQL, was most of the time a step held the
SQLite write lock. Here a statement is one trip: execute, fetch everything and close, on
the thread; the rows come back with it. A rollback with no transaction open (what the
connection pool does on every check-in after a commit) makes no trip at all.

Everything still runs on aiosqlite's thread; only the number of trips changes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Generator, Iterable
from functools import partial
from typing import Any

import aiosqlite
from sqlalchemy.engine import URL


def _execute_on_thread(
    connection: sqlite3.Connection, sql: str, parameters: Any, many: bool
) -> tuple[sqlite3.Cursor, list[Any]]:
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        else:
            cursor.execute(sql, parameters)
        rows = cursor.fetchall() if cursor.description else []
    finally:
        cursor.close()  # description, rowcount and lastrowid stay readable
    return cursor, rows


class OneTripCursor:
    """The part of aiosqlite's cursor SQLAlchemy uses, with the rows fetched up front."""

    arraysize = 1

    def __init__(self, connection: OneTripConnection) -> None:
        self._connection = connection
        self._cursor: sqlite3.Cursor | None = None
        self._rows: list[Any] = []

    async def __aenter__(self) -> OneTripCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    def __await__(self) -> Generator[Any, None, OneTripCursor]:
        return self.__aenter__().__await__()

    async def execute(self, sql: str, parameters: Any = None) -> OneTripCursor:
        await self._run(sql, () if parameters is None else parameters, many=False)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> OneTripCursor:
        await self._run(sql, parameters, many=True)
        return self

    async def _run(self, sql: str, parameters: Any, *, many: bool) -> None:
        self._cursor, self._rows = await self._connection.run_on_thread(
            _execute_on_thread, self._connection.sqlite, sql, parameters, many
        )

    async def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        count = self.arraysize if size is None else size
        taken, self._rows = self._rows[:count], self._rows[count:]
        return taken

    async def fetchall(self) -> list[Any]:
        taken, self._rows = self._rows, []
        return taken

    async def close(self) -> None:
        self._rows = []

    @property
    def description(self) -> Any:
        return self._cursor.description if self._cursor is not None else None

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount if self._cursor is not None else -1

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid if self._cursor is not None else None


class OneTripConnection(aiosqlite.Connection):
    @property
    def sqlite(self) -> sqlite3.Connection:
        return self._conn

    async def run_on_thread(self, function: Any, *args: Any) -> Any:
        return await self._execute(function, *args)  # type: ignore[no-untyped-call]

    def cursor(self) -> OneTripCursor:  # type: ignore[override]
        return OneTripCursor(self)

    async def rollback(self) -> None:
        if self._connection is not None and not self._connection.in_transaction:
            return
        await super().rollback()


def one_trip_connector(url: URL, *, timeout: float) -> Any:
    """An `async_creator` for `create_async_engine`: the file and options the dialect
    would have used, opened as a one-trip connection."""
    positional, options = url.get_dialect()().create_connect_args(url)
    options = {**options, "timeout": timeout}

    async def connect() -> OneTripConnection:
        connection = OneTripConnection(
            partial(sqlite3.connect, *positional, **options), iter_chunk_size=64
        )
        connection._thread.daemon = True  # as SQLAlchemy's own aiosqlite dialect does
        await connection
        return connection

    return connect

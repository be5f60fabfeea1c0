"""The SQLite driver: one trip to aiosqlite's thread per statement, same results as before."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine
from storage.sqlite_driver import OneTripConnection


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    async with engine.begin() as connection:
        await connection.execute(
            text("CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL)")
        )
    yield engine
    await engine.dispose()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every call made on a connection's thread, by name."""
    made: list[str] = []
    original = OneTripConnection._execute

    async def counted(self: OneTripConnection, function: Any, *args: Any, **kwargs: Any) -> Any:
        made.append(getattr(function, "__name__", repr(function)))
        return await original(self, function, *args, **kwargs)

    monkeypatch.setattr(OneTripConnection, "_execute", counted)
    return made


async def test_a_statement_is_one_trip_and_a_commit_one_more(
    engine: AsyncEngine, trips: list[str]
) -> None:
    async with engine.connect() as connection:
        trips.clear()
        await connection.execute(text("INSERT INTO things (name) VALUES ('soup')"))
        rows = (await connection.execute(text("SELECT id, name FROM things"))).all()
        await connection.commit()
        # BEGIN IMMEDIATE, the insert, the select, the commit
        assert len(trips) == 4
    assert [tuple(row) for row in rows] == [(1, "soup")]
    # the pool's rollback on check-in, with no transaction open, made no trip
    assert len(trips) == 4


async def test_rowcount_lastrowid_and_many_rows_come_back(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        inserted = await connection.execute(text("INSERT INTO things (name) VALUES ('lift')"))
        assert inserted.lastrowid == 1
        await connection.execute(
            text("INSERT INTO things (name) VALUES (:name)"),
            [{"name": f"task {n}"} for n in range(300)],
        )
        updated = await connection.execute(
            text("UPDATE things SET name = name || '!' WHERE name LIKE 'task%'")
        )
        assert updated.rowcount == 300
        names = (await connection.execute(text("SELECT name FROM things ORDER BY id"))).scalars()
        listed = list(names)
    assert len(listed) == 301
    assert listed[0] == "lift"
    assert listed[-1] == "task 299!"


async def test_an_error_is_raised_as_before_and_the_transaction_rolls_back(
    engine: AsyncEngine,
) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("INSERT INTO things (name) VALUES ('cake')"))
        with pytest.raises(IntegrityError):
            await connection.execute(text("INSERT INTO things (name) VALUES ('cake')"))
        await connection.rollback()
    async with engine.connect() as connection:
        count = (await connection.execute(text("SELECT count(*) FROM things"))).scalar_one()
    assert count == 0


async def test_a_streamed_result_still_yields_every_row(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO things (name) VALUES (:name)"),
            [{"name": f"n{n}"} for n in range(150)],
        )
    async with engine.connect() as connection:
        result = await connection.stream(text("SELECT name FROM things ORDER BY id"))
        names = [row[0] async for row in result]
    assert names == [f"n{n}" for n in range(150)]

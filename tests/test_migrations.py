"""`alembic upgrade head` on an empty database, and the models agree with the migrations."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from storage.db import create_engine
from storage.migrate import alembic_config, upgrade_to_head, upgrade_to_head_async
from storage.models import Base
from tests.conftest import Backend


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, Base.metadata))


def _state(connection: Connection) -> tuple[set[str], str | None]:
    tables = set(inspect(connection).get_table_names())
    version = connection.execute(text("select version_num from alembic_version")).scalar()
    return tables, version


async def test_upgrade_head_builds_the_schema_the_models_describe(backend: Backend) -> None:
    # the `backend` fixture ran `alembic upgrade head` on an empty database
    head = ScriptDirectory.from_config(alembic_config(backend.url)).get_current_head()
    engine = create_engine(backend.url)
    try:
        async with engine.connect() as connection:
            tables, version = await connection.run_sync(_state)
            differences = await connection.run_sync(_differences)
    finally:
        await engine.dispose()
    assert set(Base.metadata.tables) <= tables
    assert version == head
    assert differences == [], f"models and migrations disagree: {differences}"


def test_upgrade_head_twice_is_harmless(tmp_path: Any) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'twice.db'}"
    upgrade_to_head(url)
    upgrade_to_head(url)


async def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Any) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'wal.db'}"
    await upgrade_to_head_async(url)
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            mode = (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar()
            keys = (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar()
            busy = (await connection.exec_driver_sql("PRAGMA busy_timeout")).scalar()
    finally:
        await engine.dispose()
    assert (str(mode).lower(), keys) == ("wal", 1)
    assert busy is not None
    assert int(busy) >= 5000

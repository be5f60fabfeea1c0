"""`alembic upgrade head` on an empty database, and the models agree with the migrations."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path
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


PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _alembic(*args: str, url: str) -> str:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TMM_")}
    env["TMM_DATABASE_URL"] = url
    result = subprocess.run(
        [sys.executable, "-m", "alembic", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_alembic_works_from_the_project_root(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    assert head is not None
    assert _alembic("current", url=url).strip() == ""  # nothing applied yet
    assert head in _alembic("history", url=url)
    _alembic("upgrade", "head", url=url)
    assert _alembic("current", url=url).split() == [head, "(head)"]


def test_the_licence_file_matches_pyproject() -> None:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["license"] == "MIT"
    assert "LICENSE" in project["project"]["license-files"]
    text = (PROJECT_ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License")
    assert "Permission is hereby granted, free of charge" in text

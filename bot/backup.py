"""`python -m bot backup DIR` and `python -m bot restore DIR`: the database, the photos and
voice notes, and the Matrix store, in one folder.

SQLite is copied with its online backup API, so a running bot may go on writing while the
copy is made and the copy is consistent. PostgreSQL is backed up with its own tools
(`pg_dump`); this says how, and copies the files beside it. A restore puts everything back
where the settings say (what was there is kept aside, not deleted) and migrates the schema,
so an older backup works with newer code. Stop the bot before a restore.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.settings import ConfigurationError, Settings
from bot.transports.matrix.store import keep_private
from storage.db import location

MANIFEST = "backup.json"
DATABASE_FILE = "taelmigmed.db"
MEDIA_FOLDER = "media"
MATRIX_FOLDER = "matrix"
PG_DUMP_FILE = "database.dump"


@dataclass(frozen=True, slots=True)
class Outcome:
    lines: list[str]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def _copy_sqlite(source: Path, target: Path) -> None:
    """SQLite's online backup: consistent even while the bot writes."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _folders(settings: Settings) -> tuple[tuple[str, Path], ...]:
    return ((MEDIA_FOLDER, settings.media_path), (MATRIX_FOLDER, settings.matrix_store_path))


def backup(settings: Settings, folder: Path) -> Outcome:
    if folder.exists() and any(folder.iterdir()):
        raise ConfigurationError(f"backup: {folder} is not empty; choose a new folder")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)  # it holds personal data and the Matrix login
    lines: list[str] = []
    manifest: dict[str, object] = {"made_at": _now(), "database": "sqlite"}
    sqlite_file = settings.sqlite_path()
    if sqlite_file is not None:
        if not sqlite_file.exists():
            raise ConfigurationError(f"backup: there is no database at {sqlite_file}")
        _copy_sqlite(sqlite_file, folder / DATABASE_FILE)
        (folder / DATABASE_FILE).chmod(0o600)
        lines.append(f"Database: {sqlite_file} -> {folder / DATABASE_FILE}")
    else:
        manifest["database"] = "postgresql"
        lines.append(
            f"Database: PostgreSQL at {location(settings.database_url)} is backed up with its "
            f"own tool. Run, with the same user and database as TMM_DATABASE_URL:\n"
            f"  pg_dump --format=custom --file={folder / PG_DUMP_FILE} <database>\n"
            f"and to restore: pg_restore --clean --if-exists --dbname=<database> "
            f"{folder / PG_DUMP_FILE}"
        )
    for name, source in _folders(settings):
        if source.is_dir():
            shutil.copytree(source, folder / name)
            manifest[name] = True
            lines.append(f"{name.capitalize()}: {source} -> {folder / name}")
    if (folder / MATRIX_FOLDER).exists():
        keep_private(folder / MATRIX_FOLDER)
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return Outcome(lines)


def _set_aside(path: Path, stamp: str) -> Path | None:
    if not path.exists():
        return None
    aside = path.with_name(f"{path.name}.before-restore-{stamp}")
    path.rename(aside)
    return aside


def restore(settings: Settings, folder: Path) -> Outcome:
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise ConfigurationError(f"restore: {folder} holds no backup ({MANIFEST} is missing)")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    stamp, lines = _now(), []
    sqlite_file = settings.sqlite_path()
    if manifest.get("database") == "sqlite":
        if sqlite_file is None:
            raise ConfigurationError(
                "restore: this backup holds an SQLite database, but TMM_DATABASE_URL is PostgreSQL"
            )
        sqlite_file.parent.mkdir(parents=True, exist_ok=True)
        aside = _set_aside(sqlite_file, stamp)
        for suffix in ("-wal", "-shm"):
            Path(f"{sqlite_file}{suffix}").unlink(missing_ok=True)
        _copy_sqlite(folder / DATABASE_FILE, sqlite_file)
        lines.append(
            f"Database: {folder / DATABASE_FILE} -> {sqlite_file}"
            + (f" (the one before is {aside})" if aside else "")
        )
    else:
        lines.append(
            f"Database: restore PostgreSQL with pg_restore --clean --if-exists "
            f"--dbname=<database> {folder / PG_DUMP_FILE}"
        )
    for name, target in _folders(settings):
        if not (folder / name).is_dir():
            continue
        aside = _set_aside(target, stamp)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(folder / name, target)
        lines.append(
            f"{name.capitalize()}: {folder / name} -> {target}"
            + (f" (the one before is {aside})" if aside else "")
        )
    if settings.matrix_store_path.exists():
        keep_private(settings.matrix_store_path)
    return Outcome(lines)

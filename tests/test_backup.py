"""`python -m bot backup DIR` and `restore DIR`: a round trip brings back the database, the
photos and the Matrix store, whatever happened in between."""

from __future__ import annotations

import stat
from pathlib import Path

from tests.test_cli import run_bot


def test_backup_and_restore_round_trip(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {
        "TMM_DATABASE_URL": f"sqlite+aiosqlite:///{data / 'bot.db'}",
        "TMM_MEDIA_PATH": str(data / "media"),
        "TMM_MATRIX_STORE_PATH": str(data / "matrix"),
    }

    def bot(*args: str) -> str:
        result = run_bot(*args, cwd=tmp_path, **env)
        assert result.returncode == 0, result.stderr
        return result.stdout

    bot("admin", "grant-coordinator", "telegram:111")
    bot("admin", "add-topic", "interest", "Gåture", "Walks")
    photo = data / "media" / "event-1" / "snap.jpg"
    photo.parent.mkdir(parents=True)
    photo.write_bytes(b"jpeg bytes")
    (data / "matrix").mkdir()
    (data / "matrix" / "credentials.json").write_text('{"access_token": "x"}')

    made = bot("backup", str(tmp_path / "backup"))
    assert "Backup made." in made
    backup = tmp_path / "backup"
    assert stat.S_IMODE(backup.stat().st_mode) == 0o700
    assert (backup / "taelmigmed.db").is_file()
    assert (backup / "media" / "event-1" / "snap.jpg").read_bytes() == b"jpeg bytes"
    assert stat.S_IMODE((backup / "matrix" / "credentials.json").stat().st_mode) == 0o600

    # then things change: a coordinator revoked, a topic added, a photo lost
    bot("admin", "revoke-coordinator", "telegram:111")
    bot("admin", "add-topic", "area", "Efter backup")
    photo.unlink()
    assert "telegram:111" not in bot("admin", "list-coordinators")

    restored = bot("restore", str(backup))
    assert "Restored." in restored
    assert "telegram:111" in bot("admin", "list-coordinators")
    topics = bot("admin", "list-topics")
    assert "Gåture" in topics
    assert "Efter backup" not in topics
    assert photo.read_bytes() == b"jpeg bytes"
    store = data / "matrix"
    assert stat.S_IMODE(store.stat().st_mode) == 0o700
    assert stat.S_IMODE((store / "credentials.json").stat().st_mode) == 0o600
    # what was there before the restore is kept aside, not deleted
    assert list(data.glob("bot.db.before-restore-*"))


def test_a_backup_never_overwrites_and_a_restore_needs_a_backup(tmp_path: Path) -> None:
    env = {"TMM_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"}
    assert run_bot("migrate", cwd=tmp_path, **env).returncode == 0
    full = tmp_path / "full"
    full.mkdir()
    (full / "something").write_text("x")
    refused = run_bot("backup", str(full), cwd=tmp_path, **env)
    assert refused.returncode == 2
    assert "is not empty" in refused.stderr
    missing = run_bot("restore", str(tmp_path / "nothing"), cwd=tmp_path, **env)
    assert missing.returncode == 2
    assert "holds no backup" in missing.stderr


def test_postgresql_gets_pg_dump_guidance(tmp_path: Path) -> None:
    from bot.backup import backup
    from bot.settings import Settings

    settings = Settings(
        database_url="postgresql+asyncpg://bot:pw@db.example.org/tmm",
        media_path=tmp_path / "media",
        matrix_store_path=tmp_path / "matrix",
        _env_file=None,  # type: ignore[call-arg]
    )
    outcome = backup(settings, tmp_path / "backup")
    text = "\n".join(outcome.lines)
    assert "pg_dump --format=custom" in text
    assert "pg_restore" in text
    assert "pw" not in text

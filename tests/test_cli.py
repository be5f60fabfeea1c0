"""`python -m bot`: the commands it lists, and one clear line for a bad setting."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main


def clean_env(**settings: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TMM_")}
    env.update(settings)
    return env


def run_bot(
    *args: str, cwd: Path, input_text: str | None = None, **settings: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=clean_env(**settings),
        input=input_text,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = run_bot("--help", cwd=tmp_path)
    assert result.returncode == 0
    for command in ("run", "demo", "migrate", "admin"):
        assert command in result.stdout
    admin = run_bot("admin", "--help", cwd=tmp_path)
    assert admin.returncode == 0
    for action in ("grant-coordinator", "revoke-coordinator", "create-invite", "add-topic"):
        assert action in admin.stdout


@pytest.mark.parametrize(
    ("name", "value"),
    [("TMM_TIMEZONE", "Mars/Olympus"), ("TMM_ADMINS", "telegram12345")],
)
def test_a_malformed_setting_gives_one_clear_line(tmp_path: Path, name: str, value: str) -> None:
    settings = {"TMM_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", name: value}
    result = run_bot("migrate", cwd=tmp_path, **settings)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"Configuration error: {name}")
    assert not (tmp_path / "x.db").exists()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TMM_TIMEZONE", "Mars/Olympus"),
        ("TMM_TIMEZONE", ""),
        ("TMM_ADMINS", "telegram12345"),
        ("TMM_ADMINS", "telegram:1, :2"),
        ("TMM_COORDINATORS", "kim"),
        ("TMM_DEFAULT_LANGUAGE", "fr"),
        ("TMM_CONVERSATION_TTL_HOURS", "soon"),
        ("TMM_CONVERSATION_TTL_HOURS", "-1"),
        ("TMM_INVITE_CODE_DAYS", "0"),
        ("TMM_CONSENT_VERSION", ""),
        ("TMM_LOG_LEVEL", "LOUD"),
        ("TMM_CONSOLE", "perhaps"),
        ("TMM_DATABASE_URL", "not a url"),
        ("TMM_DATABASE_URL", "sqlite:///blocking-driver.db"),
        ("TMM_DATABASE_URL", "postgresql://someone:secret@127.0.0.1/db"),
    ],
)
def test_every_malformed_setting_is_one_line_in_process(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    value: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    for key in list(os.environ):
        if key.startswith("TMM_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("TMM_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setenv(name, value)
    assert main(["migrate"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"Configuration error: {name}")
    assert "secret" not in err
    assert not (tmp_path / "x.db").exists()


def test_a_malformed_setting_in_a_dot_env_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("TMM_TIMEZONE=Europe/Atlantis\n", encoding="utf-8")
    result = run_bot("migrate", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("Configuration error: TMM_TIMEZONE")


def test_webhook_mode_refuses_to_start_without_a_secret(tmp_path: Path) -> None:
    result = run_bot(
        "run",
        cwd=tmp_path,
        TMM_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
        TMM_TELEGRAM_TOKEN="1:abc",
        TMM_TELEGRAM_WEBHOOK_URL="https://bot.example.org/tg",
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Configuration error: TMM_TELEGRAM_WEBHOOK_URL needs")
    assert "TMM_TELEGRAM_WEBHOOK_SECRET" in lines[0]
    assert not (tmp_path / "x.db").exists()


def test_migrate_creates_the_database(tmp_path: Path) -> None:
    database = tmp_path / "sub" / "bot.db"
    result = run_bot("migrate", cwd=tmp_path, TMM_DATABASE_URL=f"sqlite+aiosqlite:///{database}")
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout
    with sqlite3.connect(database) as connection:
        tables = {row[0] for row in connection.execute("select name from sqlite_master")}
    assert {"persons", "identities", "conversations", "prompts"} <= tables


def test_admin_grant_and_list_coordinators(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'admin.db'}"
    granted = run_bot(
        "admin", "grant-coordinator", "telegram:4242", cwd=tmp_path, TMM_DATABASE_URL=url
    )
    assert granted.returncode == 0, granted.stderr
    listed = run_bot(
        "admin", "list-coordinators", cwd=tmp_path, TMM_DATABASE_URL=url, TMM_ADMINS="matrix:@a:b"
    )
    assert "telegram:4242" in listed.stdout
    assert "matrix:@a:b" in listed.stdout
    bad = run_bot("admin", "grant-coordinator", "nobody", cwd=tmp_path, TMM_DATABASE_URL=url)
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines()[-1].startswith("Configuration error:")
    assert "Traceback" not in bad.stderr


def test_admin_topics(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'admin.db'}"
    added = run_bot(
        "admin",
        "add-topic",
        "interest",
        "Fuglekig",
        "Bird watching",
        cwd=tmp_path,
        TMM_DATABASE_URL=url,
    )
    assert added.returncode == 0, added.stderr
    listed = run_bot("admin", "list-topics", cwd=tmp_path, TMM_DATABASE_URL=url)
    assert "Fuglekig / Bird watching" in listed.stdout


def test_run_without_a_transport_says_how_to_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    for key in list(os.environ):
        if key.startswith("TMM_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("TMM_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Configuration error: no transport is configured")
    assert "python -m bot demo" in err


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound once, then let go)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.parametrize(
    "command",
    [("migrate",), ("run",), ("admin", "list-coordinators"), ("admin", "create-invite")],
)
def test_an_unreachable_database_is_one_line_without_the_password(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    port = closed_port()
    url = f"postgresql+asyncpg://bot:hunter2-secret@127.0.0.1:{port}/tmm"
    result = run_bot(*command, cwd=tmp_path, TMM_DATABASE_URL=url, TMM_CONSOLE="true")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"Cannot reach the database at 127.0.0.1:{port}: ")
    assert "hunter2-secret" not in result.stderr + result.stdout

"""`python -m bot run` on Matrix when it cannot start: one clear line, exit code 2, no
traceback, and neither the password nor the store passphrase printed."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from tests.synapse import Synapse
from tests.test_cli import closed_port, run_bot
from tests.test_matrix_crash import BotProcess

PASSWORD = "hunter2-matrix-secret"
STORE_KEY = "first passphrase, kept secret"


def matrix_settings(tmp_path: Path, homeserver: str, **more: str) -> dict[str, str]:
    return {
        "TMM_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        "TMM_MATRIX_HOMESERVER": homeserver,
        "TMM_MATRIX_USER_ID": "@taelmigmed:localhost",
        "TMM_MATRIX_PASSWORD": PASSWORD,
        "TMM_MATRIX_STORE_PATH": str(tmp_path / "store"),
        "TMM_MATRIX_STORE_KEY": STORE_KEY,
        "TMM_LOG_LEVEL": "ERROR",
        **more,
    }


def one_clear_line(stderr: str, beginning: str) -> None:
    assert "Traceback" not in stderr, stderr
    assert "client_session" not in stderr, stderr
    assert PASSWORD not in stderr
    assert STORE_KEY not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith(beginning), stderr


def test_an_unreachable_homeserver_is_one_line(tmp_path: Path) -> None:
    homeserver = f"http://127.0.0.1:{closed_port()}"
    result = run_bot("run", cwd=tmp_path, **matrix_settings(tmp_path, homeserver))
    assert result.returncode == 2
    one_clear_line(
        result.stderr, f"Configuration error: Matrix: cannot reach the homeserver at {homeserver}"
    )


def test_a_homeserver_without_https_is_one_line(tmp_path: Path) -> None:
    result = run_bot("run", cwd=tmp_path, **matrix_settings(tmp_path, "matrix.example.org"))
    assert result.returncode == 2
    one_clear_line(result.stderr, "Configuration error: TMM_MATRIX_HOMESERVER should be")


def test_a_wrong_password_is_one_line(synapse: Synapse, tmp_path: Path) -> None:
    account = synapse.register("startupbot")
    settings = matrix_settings(tmp_path, synapse.url, TMM_MATRIX_USER_ID=account.user_id)
    result = run_bot("run", cwd=tmp_path, **settings)
    assert result.returncode == 2
    one_clear_line(
        result.stderr,
        f"Configuration error: Matrix: the homeserver refused to log in {account.user_id}",
    )


async def test_a_store_opened_with_another_passphrase_or_none_is_one_line(
    synapse: Synapse, tmp_path: Path
) -> None:
    bot = BotProcess(synapse, tmp_path, localpart="storekeybot")
    bot.env["TMM_MATRIX_STORE_KEY"] = STORE_KEY
    await bot.start()
    for _ in range(3000):
        if "first start" in bot.log.read_text():
            break
        await asyncio.sleep(0.02)
    assert await bot.signal(signal.SIGTERM, within=60.0) == 0

    settings = {
        key: value
        for key, value in bot.env.items()
        if key.startswith("TMM_") and key != "TMM_MATRIX_STORE_KEY"
    }
    settings["TMM_LOG_LEVEL"] = "ERROR"
    for other in ("another passphrase", None):
        changed = {**settings, **({"TMM_MATRIX_STORE_KEY": other} if other else {})}
        result = await asyncio.to_thread(run_bot, "run", cwd=tmp_path, **changed)
        assert result.returncode == 2, result.stderr
        one_clear_line(result.stderr, "Configuration error: Matrix: the encryption store in")
        assert bot.env["TMM_MATRIX_PASSWORD"] not in result.stderr


async def test_a_store_from_another_account_is_one_line(synapse: Synapse, tmp_path: Path) -> None:
    bot = BotProcess(synapse, tmp_path, localpart="storeownerbot")
    await bot.start()
    for _ in range(3000):
        if "first start" in bot.log.read_text():
            break
        await asyncio.sleep(0.02)
    assert await bot.signal(signal.SIGTERM, within=60.0) == 0

    other = synapse.register("otherstorebot")
    settings = {key: value for key, value in bot.env.items() if key.startswith("TMM_")}
    settings |= {
        "TMM_MATRIX_USER_ID": other.user_id,
        "TMM_MATRIX_PASSWORD": other.password,
        "TMM_LOG_LEVEL": "ERROR",
    }
    result = await asyncio.to_thread(run_bot, "run", cwd=tmp_path, **settings)
    assert result.returncode == 2, result.stderr
    one_clear_line(
        result.stderr,
        f"Configuration error: Matrix: the store in {settings['TMM_MATRIX_STORE_PATH']} "
        f"belongs to {bot.user_id}, not to {other.user_id}",
    )
    assert other.password not in result.stderr
    assert bot.env["TMM_MATRIX_PASSWORD"] not in result.stderr
    assert settings["TMM_MATRIX_STORE_KEY"] not in result.stderr
    # the store is left as it was: its own account still starts from it
    credentials = (Path(settings["TMM_MATRIX_STORE_PATH"]) / "credentials.json").read_text()
    assert bot.user_id in credentials

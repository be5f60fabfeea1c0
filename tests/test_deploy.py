"""What an operator runs: make targets, the deployment files, the wheel."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def planned_commands(target: str, tmp_path: Path) -> str:
    """Every command `make <target>` would run on a fresh machine (-B: as if nothing were
    built yet; -n: print, do not run)."""
    if shutil.which("make") is None:
        pytest.fail("make is not installed; these tests need it")
    result = subprocess.run(
        ["make", "-n", "-B", target, f"VENV={tmp_path / 'venv'}"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout


@pytest.mark.parametrize("target", ["demo", "run", "migrate"])
def test_running_needs_no_node_and_no_test_extras(target: str, tmp_path: Path) -> None:
    commands = planned_commands(target, tmp_path)
    assert "pip install --quiet -e ." in commands
    assert "npm" not in commands
    assert "[test]" not in commands


def test_the_tests_install_the_extras_and_the_emulator(tmp_path: Path) -> None:
    commands = planned_commands("test", tmp_path)
    assert '-e ".[test]"' in commands
    assert "npm ci" in commands


ENV_EXAMPLE = PROJECT_ROOT / ".env.example"


def test_env_example_has_every_setting_with_a_comment() -> None:
    from bot.settings import ENV_PREFIX, Settings

    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    named: dict[str, int] = {}
    for number, line in enumerate(lines):
        match = re.match(r"^(?:# )?(TMM_[A-Z0-9_]+)=", line)
        if match:
            named[match.group(1)] = number
    expected = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
    assert expected - set(named) == set(), "settings missing from .env.example"
    for name in expected:
        above = lines[named[name] - 1]
        assert above.startswith("# "), f"{name} has no comment"
        assert not re.match(r"^# TMM_[A-Z0-9_]+=", above), f"{name} has no comment"
    # what is set (uncommented) is a valid configuration as it stands
    values = dict(line.split("=", 1) for line in lines if line.startswith("TMM_") and "=" in line)
    settings = Settings(
        _env_file=None, **{k.removeprefix(ENV_PREFIX).lower(): v for k, v in values.items()}
    )  # type: ignore[arg-type]
    assert settings.telegram_token is not None


def test_the_systemd_unit_is_hardened() -> None:
    unit = (PROJECT_ROOT / "deploy" / "taelmigmed.service").read_text(encoding="utf-8")
    for option in (
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "StateDirectory=taelmigmed",
        "UMask=0077",
        "CapabilityBoundingSet=",
        "ExecStart=/opt/taelmigmed/venv/bin/taelmigmed run",
        "EnvironmentFile=/etc/taelmigmed/env",
    ):
        assert option in unit


def test_the_wheel_installs_in_a_fresh_venv_and_runs_against_the_emulator(
    tmp_path: Path,
) -> None:
    """Build the wheel, install it into a new venv (its dependencies come from this
    project's venv, so no network is needed for them), and start `taelmigmed run` in a
    folder holding only `.env.example` as `.env` and the example privacy notice: it must
    answer /start through the Telegram emulator."""
    from tests.telegram_support import Emulator, new_token

    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), "."],
        cwd=PROJECT_ROOT,
        check=True,
        timeout=600,
    )
    (wheel,) = dist.glob("taelmigmed-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    ours = [p for p in sys.path if p.endswith("site-packages")]
    (Path(site) / "project-dependencies.pth").write_text("\n".join(ours) + "\n")
    subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)],
        check=True,
        timeout=300,
    )
    workdir = tmp_path / "municipality"
    workdir.mkdir()
    shutil.copy(ENV_EXAMPLE, workdir / ".env")
    shutil.copy(PROJECT_ROOT / "deploy" / "privacy.example.toml", workdir / "privacy.toml")

    emulator = Emulator()
    token = new_token()
    env = {key: value for key, value in os.environ.items() if not key.startswith("TMM_")}
    env |= {  # what a municipality fills in differently: the token, and where Telegram is
        "TMM_TELEGRAM_TOKEN": token,
        "TMM_TELEGRAM_API_BASE_URL": emulator.url,
        "TMM_TELEGRAM_POLL_TIMEOUT": "1",
        "TMM_HTTP_PORT": "0",
    }
    bot = subprocess.Popen(
        [str(venv / "bin" / "taelmigmed"), "run"],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        answer = asyncio.run(_start_and_wait_for_an_answer(emulator.url, token, bot))
    finally:
        bot.terminate()
        output, _ = bot.communicate(timeout=60)
        emulator.stop()
    assert answer, output
    assert "Tæl mig med" in answer[0], output
    assert (workdir / "data" / "taelmigmed.db").exists()
    assert token not in output  # the log never shows the token


async def _start_and_wait_for_an_answer(
    url: str, token: str, bot: subprocess.Popen[str]
) -> list[str]:
    import httpx

    user = {"id": 4711, "is_bot": False, "first_name": "Kommune", "language_code": "da"}
    message = {
        "botToken": token,
        "from": user,
        "chat": {"id": 4711, "type": "private", "first_name": "Kommune"},
        "date": 0,
        "text": "/start",
        "entities": [{"offset": 0, "length": 6, "type": "bot_command"}],
    }
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 120  # a fresh venv's first start compiles the catalogs
    async with httpx.AsyncClient(timeout=20) as http:
        (await http.post(f"{url}/sendCommand", json=message)).raise_for_status()
        while loop.time() < deadline and bot.poll() is None:
            state = (await http.post(f"{url}/_test/state", json={"token": token})).json()
            texts = [m.get("text") or "" for m in state["result"]["messages"]]
            if texts:
                return texts
            await asyncio.sleep(0.5)
    return []

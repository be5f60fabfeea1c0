"""What an operator runs: make targets, the deployment files, the wheel."""

from __future__ import annotations

import shutil
import subprocess
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

"""The shape of the code, kept: what may import what, module size, function complexity.

A newcomer should find one job per module and follow any function in one read; these
checks keep it so as the bot grows (see ARCHITECTURE.md).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from radon.complexity import cc_rank, cc_visit

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "conversations", "storage")
MAX_LINES = 500
WORST_RANK = "D"  # radon's E and F (cyclomatic complexity over 30) are not allowed
LINT_IMPORTS = "from importlinter.cli import lint_imports_command; lint_imports_command()"


def modules() -> list[Path]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.relative_to(ROOT).parts:
                found.append(path)
    return found


def test_imports_point_down_rules_never_import_flows_and_transports_are_handed_what_they_need() -> (
    None
):
    # In a process of its own: import-linter configures logging in a way that silences the
    # loggers already made (and with them the log checks of the tests that follow).
    checked = subprocess.run(
        [sys.executable, "-c", LINT_IMPORTS, "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_is_over_500_lines(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_function_is_too_complex_to_follow(path: Path) -> None:
    blocks = cc_visit(path.read_text(encoding="utf-8"))
    too_complex = [
        f"{block.fullname} ({block.complexity})"
        for block in blocks
        if cc_rank(block.complexity) > WORST_RANK
    ]
    assert not too_complex, f"{path.relative_to(ROOT)}: {too_complex}"


def test_the_checks_see_the_code() -> None:
    # a broken glob would make every check above pass on nothing
    assert len(modules()) > 100

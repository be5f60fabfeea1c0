"""The README stays true: every setting is documented, every placeholder filled."""

from __future__ import annotations

import re
from pathlib import Path

from bot.settings import ENV_PREFIX, Settings

README = Path(__file__).resolve().parent.parent / "README.md"


def test_every_setting_is_in_the_readme_table() -> None:
    text = README.read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `(TMM_[A-Z0-9_]+)` \|", text, flags=re.MULTILINE))
    expected = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
    assert expected - documented == set(), "settings missing from the README table"
    assert documented - expected == set(), "README documents settings that do not exist"


def test_no_placeholder_is_left_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    leftovers = re.findall(r"^[A-Z][A-Z-]{5,}$", text, flags=re.MULTILINE)
    assert leftovers == []

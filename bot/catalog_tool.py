"""`python -m bot.catalog_tool`: what Babel leaves to do after `make messages`.

`make messages` runs `pybabel extract` (the template `bot/locale/messages.pot`) and
`pybabel update` (every catalog). This tool then does the two things Babel does not: the
English catalog gets the source text itself (the texts are written in English), and the
catalogs' dates are pinned, so a refresh changes only the texts. It lists what is left to
translate; `--strict` makes that an error.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po, write_po

from bot.i18n import DOMAIN, LOCALE_DIR, discover_languages

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "conversations", "storage")
TEMPLATE = LOCALE_DIR / f"{DOMAIN}.pot"
FIXED_DATE = datetime(2026, 11, 22, tzinfo=UTC)  # keeps the catalogs free of date-only churn
COMMENT_TAGS = ("TRANSLATORS:",)
WIDTH = 100


def extract() -> Catalog:
    """The texts in the source, as `pybabel extract` finds them (the same extractor)."""
    template = Catalog(project="Tæl mig med", charset="utf-8")
    for package in PACKAGES:
        for filename, lineno, message, comments, context in extract_from_dir(
            ROOT / package, keywords=DEFAULT_KEYWORDS, comment_tags=COMMENT_TAGS
        ):
            template.add(
                message,
                None,
                [(f"{package}/{filename}", lineno)],
                auto_comments=comments,
                context=context,
            )
    return template


def translated(string: object) -> bool:
    if isinstance(string, tuple | list):
        return bool(string) and all(string)
    return bool(string)


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def _read(path: Path, language: str | None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=language)


def _write(path: Path, catalog: Catalog) -> None:
    catalog.creation_date = catalog.revision_date = FIXED_DATE
    catalog.project, catalog.version = "Tæl mig med", "1"
    catalog.msgid_bugs_address = ""
    with path.open("wb") as handle:
        write_po(handle, catalog, width=WIDTH, sort_output=True, no_location=True)


def finish(languages: tuple[str, ...]) -> list[str]:
    """Fill English from the source, pin the dates; the entries still untranslated."""
    if TEMPLATE.exists():
        _write(TEMPLATE, _read(TEMPLATE, None))
    missing: list[str] = []
    for language in languages:
        path = po_path(language)
        catalog = _read(path, language)
        catalog.fuzzy = False
        for message in catalog:
            if not message.id:
                continue
            if language == "en" and not translated(message.string):
                message.string = message.id
            if message.fuzzy or not translated(message.string):
                missing.append(f"{language}: {message.id!r}")
        catalog.obsolete.clear()
        _write(path, catalog)
    return missing


def main() -> int:
    missing = finish(discover_languages())
    for line in missing:
        print(f"untranslated {line}")
    return 1 if missing and "--strict" in sys.argv else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""`python -m bot.catalog_tool`: refresh the catalogs from the source texts.

English is the language the texts are written in, so its catalog is filled with the
source text itself; Danish entries left empty are listed so a person can translate them.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from bot.i18n import DOMAIN, LANGUAGES, LOCALE_DIR

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "conversations", "storage")
FIXED_DATE = datetime(2026, 11, 22, tzinfo=UTC)  # keeps the catalogs free of date-only churn
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}


def extract() -> Catalog:
    template = Catalog(project="taelmigmed", charset="utf-8")
    for package in PACKAGES:
        for filename, lineno, message, comments, context in extract_from_dir(
            ROOT / package, keywords=KEYWORDS, comment_tags=("TRANSLATORS:",)
        ):
            template.add(
                message,
                None,
                [(f"{package}/{filename}", lineno)],
                auto_comments=comments,
                context=context,
            )
    return template


def _translated(string: object) -> bool:
    if isinstance(string, tuple):
        return bool(string) and all(string)
    return bool(string)


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def refresh() -> list[str]:
    template = extract()
    missing: list[str] = []
    for language in LANGUAGES:
        path = po_path(language)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=language)
        else:
            catalog = Catalog(locale=language, project="taelmigmed", charset="utf-8")
        catalog.update(template, no_fuzzy_matching=True)
        catalog.fuzzy = False
        catalog.project, catalog.version = "Tæl mig med", "1"
        catalog.msgid_bugs_address = ""
        catalog.last_translator = "Tæl mig med developers"
        catalog.language_team = {"da": "Dansk", "en": "English"}[language]
        catalog.creation_date = catalog.revision_date = FIXED_DATE
        for message in catalog:
            if not message.id:
                continue
            if language == "en" and not _translated(message.string):
                message.string = message.id
            if not _translated(message.string):
                missing.append(f"{language}: {message.id!r}")
        catalog.obsolete.clear()
        with path.open("wb") as handle:
            write_po(
                handle, catalog, width=100, omit_header=False, sort_output=True, no_location=True
            )
    return missing


def main() -> int:
    missing = refresh()
    for line in missing:
        print(f"untranslated {line}")
    return 1 if missing and "--strict" in sys.argv else 0


if __name__ == "__main__":
    raise SystemExit(main())

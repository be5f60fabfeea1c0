"""Danish and English texts from gettext catalogs, plus dates in the reader's language.

The `.po` files in `bot/locale` are the source; `make` compiles them to `.mo`. If a `.mo`
is missing or older than its `.po` (a fresh checkout run without make), the catalog is
compiled in memory instead, so the bot never falls back to untranslated text.
"""

from __future__ import annotations

import io
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_datetime as babel_format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations as BabelTranslations

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
LANGUAGES: tuple[str, ...] = ("da", "en")
DEFAULT_LANGUAGE = "da"


def _load(language: str) -> BabelTranslations:
    folder = LOCALE_DIR / language / "LC_MESSAGES"
    po_path, mo_path = folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"
    if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
        with mo_path.open("rb") as handle:
            return BabelTranslations(handle, domain=DOMAIN)
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return BabelTranslations(buffer, domain=DOMAIN)


class Translator:
    def __init__(self, language: str, translations: BabelTranslations) -> None:
        self._language = language
        self._translations = translations

    @property
    def language(self) -> str:
        return self._language

    def gettext(self, message: str) -> str:
        return self._translations.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._translations.ngettext(singular, plural, n)

    def format_datetime(self, moment: datetime, timezone: str) -> str:
        local = moment.astimezone(ZoneInfo(timezone))
        pattern = "EEEE d. MMMM y 'kl.' HH:mm" if self._language == "da" else "EEEE d MMMM y, HH:mm"
        return babel_format_datetime(local, pattern, locale=self._language)


class Catalogs:
    """All languages, loaded once."""

    def __init__(self, languages: tuple[str, ...] = LANGUAGES) -> None:
        self._by_language = {lang: Translator(lang, _load(lang)) for lang in languages}

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self._by_language)

    def get(self, language: str) -> Translator:
        return self._by_language.get(language) or self._by_language[DEFAULT_LANGUAGE]


@cache
def catalogs() -> Catalogs:
    return Catalogs()

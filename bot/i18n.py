"""Texts from gettext catalogs, plus dates and numbers in the reader's language.

A language is its catalog: every `bot/locale/<code>/LC_MESSAGES/messages.po` is a language
the bot speaks, named by the catalog itself (the text with context "language name"). The
`.po` files are the source; `make` compiles them to `.mo`. If a `.mo` is missing or older
than its `.po` (a fresh checkout run without make), the catalog is compiled in memory
instead, so the bot never falls back to untranslated text.
"""

from __future__ import annotations

import io
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time
from babel.dates import format_datetime as babel_format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations as BabelTranslations

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
DEFAULT_LANGUAGE = "da"
# What a text falls back to when it has no name in the reader's language (topics, steps)
FALLBACK_LANGUAGES = ("da", "en")
LANGUAGE_NAME_CONTEXT = "language name"
# Languages written right to left; their texts get a mark so a line starting with a
# number or a Latin name is still laid out from the right.
RIGHT_TO_LEFT = frozenset({"ar", "fa", "he", "ur", "ps", "ckb"})
RTL_MARK = "\u200f"
# Dates as people here write them; other languages get their locale's full date and a time
_PATTERNS = {"da": "EEEE d. MMMM y 'kl.' HH:mm", "en": "EEEE d MMMM y, HH:mm"}


def discover_languages(locale_dir: Path = LOCALE_DIR) -> tuple[str, ...]:
    """Every language with a catalog: Danish first, then English, then by code."""
    found = {path.parent.parent.name for path in locale_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po")}
    first = [code for code in FALLBACK_LANGUAGES if code in found]
    return (*first, *sorted(found - set(first)))


LANGUAGES: tuple[str, ...] = discover_languages()


def primary_language(tag: str | None) -> str | None:
    """`en-US`, `pt_BR`, `UK` -> `en`, `pt`, `uk`; nothing for nothing."""
    if not tag:
        return None
    return tag.replace("_", "-").split("-")[0].strip().lower() or None


def _load(language: str, locale_dir: Path) -> BabelTranslations:
    folder = locale_dir / language / "LC_MESSAGES"
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


def _locale(language: str) -> Locale | None:
    try:
        return Locale.parse(language)
    except (UnknownLocaleError, ValueError):
        return None


class Translator:
    def __init__(self, language: str, translations: BabelTranslations) -> None:
        self._language = language
        self._translations = translations
        self._locale = _locale(language)

    @property
    def language(self) -> str:
        return self._language

    @property
    def display_name(self) -> str:
        """The language's name in itself, as its catalog gives it."""
        # TRANSLATORS: the name of your language, written in your language: Dansk, Українська
        name = str(self._translations.pgettext("language name", "English"))
        if name == "English" and self._language != "en" and self._locale is not None:
            return self._locale.get_display_name(self._language) or name
        return name

    @property
    def emoji(self) -> str | None:
        """A picture on the language's button (a flag), if its catalog gives one."""
        # TRANSLATORS: one emoji on the button that chooses your language (a flag people
        # recognise), or a single "-" for none
        emoji = str(self._translations.pgettext("language emoji", "🇬🇧"))
        if (self._language != "en" and emoji == "🇬🇧") or emoji.strip() in ("", "-"):
            return None
        return emoji

    @property
    def right_to_left(self) -> bool:
        return self._language in RIGHT_TO_LEFT

    def names_for_matching(self) -> tuple[str, ...]:
        """What a person may type to choose this language: its code and its names."""
        names = [self._language, self.display_name]
        if self._locale is not None:
            for other in FALLBACK_LANGUAGES:
                names.append(self._locale.get_display_name(other) or "")
        return tuple(dict.fromkeys(n for n in names if n))

    def gettext(self, message: str) -> str:
        return self._directed(self._translations.gettext(message))

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._directed(self._translations.ngettext(singular, plural, n))

    def _directed(self, text: str) -> str:
        """Right-to-left texts get a mark at the start of every line: Telegram and Element
        lay a line out by its first letter, which may be a Latin name or a number."""
        if not self.right_to_left:
            return text
        return "\n".join(
            line if not line or line.startswith(RTL_MARK) else RTL_MARK + line
            for line in text.split("\n")
        )

    def format_number(self, number: int) -> str:
        """A count as the reader writes it: 10.000 in Danish, 10 000 in Ukrainian."""
        return format_decimal(number, locale=self._locale or Locale.parse("en"))

    def format_datetime(self, moment: datetime, timezone: str) -> str:
        local = moment.astimezone(ZoneInfo(timezone))
        if self._language in _PATTERNS:
            return babel_format_datetime(local, _PATTERNS[self._language], locale=self._language)
        locale = self._locale or Locale.parse("en")
        # the locale's own way of joining a full date and a time ("{1} 'at' {0}", ...)
        joined = str(locale.datetime_formats.get("long", "{1} {0}"))
        date = format_date(local, "full", locale=locale)
        time = format_time(local, "HH:mm", locale=locale)
        return joined.replace("{1}", date).replace("{0}", time).replace("'", "")


class Catalogs:
    """All languages, loaded once."""

    def __init__(
        self, languages: tuple[str, ...] | None = None, locale_dir: Path = LOCALE_DIR
    ) -> None:
        if languages is None:
            languages = discover_languages(locale_dir)
        self._by_language = {lang: Translator(lang, _load(lang, locale_dir)) for lang in languages}

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self._by_language)

    def get(self, language: str) -> Translator:
        return self._by_language.get(language) or self._by_language[DEFAULT_LANGUAGE]

    def supported(self, hint: str | None) -> str | None:
        """The language a platform's hint names, if there is a catalog for it."""
        language = primary_language(hint)
        return language if language in self._by_language else None


@cache
def catalogs() -> Catalogs:
    return Catalogs()

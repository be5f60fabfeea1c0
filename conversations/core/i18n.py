"""What flows need from translations, without depending on how they are loaded."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Translator(Protocol):
    @property
    def language(self) -> str: ...

    @property
    def display_name(self) -> str:
        """The language's name in itself (Dansk, English, Українська)."""
        ...

    @property
    def emoji(self) -> str | None:
        """A picture on the language's button (a flag), if its catalog gives one."""
        ...

    def names_for_matching(self) -> tuple[str, ...]:
        """What a person may type to choose this language."""
        ...

    def gettext(self, message: str) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int) -> str: ...

    def format_number(self, number: int) -> str:
        """A count as the reader writes it (thousands grouped their way)."""
        ...

    def format_datetime(self, moment: datetime, timezone: str) -> str:
        """A full, readable date and time in the reader's language and local time."""
        ...


class Translations(Protocol):
    @property
    def languages(self) -> tuple[str, ...]: ...

    def get(self, language: str) -> Translator: ...

    def supported(self, hint: str | None) -> str | None:
        """The language a platform's hint (`en-US`) names, if there is a catalog for it."""
        ...


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "translate later"
    """Marks a text for the catalog without translating it yet."""
    return message


DIRECTION_MARKS = str.maketrans("", "", "\u200e\u200f\u061c")


def without_direction_marks(text: str) -> str:
    """For files (a CSV): the marks a right-to-left chat needs mean nothing in a table."""
    return text.translate(DIRECTION_MARKS)


def plural_count(amount: float) -> int:
    """The number a plural form is chosen by: a period may be set to a fraction, which
    reads as plural ("1.5 months") in the languages we have."""
    return int(amount) if float(amount).is_integer() else 2

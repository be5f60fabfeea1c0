"""Every text in the source has a finished translation in every catalog, with the same
placeholders, and the bot reads Danish by default."""

from __future__ import annotations

import gettext
import re
from collections import Counter
from string import Formatter

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from bot.app import BotApp
from bot.catalog_tool import extract, po_path
from bot.i18n import LANGUAGES, Catalogs
from handlers.commands import BACK, CANCEL, HELP


def load(language: str) -> Catalog:
    with po_path(language).open("rb") as handle:
        return read_po(handle, locale=language)


def forms(value: str | tuple[str, ...] | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def placeholders(text: str) -> Counter[str]:
    return Counter(field for _, field, _, _ in Formatter().parse(text) if field is not None)


@pytest.fixture(scope="module")
def source() -> Catalog:
    return extract()


@pytest.fixture(scope="module", params=LANGUAGES)
def catalog(request: pytest.FixtureRequest) -> Catalog:
    return load(request.param)


def texts(catalog: Catalog) -> list[Message]:
    return [message for message in catalog if message.id]


def test_the_source_has_texts(source: Catalog) -> None:
    assert len(texts(source)) > 50


def test_every_source_text_is_in_the_catalog(source: Catalog, catalog: Catalog) -> None:
    missing = [m.id for m in texts(source) if catalog.get(m.id, m.context) is None]
    assert not missing, f"{catalog.locale}: run `make messages` and translate: {missing}"


def test_every_text_is_translated_and_not_fuzzy(source: Catalog, catalog: Catalog) -> None:
    problems = []
    for wanted in texts(source):
        message = catalog.get(wanted.id, wanted.context)
        if message is None:
            continue  # reported by the test above
        if message.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        if not forms(message.string) or not all(forms(message.string)):
            problems.append(f"empty: {message.id!r}")
    assert not problems, f"{catalog.locale}: " + "\n".join(problems)


def single_number_forms(catalog: Catalog) -> set[int]:
    """The plural forms that stand for one number only (Arabic's for 0, 1 and 2): these may
    leave the number out ("شخصان", two people), as is natural there."""
    choose = gettext.c2py(catalog.plural_expr)
    numbers: dict[int, set[int]] = {}
    for n in range(1000):
        numbers.setdefault(choose(n), set()).add(n)
    return {form for form, ns in numbers.items() if len(ns) == 1}


def test_translations_keep_the_placeholders(catalog: Catalog) -> None:
    problems = []
    single = single_number_forms(catalog)
    for message in texts(catalog):
        ids = forms(message.id)
        for index, translated in enumerate(forms(message.string)):
            if not translated:
                continue
            original = ids[min(index, len(ids) - 1)]
            try:
                have = placeholders(translated)
            except ValueError as error:  # an unbalanced brace would crash .format()
                problems.append(f"{message.id!r}: {error}")
                continue
            wanted = placeholders(original)
            if len(ids) > 1 and index in single and set(have) <= set(wanted):
                continue
            if have != wanted:
                problems.append(
                    f"{message.id!r}: {sorted(have)} != {sorted(placeholders(original))}"
                )
    assert not problems, f"{catalog.locale}: " + "\n".join(problems)


async def test_danish_texts_name_the_danish_commands(app: BotApp) -> None:
    registry = app.router.commands  # every command the running bot knows, not just ours
    english_only = {spec.name for spec in registry if spec.name != spec.danish}
    english_only |= {CANCEL[0], BACK[0], HELP[0]}
    english_only.discard("start")  # /start is the same word in both languages
    problems = []
    for message in texts(load("da")):
        for translated in forms(message.string):
            used = set(re.findall(r"(?<![\w/])/(\w+)", translated))
            if wrong := used & english_only:
                problems.append(f"{translated!r} uses {sorted(wrong)}")
    assert not problems, "\n".join(problems)


async def test_other_languages_name_the_english_commands(app: BotApp) -> None:
    """Only Danish has command names of its own; every other catalog uses the English ones,
    which are what its command menu shows."""
    registry = app.router.commands
    danish_only = {spec.danish for spec in registry if spec.name != spec.danish}
    danish_only |= {CANCEL[1], BACK[1], HELP[1]}
    problems = []
    for language in (code for code in LANGUAGES if code != "da"):
        for message in texts(load(language)):
            for translated in forms(message.string):
                used = set(re.findall(r"(?<![\w/])/(\w+)", translated))
                if wrong := used & danish_only:
                    problems.append(f"{language}: {translated!r} uses {sorted(wrong)}")
    assert not problems, "\n".join(problems)


def test_danish_is_read_from_the_catalog() -> None:
    catalogs = Catalogs()
    assert catalogs.get("da").gettext("Yes, that's fine") == "Ja, det er fint"
    assert catalogs.get("en").gettext("Yes, that's fine") == "Yes, that's fine"


def test_an_unknown_language_falls_back_to_danish() -> None:
    fallback = Catalogs().get("xx")
    assert fallback.language == "da"
    assert fallback.gettext("No thanks") == "Nej tak"

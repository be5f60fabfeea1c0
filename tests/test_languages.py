"""Every citizen in their own language: a language is its catalog, a newcomer is greeted in
their app's language, and defined texts (topics, journey steps) have names per language."""

from __future__ import annotations

import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

from bot.i18n import LOCALE_DIR, Catalogs, catalogs
from bot.transports.base import MenuCommand
from bot.transports.telegram.menus import CommandMenus
from conversations.core.dates import parse_when
from conversations.core.messages import Inbound
from conversations.events.rules.journey import (
    DEFAULT_JOURNEY,
    DEFAULT_STEP_TEXTS,
    step_key,
    step_names,
)
from storage.models import NamedSubject, Role, TopicKind
from tests.fakes import Chat
from tests.helpers import choice_ids

WELCOME = (
    "Hello, and welcome to Tæl mig med! 🌿\n"
    "I help you find things to do together with others nearby, such as walks, "
    "a picnic in the forest or cooking together. You can also lend a hand, "
    "if you like. It only takes a few taps."
)


def somali_catalogs(tmp_path: Path) -> Catalogs:
    """The shipped catalogs plus one more, dropped in as a translator would."""
    for language in ("da", "en"):
        folder = tmp_path / language / "LC_MESSAGES"
        folder.mkdir(parents=True)
        shutil.copy(LOCALE_DIR / language / "LC_MESSAGES" / "messages.po", folder)
    catalog = Catalog(locale="so")
    catalog.add("English", "Soomaali", context="language name")
    catalog.add("Start, or switch messages back on", "Bilow")
    folder = tmp_path / "so" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with (folder / "messages.po").open("wb") as handle:
        write_po(handle, catalog)
    return Catalogs(locale_dir=tmp_path)


def test_a_new_catalog_is_a_new_language_with_its_own_name_and_menu(tmp_path: Path) -> None:
    found = somali_catalogs(tmp_path)
    assert found.languages == ("da", "en", "so")
    assert found.get("so").display_name == "Soomaali"
    assert "somali" in [n.casefold() for n in found.get("so").names_for_matching()]
    entry = MenuCommand("start", "Start, or switch messages back on", frozenset({Role.CITIZEN}))
    menus = CommandMenus(None, [entry], found)  # type: ignore[arg-type]  # no sending here
    common = menus.common_menus()
    assert set(common) == {None, "da", "en", "so"}
    assert [c.description for c in common["so"]] == ["Bilow"]


def test_the_shipped_languages_name_themselves() -> None:
    names = {code: catalogs().get(code).display_name for code in catalogs().languages}
    assert names == {"da": "Dansk", "en": "English", "ar": "العربية", "uk": "Українська"}


async def test_onboarding_offers_every_language_in_its_own_name(chat: Chat) -> None:
    replies = await chat.say("anna", "hej")
    labels = [choice.label for choice in replies[-1].choices]
    assert labels == ["Dansk", "English", "العربية", "Українська"]
    await chat.say("anna", "ukrainian")  # typed, in English: still found
    assert "Ukrain" not in chat.last_text("anna")  # no "please choose" in English
    async with chat.app.uow() as uow:
        identity = await uow.persons.find_identity("fake", "anna")
        assert identity is not None
        person = await uow.persons.get(identity.person_id)
        assert person is not None
        assert person.language == "uk"


async def hello_with_hint(chat: Chat, user: str, hint: str | None) -> list[str]:
    before = len(chat.transport.sent)
    await chat.app.dispatch(
        Inbound(chat.ref(user), uuid.uuid4().hex, text="hello", language_hint=hint)
    )
    return [d.message.text for d in chat.transport.sent[before:]]


async def test_a_newcomer_is_greeted_in_their_apps_language_and_still_asked(chat: Chat) -> None:
    texts = await hello_with_hint(chat, "olena", "uk-UA")
    assert texts[0] == catalogs().get("uk").gettext(WELCOME)
    assert texts[0] != catalogs().get("da").gettext(WELCOME)
    assert choice_ids(chat.last_question("olena")) == ["da", "en", "ar", "uk"]

    texts = await hello_with_hint(chat, "pierre", "fr")  # no French catalog: Danish
    assert texts[0] == catalogs().get("da").gettext(WELCOME)


async def test_a_coordinator_names_a_topic_in_ukrainian_and_it_falls_back_to_danish(
    chat: Chat,
) -> None:
    await chat.onboard("kim", language="en")
    await chat.say("kim", "/topics")
    await chat.tap("kim", "names")
    question = chat.last_question("kim")
    walks = next(c for c in question.choices if c.label == "Nature and walks")
    await chat.tap("kim", walks.id)
    await chat.tap("kim", "uk")
    replies = await chat.say("kim", "Прогулянки")
    assert "Saved" in replies[0].text
    async with chat.app.uow() as uow:
        topic = next(t for t in await uow.topics.active(TopicKind.INTEREST) if t.slug == "natur")
        assert topic.name("uk") == "Прогулянки"
        assert topic.name("ar") == "الطبيعة والمشي"  # a starter topic's Arabic name
        await uow.topics.set_name(topic, "ar", None)
        assert topic.name("ar") == topic.name_da  # no Arabic name: the Danish one
        assert "Прогулянки" in topic.all_names()

    await chat.say("olena", "/start")
    await chat.tap("olena", "uk")
    await chat.tap("olena", "yes")
    await chat.say("olena", "Olena")
    labels = [c.label for c in chat.last_question("olena").choices]
    assert "Прогулянки" in labels
    await chat.say("olena", "прогулянки")  # typed: the Ukrainian name is found
    chosen = [c.label for c in chat.last_question("olena").choices if c.label.startswith("✅")]
    assert chosen == [
        "✅ " + catalogs().get("uk").gettext("{name} (chosen)").format(name="Прогулянки")
    ]


async def test_a_citizen_is_not_let_name_topics(chat: Chat) -> None:
    await chat.onboard("anna", language="en")
    replies = await chat.say("anna", "/topics")
    assert not any("names" in choice_ids(r) for r in replies)


async def test_journey_steps_are_named_in_the_readers_language(chat: Chat) -> None:
    async with chat.app.uow() as uow:
        en, uk = catalogs().get("en"), catalogs().get("uk")
        assert await step_names(uow, en, list(DEFAULT_JOURNEY)) == [
            en.gettext(DEFAULT_STEP_TEXTS[step]) for step in DEFAULT_JOURNEY
        ]
        assert (await step_names(uow, en, ["at komme derhen"]))[0] == "getting there"
        await uow.translations.set(NamedSubject.STEP, "maden", "uk", "спільна трапеза")
        await uow.translations.set(NamedSubject.STEP, step_key("Bålet"), "en", "the fire")
        named = await step_names(uow, uk, ["maden", "Bålet", "kaffen"])
        assert named == ["спільна трапеза", "Bålet", "kaffen"]  # as written, when unnamed
        assert (await step_names(uow, en, ["Bålet"]))[0] == "the fire"


def test_the_danish_default_steps_are_the_danish_catalogs_names() -> None:
    da = catalogs().get("da")
    assert [da.gettext(DEFAULT_STEP_TEXTS[step]) for step in DEFAULT_JOURNEY] == list(
        DEFAULT_JOURNEY
    )


RTL_MARK = "\u200f"


async def test_an_arabic_chat_reads_right_to_left_and_answers_in_arabic(chat: Chat) -> None:
    await chat.say("amal", "/start")
    replies = await chat.tap("amal", "ar")
    consent = replies[-1]
    lines = [line for line in consent.text.split("\n") if line]
    assert len(lines) > 3
    assert all(line.startswith(RTL_MARK) for line in lines)
    assert "/mydata" in consent.text  # the commands stay as they are typed
    replies = await chat.say("amal", "نعم")  # "yes", typed
    assert "/mydata" not in replies[-1].text  # on to the next question: the name
    async with chat.app.uow() as uow:
        identity = await uow.persons.find_identity("fake", "amal")
        assert identity is not None
        person = await uow.persons.get(identity.person_id)
        assert person is not None
        assert (person.language, person.consent) == ("ar", "given")


@pytest.mark.parametrize(
    ("language", "text", "day", "hour"),
    [
        ("uk", "субота 10:00", 5, 9),
        ("uk", "завтра о 9", 2, 8),
        ("ar", "السبت 10:00", 5, 9),
        ("ar", "غدًا 18:00", 2, 17),
        ("uk", "lørdag kl 10", 5, 9),  # Danish is read in every language
    ],
)
def test_dates_are_read_in_the_writers_language(
    language: str, text: str, day: int, hour: int
) -> None:
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)  # a Tuesday
    parsed = parse_when(text, now, "Europe/Copenhagen", language)
    assert parsed is not None
    assert (parsed.start.day, parsed.start.hour) == (day, hour)  # UTC: an hour behind


def test_dates_are_written_for_the_readers_locale() -> None:
    moment = datetime(2026, 12, 5, 9, tzinfo=UTC)
    written = {
        code: catalogs().get(code).format_datetime(moment, "Europe/Copenhagen")
        for code in catalogs().languages
    }
    assert written["da"] == "lørdag 5. december 2026 kl. 10:00"
    for language, words in {"uk": ("субота", "грудня"), "ar": ("السبت", "ديسمبر")}.items():
        assert all(word in written[language] for word in (*words, "10:00")), written[language]


def test_counts_are_written_the_readers_way() -> None:
    written = {code: catalogs().get(code).format_number(12500) for code in catalogs().languages}
    assert written == {"da": "12.500", "en": "12,500", "ar": "12,500", "uk": "12\xa0500"}

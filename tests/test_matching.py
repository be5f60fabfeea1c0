"""Tolerant matching and the small parsers, for any input at all."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conversations.core.matching import closest, match_choice, normalise
from conversations.core.messages import parse_command
from conversations.people.profile_questions import MAX_NAME_LENGTH, clean_name, parse_quiet_hours

LANGUAGE = [
    {"id": "da", "label": "Dansk", "emoji": "🇩🇰", "aliases": ["danish", "dansk", "da"]},
    {"id": "en", "label": "English", "emoji": "🇬🇧", "aliases": ["engelsk", "english", "en"]},
]
RSVP = [
    {"id": "yes", "label": "Tæl mig med", "emoji": "👍", "aliases": ["Count me in", "ja"]},
    {"id": "maybe", "label": "Måske", "emoji": "🤔", "aliases": ["Maybe"]},
    {"id": "no", "label": "Kan ikke", "emoji": "🙅", "aliases": ["Can't", "nej"]},
]

choice_lists = st.lists(
    st.fixed_dictionaries(
        {
            "id": st.text(min_size=1, max_size=8),
            "label": st.text(max_size=20),
            "emoji": st.one_of(st.none(), st.text(max_size=2)),
            "aliases": st.lists(st.text(max_size=10), max_size=3),
        }
    ),
    max_size=6,
)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200), choice_lists, st.booleans())
def test_match_choice_never_raises_and_answers_with_one_of_the_choices(
    text: str, choices: list[dict[str, Any]], exact_only: bool
) -> None:
    found = match_choice(text, choices, exact_only=exact_only)
    assert found is None or found in {str(c["id"]) for c in choices}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", "yes"),
        ("3.", "no"),
        ("nr. 2", "maybe"),
        ("4", None),
        ("0", None),
        ("tael mig med", "yes"),
        ("Tæl mig", "yes"),
        ("count me in", "yes"),
        ("COUNT ME IN!", "yes"),
        ("maaske", "maybe"),
        ("masske", "maybe"),
        ("cant", "no"),
        ("👍", "yes"),
        ("🤔", "maybe"),
        ("", None),
        ("   ", None),
        ("purple", None),
    ],
)
def test_typed_rsvp_answers(text: str, expected: str | None) -> None:
    assert match_choice(text, RSVP) == expected


def test_exact_only_takes_numbers_emoji_and_whole_words() -> None:
    names = [{"id": "suggested", "label": "Anna", "emoji": "🙂"}, {"id": "skip", "label": "Skip"}]
    assert match_choice("Anna B", names, exact_only=True) is None
    assert match_choice("anna", names, exact_only=True) == "suggested"
    assert match_choice("1", names, exact_only=True) == "suggested"
    assert match_choice("🙂", names, exact_only=True) == "suggested"
    assert match_choice("Skp", names, exact_only=True) is None
    assert match_choice("Skp", names) == "skip"


def test_two_equally_good_matches_are_not_guessed() -> None:
    twins = [{"id": "a", "label": "Nord"}, {"id": "b", "label": "Nordvest"}]
    assert match_choice("Nord", twins) == "a"  # exact wins
    assert match_choice("nor", twins) is None  # a prefix of both


@given(st.text(max_size=200))
def test_parsers_never_raise(text: str) -> None:
    normalise(text)
    closest(text, ["settings", "mydata", "forget"])
    command = parse_command(text)
    if command is not None:
        assert 1 <= len(command.name) <= 32
        assert command.name == command.name.lower()
    name = clean_name(text)
    if name is not None:
        assert name == name.strip()
        assert "\x00" not in name
    hours = parse_quiet_hours(text)
    if hours is not None:
        start, end = hours
        assert 0 <= start < 1440
        assert 0 <= end < 1440
        assert start != end


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("22-7", (1320, 420)),
        ("kl. 22.30 til 6", (1350, 360)),
        ("21:15–08:45", (1275, 525)),
        ("10 to 14", (600, 840)),
        ("24-7", None),
        ("7-7", None),
        ("22", None),
        ("", None),
    ],
)
def test_quiet_hours_are_read_from_text(text: str, expected: tuple[int, int] | None) -> None:
    assert parse_quiet_hours(text) == expected


def test_commands_are_parsed() -> None:
    assert parse_command("/start ev_12") == parse_command("/START ev_12")
    assert parse_command("!hjælp") is not None
    assert parse_command("/settings@TaelMigMedBot language") is not None
    assert parse_command("/") is None
    assert parse_command("hello /start") is None


def test_the_name_limit_is_a_sensible_one() -> None:
    assert 20 <= MAX_NAME_LENGTH <= 80
    assert clean_name("  Anna \n  Bee\u200b ") == "Anna Bee"
    assert clean_name("\x00\x07") is None

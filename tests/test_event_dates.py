"""Typed dates and quiet hours, as pure functions with a fixed 'now'."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from conversations.core.dates import next_allowed_time, parse_end, parse_when
from conversations.tasks.rules.task_lines import parse_task
from storage.models import Person

TZ = "Europe/Copenhagen"
NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)  # Monday 1 June 2026, 10:00 local


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=None)


@pytest.mark.parametrize(
    ("typed", "start", "end"),
    [
        ("lørdag kl 10", "2026-06-06T08:00", None),
        ("lørdag kl. 10 til 13", "2026-06-06T08:00", "2026-06-06T11:00"),
        ("5/12 10-13", "2026-12-05T09:00", "2026-12-05T12:00"),  # winter time
        ("5/12 kl 10-13", "2026-12-05T09:00", "2026-12-05T12:00"),
        ("tomorrow 18:00", "2026-06-02T16:00", None),
        ("i morgen kl 18", "2026-06-02T16:00", None),
        ("i morgen 18.30", "2026-06-02T16:30", None),
        ("næste fredag 14", "2026-06-05T12:00", None),
        ("saturday 10:00", "2026-06-06T08:00", None),
        ("5. december 10:00", "2026-12-05T09:00", None),
        ("fredag kl 22-2", "2026-06-05T20:00", "2026-06-06T00:00"),
    ],
)
def test_dates_typed_the_way_people_type(typed: str, start: str, end: str | None) -> None:
    parsed = parse_when(typed, NOW, TZ)
    assert parsed is not None
    assert parsed.start == datetime.fromisoformat(start).replace(tzinfo=UTC)
    expected_end = datetime.fromisoformat(end).replace(tzinfo=UTC) if end else None
    assert parsed.end == expected_end


@pytest.mark.parametrize("typed", ["", "hej", "lørdag", "5/12", "kl"])
def test_no_date_and_time_is_no_answer(typed: str) -> None:
    assert parse_when(typed, NOW, TZ) is None


def test_an_explicit_past_date_stays_in_the_past() -> None:
    parsed = parse_when("31/5/2026 10:00", NOW, TZ)
    assert parsed is not None
    assert parsed.start < NOW


def test_end_as_a_bare_time_is_on_the_start_day() -> None:
    start = datetime(2026, 6, 6, 8, 0, tzinfo=UTC)
    assert parse_end("13", start, NOW, TZ) == datetime(2026, 6, 6, 11, 0, tzinfo=UTC)
    assert parse_end("kl 15:30", start, NOW, TZ) == datetime(2026, 6, 6, 13, 30, tzinfo=UTC)
    assert parse_end("bananer", start, NOW, TZ) is None


def quiet(start: int | None, end: int | None) -> Person:
    return Person(quiet_start_minute=start, quiet_end_minute=end)


@pytest.mark.parametrize(
    ("window", "moment", "expected"),
    [
        ((None, None), "2026-06-01T21:00", "2026-06-01T21:00"),
        ((22 * 60, 8 * 60), "2026-06-01T19:59", "2026-06-01T19:59"),  # 21:59 local
        ((22 * 60, 8 * 60), "2026-06-01T20:00", "2026-06-02T06:00"),  # 22:00 local
        ((22 * 60, 8 * 60), "2026-06-02T03:00", "2026-06-02T06:00"),  # 05:00 local
        ((22 * 60, 8 * 60), "2026-06-02T06:00", "2026-06-02T06:00"),  # 08:00 local
        ((13 * 60, 15 * 60), "2026-06-01T11:30", "2026-06-01T13:00"),  # a nap
        ((22 * 60, 8 * 60), "2026-12-01T22:00", "2026-12-02T07:00"),  # winter time
    ],
)
def test_next_allowed_time(
    window: tuple[int | None, int | None], moment: str, expected: str
) -> None:
    person = quiet(*window)
    at = datetime.fromisoformat(moment).replace(tzinfo=UTC)
    assert next_allowed_time(person, at, TZ) == datetime.fromisoformat(expected).replace(tzinfo=UTC)


def test_tasks_typed_with_hands() -> None:
    assert parse_task("medbring suppe x3") == ("medbring suppe", 3)
    assert parse_task("- lift fra stationen ×2") == ("lift fra stationen", 2)
    assert parse_task("tænde bål") == ("tænde bål", 1)
    assert parse_task("  ") is None

"""Dates as people write them, in Danish and English, each read back as a full date.

The frozen 'now' is Monday 1 June 2026, 10:00 in Copenhagen; the echo is the one the event
flow shows ("So: lørdag 6. juni 2026 kl. 10:00. Is that right?").
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.i18n import Catalogs
from conversations.core.dates import parse_when
from conversations.events.rules.wording import format_span
from tests.fakes import Chat

TZ = "Europe/Copenhagen"
NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
DANISH = Catalogs().get("da")

SATURDAY_10 = "lørdag 6. juni 2026 kl. 10:00"
FRIDAY_18 = "fredag 5. juni 2026 kl. 18:00"
DECEMBER_5_10 = "lørdag 5. december 2026 kl. 10:00"

PHRASINGS = [
    ("lørdag kl 10", SATURDAY_10),
    ("lørdag kl. 10", SATURDAY_10),
    ("på lørdag kl. 10", SATURDAY_10),
    ("På lørdag kl 10", SATURDAY_10),
    ("på lørdag klokken 10", SATURDAY_10),
    ("lørdag klokken 10", SATURDAY_10),
    ("kl 10 på lørdag", SATURDAY_10),
    ("kl. 10 lørdag", SATURDAY_10),
    ("lørdag 10:00", SATURDAY_10),
    ("på fredag kl 18", FRIDAY_18),
    ("fredag kl. 18", FRIDAY_18),
    ("næste fredag kl 18", FRIDAY_18),
    ("næste fredag 18", FRIDAY_18),
    ("fredag kl. 18.30", "fredag 5. juni 2026 kl. 18:30"),
    ("fredag 18.30", "fredag 5. juni 2026 kl. 18:30"),
    ("lørdag den 5. december kl. 10", DECEMBER_5_10),
    ("den 5. december kl. 10", DECEMBER_5_10),
    ("5. december 10:00", DECEMBER_5_10),
    ("5/12 kl 10", DECEMBER_5_10),
    ("5.12 kl 10", DECEMBER_5_10),
    ("d. 5/12 kl 10-13", DECEMBER_5_10 + "–13:00"),
    ("5/12 10-13", DECEMBER_5_10 + "–13:00"),
    ("d. 5/12 kl. 10 til 13", DECEMBER_5_10 + "–13:00"),
    ("i overmorgen kl 10", "onsdag 3. juni 2026 kl. 10:00"),
    ("overmorgen kl. 10", "onsdag 3. juni 2026 kl. 10:00"),
    ("i morgen kl 14", "tirsdag 2. juni 2026 kl. 14:00"),
    ("i morgen 14:30", "tirsdag 2. juni 2026 kl. 14:30"),
    ("om en uge kl 10", "mandag 8. juni 2026 kl. 10:00"),
    ("om 2 dage kl 10", "onsdag 3. juni 2026 kl. 10:00"),
    ("tirsdag i næste uge kl 10", "tirsdag 9. juni 2026 kl. 10:00"),
    ("mandag kl 10", "mandag 8. juni 2026 kl. 10:00"),
    ("onsdag kl 19:00", "onsdag 3. juni 2026 kl. 19:00"),
    ("søndag d. 7. juni kl 9", "søndag 7. juni 2026 kl. 09:00"),
    ("søndag den 7/6 kl 9", "søndag 7. juni 2026 kl. 09:00"),
    ("7/6 kl 9", "søndag 7. juni 2026 kl. 09:00"),
    ("lørdag d. 6. juni 2026 kl 10", SATURDAY_10),
    ("6. juni kl 10-12", SATURDAY_10 + "–12:00"),
    ("lørdag fra kl 10 til 13", SATURDAY_10 + "–13:00"),
    ("lørdag kl 10-13", SATURDAY_10 + "–13:00"),
    ("lørdag 10-13", SATURDAY_10 + "–13:00"),
    ("tomorrow 18:00", "tirsdag 2. juni 2026 kl. 18:00"),
    ("tomorrow at 6pm", "tirsdag 2. juni 2026 kl. 18:00"),
    ("on saturday at 10", SATURDAY_10),
    ("saturday 10am", SATURDAY_10),
    ("saturday 10-13", SATURDAY_10 + "–13:00"),
    ("next friday at 18:00", FRIDAY_18),
    ("next friday 6pm", FRIDAY_18),
    ("5 december at 10", DECEMBER_5_10),
    ("december 5 at 10:00", DECEMBER_5_10),
    ("the 5th of december at 10", DECEMBER_5_10),
    ("in a week at 10", "mandag 8. juni 2026 kl. 10:00"),
    ("in 2 days at 10:00", "onsdag 3. juni 2026 kl. 10:00"),
    ("day after tomorrow at 10", "onsdag 3. juni 2026 kl. 10:00"),
    ("saturday from 10 to 13", SATURDAY_10 + "–13:00"),
]


def test_the_table_is_long_enough() -> None:
    assert len(PHRASINGS) >= 40


@pytest.mark.parametrize(("typed", "echo"), PHRASINGS)
def test_each_phrasing_reads_back_as_a_full_date(typed: str, echo: str) -> None:
    parsed = parse_when(typed, NOW, TZ)
    assert parsed is not None, typed
    assert format_span(DANISH, parsed.start, parsed.end, TZ) == echo


@pytest.mark.parametrize("typed", ["om en uge", "på lørdag", "den 5.", "kl", "på"])
def test_a_date_without_a_time_is_no_answer(typed: str) -> None:
    assert parse_when(typed, NOW, TZ) is None


async def start_event(chat: Chat) -> None:
    await chat.onboard("kim", name="Kim")
    await chat.say("kim", "/newevent")
    await chat.say("kim", "Skovtur")


async def test_pa_lordag_is_taken_and_the_start_read_back_at_once(chat: Chat) -> None:
    await start_event(chat)
    replies = await chat.say("kim", "på lørdag kl. 10")
    end_question = replies[-1].text
    assert SATURDAY_10 in end_question
    assert "kunne ikke" not in end_question.lower()


async def test_a_range_gives_the_end_and_is_confirmed_in_full(chat: Chat) -> None:
    await start_event(chat)
    replies = await chat.say("kim", "d. 5/12 kl 10-13")
    assert DECEMBER_5_10 + "–13:00" in replies[-1].text
    assert [c.id for c in replies[-1].choices] == ["again"]  # the place question, or change it

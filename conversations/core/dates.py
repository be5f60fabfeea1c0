"""Dates and times typed the way people type them: "lørdag kl 10", "5/12 10-13", "tomorrow 18:00".

`dateparser` (Danish and English) does the reading; a little normalising first turns the
Danish "kl 10" and a bare trailing hour into "10:00", and a range "10-13" gives an end.
Everything is read in the configured local time zone and returned in UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import dateparser

from storage.models import Person

_TIME = r"\d{1,2}(?:[:.]\d{2})?"
_KL = re.compile(r"\bkl\.?\s*(\d{1,2})(?:[:.](\d{2}))?\b", re.IGNORECASE)
_DOT_TIME = re.compile(r"\b(\d{1,2})\.(\d{2})\b(?![./]\d)")
_RANGE = re.compile(
    rf"^(?P<head>.*?)(?:kl\.?\s*)?(?P<a>{_TIME})\s*(?:-|–|—|til|to)\s*(?:kl\.?\s*)?(?P<b>{_TIME})\s*$",
    re.IGNORECASE,
)
_BARE_HOUR = re.compile(r"(?<=[^\W\d]\s)(\d{1,2})\s*$")
_NEXT_WEEKDAY = re.compile(
    r"\bn(?:æ|ae)ste\s+(?=(?:man|tirs|ons|tors|fre|lør|lor|søn|son)dag)", re.IGNORECASE
)
_HAS_TIME = re.compile(r"\d{1,2}:\d{2}|\d\s*(?:am|pm)\b|\b(?:in|om)\s+\d+\s*\w*", re.IGNORECASE)
# Little words people put around a date ("på lørdag", "den 5.", "d. 5/12", "fra kl 10 til 13",
# "on saturday"): they carry nothing the reader needs, and they stop dateparser.
_FILLER = re.compile(r"(?<!\w)(?:på|paa|den|d\.|fra|on|from|the)(?!\w)", re.IGNORECASE)
_KLOKKEN = re.compile(r"\bklokken\b", re.IGNORECASE)
# "5.12 kl 10" is a date when a time follows; "18.30" alone stays a time.
_DOT_DATE = re.compile(r"\b(\d{1,2})\.(\d{1,2})(?:\.(\d{2,4}))?(?=\s+(?:kl|\d))", re.IGNORECASE)
_WEEKDAYS = {
    "man": 0,
    "tirs": 1,
    "ons": 2,
    "tors": 3,
    "fre": 4,
    "lør": 5,
    "lor": 5,
    "søn": 6,
    "son": 6,
}
_DAY_AFTER_TOMORROW = re.compile(r"\b(?:i\s+)?overmorgen\b|\bday after tomorrow\b", re.IGNORECASE)
_NEXT_WEEK_DAY = re.compile(
    r"\b(man|tirs|ons|tors|fre|lør|lor|søn|son)dag\s+(?:i\s+)?n(?:æ|ae)ste\s+uge\b", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class ParsedWhen:
    start: datetime
    end: datetime | None


def _clock_time(text: str) -> time | None:
    hour, _, minute = text.replace(".", ":").partition(":")
    h, m = int(hour), int(minute or 0)
    if not (0 <= h <= 24 and 0 <= m < 60):
        return None
    return time(0, m) if h == 24 else time(h, m)


def _plain_words(text: str, today: date) -> str:
    """The little words left out, and the days dateparser does not know named as dates."""

    def next_week(match: re.Match[str]) -> str:
        weekday = _WEEKDAYS[match.group(1).lower()]
        monday = today + timedelta(days=7 - today.weekday())
        return f"{monday + timedelta(days=weekday):%d/%m/%Y}"

    text = _KLOKKEN.sub("kl", text)
    text = _DAY_AFTER_TOMORROW.sub(f"{today + timedelta(days=2):%d/%m/%Y}", text)
    text = _NEXT_WEEK_DAY.sub(next_week, text)
    text = _DOT_DATE.sub(
        lambda m: f"{m.group(1)}/{m.group(2)}" + (f"/{m.group(3)}" if m.group(3) else ""), text
    )
    text = _FILLER.sub(" ", text)
    return " ".join(text.split())


def _normalise(text: str) -> str:
    text = " ".join(text.strip().split())
    text = _NEXT_WEEKDAY.sub("", text)
    text = _KL.sub(lambda m: f"{int(m.group(1)):02d}:{m.group(2) or '00'}", text)
    text = _DOT_TIME.sub(lambda m: f"{int(m.group(1)):02d}:{m.group(2)}", text)
    return _BARE_HOUR.sub(lambda m: f"{int(m.group(1)):02d}:00", text)


# Dates are read in the writer's language first, then in Danish and English (the examples
# the texts give, and what people here mix in).
_ALWAYS_READ = ("da", "en")


def _languages(language: str) -> list[str]:
    return list(dict.fromkeys((language, *_ALWAYS_READ)))


def _parse_one(text: str, now_local: datetime, language: str) -> datetime | None:
    settings = {
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": now_local.replace(tzinfo=None),
        "DATE_ORDER": "DMY",
        "RETURN_AS_TIMEZONE_AWARE": False,
    }
    languages = _languages(language)
    try:
        parsed: datetime | None = dateparser.parse(text, languages=languages, settings=settings)
    except ValueError:  # a language dateparser does not know: read as Danish and English
        if languages == list(_ALWAYS_READ):
            return None
        return _parse_one(text, now_local, _ALWAYS_READ[0])
    except OverflowError:
        return None
    if parsed is None or not _HAS_TIME.search(text):
        return None
    return parsed.replace(tzinfo=now_local.tzinfo)


def parse_when(
    text: str, now: datetime, timezone: str, language: str = _ALWAYS_READ[0]
) -> ParsedWhen | None:
    """A start (and an end, for "10-13") in UTC, or None when no date and time was found;
    read in `language` (the writer's), Danish and English."""
    zone = ZoneInfo(timezone)
    now_local = now.astimezone(zone)
    text = _plain_words(text, now_local.date())
    range_match = _RANGE.match(text)
    if range_match is not None:
        start_time = _clock_time(range_match.group("a"))
        end_time = _clock_time(range_match.group("b"))
        head = range_match.group("head").strip()
        if start_time is not None and end_time is not None:
            start = _parse_one(
                _normalise(f"{head} {start_time:%H:%M}".strip()), now_local, language
            )
            if start is not None:
                end_local = datetime.combine(start.date(), end_time, tzinfo=zone)
                if end_local <= start:
                    end_local += timedelta(days=1)
                return ParsedWhen(start.astimezone(UTC), end_local.astimezone(UTC))
    start = _parse_one(_normalise(text), now_local, language)
    if start is None:
        return None
    return ParsedWhen(start.astimezone(UTC), None)


def parse_date(
    text: str, now: datetime, timezone: str, language: str = _ALWAYS_READ[0]
) -> date | None:
    """A day without a time ("20/12", "11. juli"), the next such day from now, local; read
    in `language` (the writer's), Danish and English."""
    now_local = now.astimezone(ZoneInfo(timezone))
    settings = {
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": now_local.replace(tzinfo=None),
        "DATE_ORDER": "DMY",
        "RETURN_AS_TIMEZONE_AWARE": False,
    }
    try:
        parsed = dateparser.parse(text, languages=_languages(language), settings=settings)
    except ValueError:  # a language dateparser does not know
        return parse_date(text, now, timezone) if language != _ALWAYS_READ[0] else None
    except OverflowError:
        return None
    return parsed.date() if parsed is not None else None


def parse_end(
    text: str, start: datetime, now: datetime, timezone: str, language: str = _ALWAYS_READ[0]
) -> datetime | None:
    """An end: a bare time ("13", "kl 13:30") on the start's day, or a full date and time."""
    zone = ZoneInfo(timezone)
    bare = re.fullmatch(rf"\s*(?:kl\.?\s*)?({_TIME})\s*", text, re.IGNORECASE)
    if bare is not None:
        clock = _clock_time(bare.group(1))
        if clock is None:
            return None
        start_local = start.astimezone(zone)
        end_local = datetime.combine(start_local.date(), clock, tzinfo=zone)
        if end_local <= start_local:
            end_local += timedelta(days=1)
        return end_local.astimezone(UTC)
    parsed = parse_when(text, now, timezone, language)
    return parsed.start if parsed is not None else None


def _local(day: date, minute: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone)


def next_allowed_time(person: Person, moment: datetime, timezone: str) -> datetime:
    """`moment`, or the end of the person's quiet hours if `moment` falls inside them (UTC)."""
    start, end = person.quiet_start_minute, person.quiet_end_minute
    if start is None or end is None or start == end:
        return moment
    zone = ZoneInfo(timezone)
    local = moment.astimezone(zone)
    minute = local.hour * 60 + local.minute
    inside = start <= minute < end if start < end else (minute >= start or minute < end)
    if not inside:
        return moment
    candidate = _local(local.date(), end, zone)
    if candidate <= local:
        candidate = _local(local.date() + timedelta(days=1), end, zone)
    return candidate.astimezone(UTC)

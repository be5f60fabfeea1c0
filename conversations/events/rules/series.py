"""A series: the same event again weekly, every two weeks or monthly, until a date or a
number of times. Every meeting is its own event, created at once and sharing a `series`
key (so the report compares them); each one's invitations go out a lead time before it,
so people get one invitation at a time, not the whole season at once.
"""

from __future__ import annotations

import calendar
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

MAX_MEETINGS = 26  # half a year of weekly walks; more is a mistake more often than a plan
DEFAULT_INVITE_LEAD = timedelta(days=7)


class Repeat(StrEnum):
    ONCE = "once"
    WEEKLY = "weekly"
    FORTNIGHTLY = "fortnightly"
    MONTHLY = "monthly"


@dataclass(frozen=True, slots=True)
class Meeting:
    start: datetime
    end: datetime | None


def _add_months(day: date, months: int) -> date:
    """The same day of the month `months` later, or that month's last day (31 Jan → 28 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _nth(local_start: datetime, repeat: Repeat, n: int) -> datetime:
    if repeat == Repeat.WEEKLY:
        return local_start + timedelta(weeks=n)
    if repeat == Repeat.FORTNIGHTLY:
        return local_start + timedelta(weeks=2 * n)
    if repeat == Repeat.MONTHLY:
        return datetime.combine(
            _add_months(local_start.date(), n), local_start.timetz().replace(tzinfo=None)
        ).replace(tzinfo=local_start.tzinfo)
    raise ValueError(f"{repeat} does not repeat")


def meetings(
    start: datetime,
    end: datetime | None,
    repeat: Repeat,
    timezone: str,
    *,
    times: int | None = None,
    until: date | None = None,
) -> list[Meeting]:
    """The meetings of a series, the first at `start`; at the same local time of day
    (summer time or not), `times` of them or every one on or before `until` (local date),
    never more than `MAX_MEETINGS`."""
    if repeat == Repeat.ONCE:
        return [Meeting(start, end)]
    zone = ZoneInfo(timezone)
    local_start = start.astimezone(zone).replace(tzinfo=None)
    length = end - start if end is not None else None
    wanted = min(times or MAX_MEETINGS, MAX_MEETINGS)
    found: list[Meeting] = []
    for n in range(wanted):
        local = _nth(local_start, repeat, n)
        if until is not None and local.date() > until:
            break
        moment = local.replace(tzinfo=zone).astimezone(start.tzinfo)
        found.append(Meeting(moment, moment + length if length is not None else None))
    return found


def invite_at(meeting_start: datetime, now: datetime, lead: timedelta) -> datetime | None:
    """When a meeting's invitations go out: `lead` before it, or now (None) if that has
    passed already."""
    moment = meeting_start - lead
    return moment if moment > now else None


def new_series_key() -> str:
    return "s" + secrets.token_urlsafe(9)

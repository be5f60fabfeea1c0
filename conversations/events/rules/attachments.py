"""Files that go with an event: the calendar entry and the poster's QR code."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import segno
from icalendar import Calendar
from icalendar import Event as CalendarEvent

from conversations.core.messages import Attachment
from storage.models import (
    Event,
)


def ics_attachment(event: Event) -> Attachment:
    calendar = Calendar()
    calendar.add("prodid", "-//Tael mig med//taelmigmed//DA")
    calendar.add("version", "2.0")
    entry = CalendarEvent()
    entry.add("uid", f"event-{event.id}-{event.link_code}@taelmigmed")
    entry.add("summary", event.title)
    entry.add("dtstart", event.starts_at)
    entry.add("dtend", event.ends_at or event.starts_at + timedelta(hours=2))
    entry.add("dtstamp", event.updated_at)
    entry.add("sequence", event.revision)  # a calendar replaces its entry by a later one
    if event.invitation:
        entry.add("description", event.invitation)
    if event.place:
        entry.add("location", event.place)
    if event.latitude is not None and event.longitude is not None:
        entry.add("geo", (event.latitude, event.longitude))
    calendar.add_component(entry)
    # letters of every script stay: an Arabic or Ukrainian title names its file too
    filename = re.sub(r"[\W_]+", "-", event.title).strip("-")[:40] or "event"
    return Attachment(f"{filename}.ics", calendar.to_ical(), "text/calendar")


def qr_attachment(url: str) -> Attachment:
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=10, border=4)
    return Attachment("qr.png", buffer.getvalue(), "image/png")

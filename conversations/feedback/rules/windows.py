"""When feedback and photos are open for an event, and what its journey's steps are."""

from __future__ import annotations

from datetime import datetime, timedelta

from conversations.feedback.rules.snaps import FeedbackOptions
from storage.models import (
    Event,
    EventStatus,
)

FEEDBACK_FLOW = "feedback"  # the flow that answers the "how was it?" buttons
DEFAULT_LENGTH = timedelta(hours=2)  # an event without an end is taken to last two hours


def event_end(event: Event) -> datetime:
    return event.ends_at or event.starts_at + DEFAULT_LENGTH


def feedback_open(event: Event, now: datetime, options: FeedbackOptions) -> bool:
    """Over, and not longer ago than the feedback window."""
    end = event_end(event)
    return event.status == EventStatus.PUBLISHED and end <= now < end + options.window


def snaps_open(event: Event, now: datetime, options: FeedbackOptions) -> bool:
    """The snap-log takes photos from the event's start until a few days after its end."""
    return (
        event.status == EventStatus.PUBLISHED
        and event.starts_at <= now < event_end(event) + options.snap_days
    )


def steps_of(event: Event) -> list[str]:
    return [str(step) for step in event.journey_steps]


def link_payload(event: Event) -> str:
    return f"fb_{event.link_code}"

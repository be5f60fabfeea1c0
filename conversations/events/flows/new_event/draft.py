"""The event being written: its steps in the order they are asked, and what it holds so far.

`/newevent` asks every step; `/initiative` asks some of them (see `onward`).
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from conversations.core.flow import Answer, FlowContext, FlowData, Transition
from conversations.core.i18n import N_
from conversations.core.messages import Choice, Media, MediaKind, OutMessage
from conversations.core.words import SKIP_WORDS
from conversations.events.rules.journey import DEFAULT_JOURNEY
from conversations.events.rules.reminders import DEFAULT_REMINDERS
from conversations.events.rules.wording import format_span
from storage.models import Snap


class Step(StrEnum):
    TITLE = "title"
    TEXT = "text"
    WHEN = "when"
    END = "end"
    CONFIRM_WHEN = "confirm_when"
    PLACE = "place"
    PIN = "pin"
    CAPACITY = "capacity"
    USUAL = "usual"
    GUESTS = "guests"
    JOURNEY = "journey"
    TASKS = "tasks"
    REMINDERS = "reminders"
    ACCESS = "access"
    PRACTICAL = "practical"
    AUDIENCE = "audience"
    TOPICS = "topics"
    EARLIER = "earlier"
    SEND = "send"
    SEND_AT = "send_at"
    PHOTO = "photo"  # reached from the preview only
    PHOTO_TEXT = "photo_text"
    PREVIEW = "preview"


ORDER = tuple(Step)
# where a shared map pin is an answer: the place question, and the one after it (the pin
# shared just after the name was typed)
LOCATION_STEPS = (Step.PLACE, Step.PIN, Step.CAPACITY)


class DraftPhoto(BaseModel):
    """The invitation's photo as the platform it came on refers to it; its file is fetched
    once the event is published (like a journey snap), never while the draft waits."""

    model_config = ConfigDict(extra="ignore")

    platform: str
    file_ref: str
    mime_type: str | None = None
    size: int | None = None

    def media(self) -> Media:
        return Media(MediaKind.PHOTO, self.file_ref, self.mime_type, self.size)

    @classmethod
    def of_snap(cls, snap: Snap) -> DraftPhoto:
        """An event's photo again, for a copy (fetched again for it, as its own)."""
        return cls(
            platform=snap.platform, file_ref=snap.file_ref, mime_type=snap.mime_type, size=snap.size
        )


class NewEventData(FlowData):
    """The answers so far, kept with the conversation until the event is published.

    `/initiative` keeps the same; only an initiative can be an `idea` (no date yet).
    """

    title: str = ""
    text: str = ""
    start: datetime | None = None
    end: datetime | None = None
    place: str = ""
    lat: float | None = None
    lon: float | None = None
    capacity: int | None = None
    guests: bool = False
    journey: list[str] = Field(default_factory=lambda: list(DEFAULT_JOURNEY))
    tasks: list[tuple[str, int]] = Field(default_factory=list)
    reminders: list[int] = Field(default_factory=lambda: list(DEFAULT_REMINDERS))
    access: list[str] = Field(default_factory=list)  # keys of ACCESS_FEATURES
    practical: str = ""  # getting there, what to bring
    # the interests and areas tapped so far; `audience` once the question is answered
    topic_ids: list[int] = Field(default_factory=list)
    audience: dict[str, Any] | None = None  # stored on the event as it is (see audiences)
    send_at: datetime | None = None
    idea: bool = False
    photo: DraftPhoto | None = None
    photo_text: str = ""  # the photo's text alternative

    @property
    def starts(self) -> datetime:
        """The start, for the questions after it (which are only reached once it is given)."""
        assert self.start is not None
        return self.start

    def when(self, ctx: FlowContext) -> str:
        return format_span(ctx.translator, self.starts, self.end, ctx.config.timezone)


def onward(transition: Transition, asked: Container[str]) -> Transition:
    """Each question names the step after it in the full event (`ORDER`); a variant that
    does not ask that step goes on to the first later one it does ask."""
    if not isinstance(transition.state, str):
        return transition  # it stays, or it ends
    for step in ORDER[ORDER.index(Step(transition.state)) :]:
        if step in asked:
            return replace(transition, state=step)
    raise ValueError(f"no question asked at or after {transition.state!r}")


def skip_choice(ctx: FlowContext) -> Choice:
    return ctx.choice("skip", N_("Skip"), "⏭", *SKIP_WORDS)


def squeezed(answer: Answer) -> str:
    """The answer's words with single spaces (a title, a time, a place)."""
    return " ".join((answer.text or "").split())


def retry(ctx: FlowContext, data: NewEventData, text: str) -> Transition:
    """The same question again, after a word on what was wrong (`text`, marked with `N_`)."""
    return Transition.stay(data, OutMessage(ctx._(text)))

"""What `/copy` keeps: the new event as `/newevent` keeps it, the event it was made from,
and how it repeats; and which of `/newevent`'s steps it can go back to."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from conversations.core.flow import FlowContext
from conversations.events.flows.new_event.draft import DraftPhoto, NewEventData, Step
from conversations.events.flows.pick_event import ChosenEventData
from conversations.events.rules.photos import invitation_photo
from conversations.events.rules.series import Meeting, Repeat, meetings
from storage.models import Event

REPEAT = "repeat"
REPEAT_END = "repeat_end"
CHANGE = "change"

# The steps of `/newevent` a copy can change, each with its follow-ups: after any of them
# the copy goes back to its preview.
GROUPS: tuple[frozenset[str], ...] = (
    frozenset({Step.TITLE}),
    frozenset({Step.TEXT}),
    frozenset({Step.WHEN, Step.END, Step.CONFIRM_WHEN}),
    frozenset({Step.PLACE, Step.PIN}),
    frozenset({Step.CAPACITY, Step.GUESTS}),
    frozenset({Step.TASKS}),
    frozenset({Step.AUDIENCE, Step.TOPICS, Step.EARLIER}),
    frozenset({Step.PHOTO, Step.PHOTO_TEXT}),
)


# what the "change something" menu leads to: the first step of each group, or back
CHANGEABLE = frozenset(
    {Step.PREVIEW, REPEAT, Step.TITLE, Step.TEXT, Step.WHEN, Step.PLACE, Step.CAPACITY}
    | {Step.TASKS, Step.AUDIENCE, Step.PHOTO}
)


def group_of(state: str) -> frozenset[str] | None:
    return next((group for group in GROUPS if state in group), None)


class CopyEventData(NewEventData, ChosenEventData):
    """The new event (as `/newevent` keeps it) made from `event_id`, and how it repeats."""

    repeat: Repeat = Repeat.ONCE
    repeat_asked: bool = False
    times: int | None = None
    until: date | None = None
    from_ideas: list[int] = Field(default_factory=list)  # "next time" ideas it came from

    @classmethod
    async def of_event(cls, ctx: FlowContext, event: Event) -> CopyEventData:
        tasks = [
            (t.title, t.hands) for t in await ctx.uow.events.tasks(event.id) if not t.closed_at
        ]
        audience = dict(event.audience or {})
        photo = await invitation_photo(ctx.uow, event.id)
        return cls(
            photo=None if photo is None else DraftPhoto.of_snap(photo),
            photo_text=(photo.caption or "") if photo is not None else "",
            event_id=event.id,
            title=event.title,
            text=event.invitation,
            place=event.place,
            lat=event.latitude,
            lon=event.longitude,
            capacity=event.capacity,
            guests=event.guests_allowed,
            journey=list(event.journey_steps),
            tasks=tasks,
            reminders=[int(m) for m in event.reminder_offsets],
            topic_ids=[int(t) for t in audience.get("topic_ids", [])],
            audience=audience,
        )

    def meetings(self, timezone: str) -> list[Meeting]:
        return meetings(
            self.starts, self.end, self.repeat, timezone, times=self.times, until=self.until
        )

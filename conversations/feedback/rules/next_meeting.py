"""From the report's "next time" ideas to the next meeting: the ideas a coordinator can
turn into a new event in one tap, and a word to the people who gave an idea when it
happens (in the spirit of prototyping the next meeting together)."""

from __future__ import annotations

from collections.abc import Sequence

from conversations.core.i18n import N_, Translator
from conversations.core.services import Services
from conversations.events.rules.notifier import Notifier
from conversations.events.rules.wording import event_when, link_payload
from storage.models import Event, FeedbackIdea, IdeaKind

MAX_IDEAS = 6


async def next_time_ideas(services: Services, event: Event) -> list[FeedbackIdea]:
    ideas = await services.uow.feedback.event_ideas(event.id)
    return [idea for idea, _, _ in ideas if idea.kind == IdeaKind.NEXT_TIME][:MAX_IDEAS]


async def idea_of(services: Services, event: Event, idea_id: int | None) -> FeedbackIdea | None:
    """The "next time" idea, if it is one given about `event` (a tap proves nothing)."""
    if idea_id is None:
        return None
    found = await services.uow.feedback.ideas_by_id([idea_id])
    return next((i for i in found if i.event_id == event.id and i.kind == IdeaKind.NEXT_TIME), None)


async def tell_idea_givers(
    services: Services, source: Event, idea_ids: Sequence[int], event: Event
) -> int:
    """Those whose idea (about `source`) became `event` hear that it happens."""
    ideas = [
        i for i in await services.uow.feedback.ideas_by_id(idea_ids) if i.event_id == source.id
    ]
    people = sorted({i.person_id for i in ideas} - {event.created_by_id or 0})

    def render(tr: Translator) -> str:
        return tr.gettext(
            N_(
                "Your idea after {source} is happening: {title}, {when}. 🌱 "
                "Open it with /start {payload}"
            )
        ).format(
            source=source.title,
            title=event.title,
            when=event_when(tr, event, services.timezone),
            payload=link_payload(event),
        )

    return await Notifier(services).tell(
        people,
        render,
        key=lambda person: f"idea:{event.id}:{person.id}",
        kind="idea",
        batch=f"idea:{event.id}",
        event=event,
    )

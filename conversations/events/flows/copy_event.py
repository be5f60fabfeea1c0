"""`/copy`: "make a new one from this". One of my events again, with the same title, text,
place, capacity, journey, tasks, reminders and audience; only the new time is asked, then
whether it repeats (a series), and anything can be changed before publishing.

It asks `/newevent`'s own questions (`new_event/`), so the copy and a new event never
differ in what they accept; after a changed answer it comes back to its preview.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from typing import Any

from conversations.core.choice_ids import EVENT, IDEA
from conversations.core.commands import CommandSpec
from conversations.core.flow import Answer, FlowContext, Transition
from conversations.core.i18n import N_
from conversations.core.messages import Choice, OutMessage
from conversations.core.questions import Question, by_state
from conversations.events.flows.copy_draft import REPEAT, CopyEventData, group_of
from conversations.events.flows.copy_questions import (
    ChangeQuestion,
    CopyPreview,
    CopyTasks,
    RepeatEndQuestion,
    RepeatQuestion,
)
from conversations.events.flows.new_event.audience_and_sending import (
    AudienceQuestion,
    EarlierQuestion,
    TopicsQuestion,
)
from conversations.events.flows.new_event.draft import LOCATION_STEPS, Step
from conversations.events.flows.new_event.photo import PhotoQuestion, PhotoTextQuestion
from conversations.events.flows.new_event.what_when_where import (
    ConfirmWhenQuestion,
    EndQuestion,
    PinQuestion,
    PlaceQuestion,
    TextQuestion,
    TitleQuestion,
    WhenQuestion,
)
from conversations.events.flows.new_event.who_may_come import CapacityQuestion, GuestsQuestion
from conversations.events.flows.pick_event import (
    CHOOSE,
    ManageEventFlow,
    managed_event,
    only_coordinators,
    picked_event,
)
from conversations.events.rules.series import DEFAULT_INVITE_LEAD
from conversations.feedback.rules.next_meeting import idea_of
from conversations.feedback.rules.snaps import FeedbackOptions
from storage.models import Event, Prompt, Role

IDEA_STATE = "idea"  # the report's "make it the next meeting" (feedback/flows/read_report)

COPYABLE = 9  # the newest of my events, past ones too: last week's walk is the usual source


async def copyable(ctx: FlowContext) -> list[Event]:
    owner = None if ctx.is_admin else ctx.person.id
    return [e for e in await ctx.uow.events.managed_by(owner) if not e.idea][:COPYABLE]


def no_events(ctx: FlowContext) -> Transition:
    return Transition.end(
        OutMessage(ctx._(N_("You have no events to copy yet. /newevent creates one.")))
    )


class ChooseEventToCopy(Question[CopyEventData]):
    state = CHOOSE

    async def ask(self, ctx: FlowContext, data: CopyEventData) -> OutMessage:
        events = await copyable(ctx)
        if not events:
            return OutMessage(ctx._(N_("You have no events to copy yet. /newevent creates one.")))
        choices = tuple(
            Choice(EVENT.of(e.id), f"{e.title} · {ctx.when(e.starts_at)}") for e in events
        )
        return OutMessage(ctx._(N_("Which event should I make a new one from?")), choices=choices)

    async def take(self, ctx: FlowContext, data: CopyEventData, answer: Answer) -> Transition:
        event = await picked_event(ctx, answer)
        if event is None:
            return Transition.stay(data)
        copied = await CopyEventData.of_event(ctx, event)
        intro = ctx._(
            N_(
                "A new one from {title}: the same text, place, tasks, reminders and invited. "
                "Only the time is new."
            )
        ).format(title=event.title)
        return Transition.go(Step.WHEN, copied, OutMessage(intro))


class CopyEvent(ManageEventFlow[CopyEventData]):
    name = "copyevent"
    data_model = CopyEventData
    commands = (
        CommandSpec(
            "copy",
            "kopier",
            N_("Make a new event from one of yours, once or as a series"),
            role=Role.COORDINATOR,
        ),
    )

    def __init__(
        self,
        *,
        bot_username: str | None = None,
        invite_lead: timedelta = DEFAULT_INVITE_LEAD,
        photos: FeedbackOptions | None = None,
    ) -> None:
        photos = photos or FeedbackOptions()
        # `/newevent`'s questions take any `NewEventData`, so a copy's too
        asked: tuple[Question[Any], ...] = (
            ChooseEventToCopy(),
            TitleQuestion(),
            TextQuestion(),
            WhenQuestion(),
            EndQuestion(),
            ConfirmWhenQuestion(),
            PlaceQuestion(),
            PinQuestion(),
            CapacityQuestion(),
            GuestsQuestion(),
            CopyTasks(),
            AudienceQuestion(),
            TopicsQuestion(),
            EarlierQuestion(),
            RepeatQuestion(),
            RepeatEndQuestion(),
            PhotoQuestion(photos.max_snap_bytes),
            PhotoTextQuestion(),
            ChangeQuestion(),
            CopyPreview(bot_username, invite_lead, photos),
        )
        self._questions: dict[str, Question[CopyEventData]] = by_state(*asked)

    @property
    def questions(self) -> Mapping[str, Question[CopyEventData]]:
        return self._questions

    def takes_location(self, state: str) -> bool:
        return state in LOCATION_STEPS

    def takes_media(self, state: str) -> bool:
        return state == Step.PHOTO

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        if not ctx.is_coordinator:
            return only_coordinators(ctx)
        if not await copyable(ctx):
            return no_events(ctx)
        return Transition.go(CHOOSE, CopyEventData())

    async def detached(self, ctx: FlowContext, prompt: Prompt, choice_id: str) -> Transition | None:
        """An idea tapped under a report: a copy of the event with the idea as its text."""
        if prompt.state != IDEA_STATE:
            return None
        event_id = prompt.context.get("event_id")
        event = await managed_event(ctx, event_id if isinstance(event_id, int) else None)
        if event is None:
            return only_coordinators(ctx)
        idea = await idea_of(ctx.services, event, IDEA.parse(choice_id))
        if idea is None:
            return None
        copied = await CopyEventData.of_event(ctx, event)
        copied.text, copied.from_ideas = idea.text, [idea.id]
        intro = ctx._(
            N_(
                "The next meeting, from the idea: “{idea}”. The rest is as {title}; "
                "you can change anything before publishing."
            )
        ).format(idea=idea.text, title=event.title)
        return Transition.go(Step.WHEN, copied, OutMessage(intro))

    async def handle(
        self, ctx: FlowContext, state: str, data: CopyEventData, answer: Answer
    ) -> Transition:
        transition = await super().handle(ctx, state, data, answer)
        return self._after(state, transition)

    @staticmethod
    def _after(state: str, transition: Transition) -> Transition:
        """A `/newevent` question goes on to the next step of a new event; here the step
        answered (with its follow-ups: the end after the start, the pin after the place)
        leads back: to whether it repeats after the new time, else to the preview."""
        group = group_of(state)
        if group is None or not isinstance(transition.state, str):
            return transition
        if transition.state in group:
            return transition
        data = transition.data
        assert isinstance(data, CopyEventData)
        return replace(transition, state=Step.PREVIEW if data.repeat_asked else REPEAT)

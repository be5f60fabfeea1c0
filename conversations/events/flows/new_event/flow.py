"""`/newevent`: a coordinator creates an event step by step, sees a preview and publishes.

Everything is kept in the conversation's data until "publish", which writes the event, its
tasks and every invitation in the outbox in that one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping

from conversations.core.commands import CommandSpec
from conversations.core.flow import Answer, FlowContext, Transition
from conversations.core.i18n import N_
from conversations.core.messages import OutMessage
from conversations.core.questions import Question, QuestionFlow, by_state
from conversations.events.flows.new_event.access import AccessQuestion, PracticalQuestion
from conversations.events.flows.new_event.audience_and_sending import (
    AudienceQuestion,
    EarlierQuestion,
    RemindersQuestion,
    SendAtQuestion,
    SendQuestion,
    TopicsQuestion,
)
from conversations.events.flows.new_event.draft import LOCATION_STEPS, NewEventData, Step
from conversations.events.flows.new_event.journey_and_tasks import JourneyQuestion, TasksQuestion
from conversations.events.flows.new_event.photo import PhotoQuestion, PhotoTextQuestion
from conversations.events.flows.new_event.preview import EventPreview
from conversations.events.flows.new_event.the_usual import UsualQuestion
from conversations.events.flows.new_event.what_when_where import (
    ConfirmWhenQuestion,
    EndQuestion,
    PinQuestion,
    PlaceQuestion,
    TextQuestion,
    TitleAndText,
    WhenQuestion,
)
from conversations.events.flows.new_event.who_may_come import CapacityQuestion, GuestsQuestion
from conversations.events.flows.pick_event import only_coordinators
from conversations.feedback.rules.snaps import FeedbackOptions
from storage.models import Role


class NewEvent(QuestionFlow[NewEventData]):
    """Every question of the event, in `ORDER`."""

    name = "newevent"
    data_model = NewEventData
    commands = (
        CommandSpec(
            "newevent",
            "nytarrangement",
            N_("Create an event and invite people"),
            role=Role.COORDINATOR,
        ),
    )

    def __init__(
        self, *, bot_username: str | None = None, photos: FeedbackOptions | None = None
    ) -> None:
        """`photos`: where the invitation's photo is kept and how large it may be (the
        journey snaps' options); without them no photo is asked for."""
        photos = photos or FeedbackOptions()
        self._questions = by_state(
            TitleAndText(),
            TextQuestion(),
            WhenQuestion(),
            EndQuestion(),
            ConfirmWhenQuestion(),
            PlaceQuestion(),
            PinQuestion(),
            CapacityQuestion(),
            UsualQuestion(),
            GuestsQuestion(),
            JourneyQuestion(),
            TasksQuestion(),
            RemindersQuestion(),
            AccessQuestion(),
            PracticalQuestion(),
            AudienceQuestion(),
            TopicsQuestion(),
            EarlierQuestion(),
            SendQuestion(),
            SendAtQuestion(),
            PhotoQuestion(photos.max_snap_bytes),
            PhotoTextQuestion(),
            EventPreview(bot_username, photos),
        )

    @property
    def questions(self) -> Mapping[str, Question[NewEventData]]:
        return self._questions

    def takes_location(self, state: str) -> bool:
        return state in LOCATION_STEPS

    def takes_media(self, state: str) -> bool:
        return state == Step.PHOTO

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        if not ctx.is_coordinator:
            return only_coordinators(ctx)
        intro = ctx._(
            N_(
                "Let's create an event. I'll ask one thing at a time; /back goes one step back "
                "and /cancel stops. Nothing is sent until you publish."
            )
        )
        return Transition.go(Step.TITLE, NewEventData(), OutMessage(intro))

    async def handle(
        self, ctx: FlowContext, state: str, data: NewEventData, answer: Answer
    ) -> Transition:
        if not ctx.is_coordinator:  # the role can be taken away mid-conversation
            return only_coordinators(ctx)
        return await super().handle(ctx, state, data, answer)

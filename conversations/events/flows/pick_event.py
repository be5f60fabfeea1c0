"""The first question of a coordinator's event tools: which of my events? And who may
manage an event (its creator, or an admin) or help run it (also its co-organisers, citizens
too), checked again at every step.
"""

from __future__ import annotations

from abc import abstractmethod
from datetime import timedelta
from typing import ClassVar, TypeVar

from conversations.core.choice_ids import EVENT
from conversations.core.flow import Answer, FlowContext, FlowData, Transition
from conversations.core.i18n import N_
from conversations.core.messages import Choice, OutMessage
from conversations.core.questions import DataT, Question, QuestionFlow
from storage.models import Event, EventStatus

CHOOSE = "choose"


class ChosenEventData(FlowData):
    """The event a tool works on, once chosen (none while asking which)."""

    event_id: int | None = None


ChosenT = TypeVar("ChosenT", bound=ChosenEventData)


def only_coordinators(ctx: FlowContext) -> Transition:
    return Transition.end(OutMessage(ctx._(N_("Only coordinators can do that."))))


def can_manage(ctx: FlowContext, event: Event | None) -> bool:
    if event is None or not ctx.is_coordinator:
        return False
    return ctx.is_admin or event.created_by_id == ctx.person.id


async def can_assist(ctx: FlowContext, event: Event | None) -> bool:
    """Whether this person may see who comes, write to them, check them in and read the
    report: whoever may manage the event, and its co-organisers."""
    if event is None:
        return False
    return can_manage(ctx, event) or await ctx.uow.organisers.is_organiser(event.id, ctx.person.id)


async def managed_event(
    ctx: FlowContext, event_id: int | None, *, assisting: bool = False
) -> Event | None:
    """The event, if this person may manage it now (a role can be taken away), or with
    `assisting` help run it."""
    event = await ctx.uow.events.get(event_id) if event_id is not None else None
    if assisting:
        return event if await can_assist(ctx, event) else None
    return event if can_manage(ctx, event) else None


async def chosen_event(ctx: FlowContext, data: ChosenEventData) -> Event:
    """The event chosen at the first question (whether this person may still manage it is
    checked before every answer, see `ManageEventFlow`)."""
    event = await ctx.uow.events.get(data.event_id) if data.event_id is not None else None
    assert event is not None
    return event


async def manageable(ctx: FlowContext, *, assisting: bool = False) -> list[Event]:
    """My recent events (everybody's for an admin); with `assisting`, those I help run too."""
    events: list[Event] = []
    if ctx.is_coordinator:
        owner = None if ctx.is_admin else ctx.person.id
        events += await ctx.uow.events.managed_by(owner)
    if assisting:
        known = {e.id for e in events}
        events += [
            e for e in await ctx.uow.organisers.events_of(ctx.person.id) if e.id not in known
        ]
        events.sort(key=lambda e: e.starts_at, reverse=True)
    recent = ctx.now() - timedelta(days=2)
    return [e for e in events if e.starts_at > recent][:9]


def no_events(ctx: FlowContext) -> OutMessage:
    return OutMessage(ctx._(N_("You have no published events yet. /newevent creates one.")))


async def choose_event_question(
    ctx: FlowContext, text: str, *, assisting: bool = False
) -> OutMessage:
    events = await manageable(ctx, assisting=assisting)
    if not events:
        return no_events(ctx)
    choices = tuple(Choice(EVENT.of(e.id), f"{e.title} · {ctx.when(e.starts_at)}") for e in events)
    return OutMessage(text, choices=choices)


async def picked_event(
    ctx: FlowContext, answer: Answer, *, assisting: bool = False
) -> Event | None:
    return await managed_event(ctx, EVENT.parse(answer.choice), assisting=assisting)


async def start_choosing(
    ctx: FlowContext, data: FlowData, *, assisting: bool = False
) -> Transition:
    events = await manageable(ctx, assisting=assisting)
    if not ctx.is_coordinator and not events:
        return only_coordinators(ctx)
    if not events:
        return Transition.end(no_events(ctx))
    return Transition.go(CHOOSE, data)


class ChooseEvent(Question[DataT]):
    """Which of my events? A tool says what it asks (`question`) and what comes next."""

    state = CHOOSE
    question: ClassVar[str]  # the untranslated text (marked with `N_`)
    published_only: ClassVar[bool] = False  # a cancelled event can't change or be cancelled
    co_organisers_may: ClassVar[bool] = False  # its co-organisers may use the tool too

    async def ask(self, ctx: FlowContext, data: DataT) -> OutMessage:
        return await choose_event_question(
            ctx, ctx._(self.question), assisting=self.co_organisers_may
        )

    async def take(self, ctx: FlowContext, data: DataT, answer: Answer) -> Transition:
        event = await picked_event(ctx, answer, assisting=self.co_organisers_may)
        if event is None or (self.published_only and event.status != EventStatus.PUBLISHED):
            return Transition.stay(data)
        return await self.chosen(ctx, event)

    @abstractmethod
    async def chosen(self, ctx: FlowContext, event: Event) -> Transition:
        """Where the tool goes with the event that was picked."""


class ManageEventFlow(QuestionFlow[ChosenT]):
    """A coordinator's tool on one event: which one first (`CHOOSE`), then its questions.

    Who may use it is checked before every answer, and who may manage the chosen event
    before every answer after the first: a role can be taken away mid-conversation. With
    `co_organisers_may`, an event's co-organisers (citizens too) may use it on that event.
    """

    co_organisers_may: ClassVar[bool] = False

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        return await start_choosing(ctx, self.data_model(), assisting=self.co_organisers_may)

    async def handle(
        self, ctx: FlowContext, state: str, data: ChosenT, answer: Answer
    ) -> Transition:
        assisting = self.co_organisers_may
        if not ctx.is_coordinator and not assisting:
            return only_coordinators(ctx)
        if state != CHOOSE:
            if await managed_event(ctx, data.event_id, assisting=assisting) is None:
                return only_coordinators(ctx)
        elif not ctx.is_coordinator and not await manageable(ctx, assisting=True):
            return only_coordinators(ctx)
        return await super().handle(ctx, state, data, answer)

"""`/cancelevent`: cancel an event and tell everyone who answered."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from conversations.core.commands import CommandSpec
from conversations.core.flow import Answer, FlowContext, Transition
from conversations.core.i18n import N_
from conversations.core.messages import OutMessage
from conversations.core.questions import Question, by_state
from conversations.core.words import NO_WORDS, YES_WORDS
from conversations.events.flows.pick_event import (
    CHOOSE,
    ChooseEvent,
    ChosenEventData,
    ManageEventFlow,
    chosen_event,
)
from conversations.events.rules.changes import cancel_event
from conversations.events.rules.notifier import concerned_answers
from storage.models import AuditAction, Event, EventStatus, Role


class CancelStep(StrEnum):
    CHOOSE = CHOOSE
    CONFIRM = "confirm"


class ChooseEventToCancel(ChooseEvent[ChosenEventData]):
    question = N_("Which event should be cancelled?")
    published_only = True

    async def chosen(self, ctx: FlowContext, event: Event) -> Transition:
        return Transition.go(CancelStep.CONFIRM, ChosenEventData(event_id=event.id))


class ConfirmCancelling(Question[ChosenEventData]):
    state = CancelStep.CONFIRM

    async def ask(self, ctx: FlowContext, data: ChosenEventData) -> OutMessage:
        event = await chosen_event(ctx, data)
        concerned = len(await concerned_answers(ctx.uow, event))
        return OutMessage(
            ctx.ngettext(
                "Cancel {title} ({when})? {n} person who answered yes, maybe or is waiting "
                "will be told at once.",
                "Cancel {title} ({when})? {n} people who answered yes, maybe or are waiting "
                "will be told at once.",
                concerned,
            ).format(title=event.title, when=ctx.when(event.starts_at), n=concerned),
            choices=(
                ctx.choice("yes", N_("Yes, cancel it"), "🛑", *YES_WORDS),
                ctx.choice("no", N_("No, keep it"), "↩️", *NO_WORDS),
            ),
        )

    async def take(self, ctx: FlowContext, data: ChosenEventData, answer: Answer) -> Transition:
        if answer.choice == "no":
            return Transition.end(OutMessage(ctx._(N_("It stays on. 👍"))))
        if answer.choice != "yes":
            return Transition.stay(data)
        event = await chosen_event(ctx, data)
        if event.status != EventStatus.PUBLISHED:
            return Transition.end(OutMessage(ctx._(N_("That event is already cancelled."))))
        count = await cancel_event(ctx.services, event)
        await ctx.uow.audit.record(
            AuditAction.EVENT_CANCELLED, actor_id=ctx.person.id, event_id=event.id
        )
        return Transition.end(
            OutMessage(
                ctx.ngettext(
                    "Cancelled. I'm telling {n} person.",
                    "Cancelled. I'm telling {n} people.",
                    count,
                ).format(n=count)
            )
        )


class CancelEvent(ManageEventFlow[ChosenEventData]):
    name = "cancelevent"
    data_model = ChosenEventData
    commands = (CommandSpec("cancelevent", "aflys", N_("Cancel an event"), role=Role.COORDINATOR),)

    _questions = by_state(ChooseEventToCancel(), ConfirmCancelling())

    @property
    def questions(self) -> Mapping[str, Question[ChosenEventData]]:
        return self._questions

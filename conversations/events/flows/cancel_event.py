"""`/cancelevent`: cancel an event and tell everyone who answered, with a reason if the
coordinator gives one."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from conversations.core.commands import CommandSpec
from conversations.core.flow import Answer, FlowContext, Transition
from conversations.core.i18n import N_
from conversations.core.messages import OutMessage
from conversations.core.questions import Question, by_state
from conversations.core.words import NO_WORDS, SKIP_WORDS, YES_WORDS
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

MAX_REASON = 500


class CancelStep(StrEnum):
    CHOOSE = CHOOSE
    REASON = "reason"
    CONFIRM = "confirm"


class CancelData(ChosenEventData):
    reason: str = ""


class ChooseEventToCancel(ChooseEvent[CancelData]):
    question = N_("Which event should be cancelled?")
    published_only = True

    async def chosen(self, ctx: FlowContext, event: Event) -> Transition:
        return Transition.go(CancelStep.REASON, CancelData(event_id=event.id))


class WhyCancel(Question[CancelData]):
    state = CancelStep.REASON

    async def ask(self, ctx: FlowContext, data: CancelData) -> OutMessage:
        return OutMessage(
            ctx._(
                N_(
                    "Would you like to tell people why? A short line, for example "
                    '"Storm warning". They get it with the cancellation.'
                )
            ),
            choices=(ctx.choice("skip", N_("Skip"), "⏭", *SKIP_WORDS),),
            expects_text=True,
        )

    async def take(self, ctx: FlowContext, data: CancelData, answer: Answer) -> Transition:
        if answer.choice == "skip":
            data.reason = ""
            return Transition.go(CancelStep.CONFIRM, data)
        reason = " ".join((answer.text or "").split())
        if not reason or len(reason) > MAX_REASON:
            note = ctx._(N_("Please write a short line, or skip."))
            return Transition.stay(data, OutMessage(note))
        data.reason = reason
        return Transition.go(CancelStep.CONFIRM, data)


class ConfirmCancelling(Question[CancelData]):
    state = CancelStep.CONFIRM

    async def ask(self, ctx: FlowContext, data: CancelData) -> OutMessage:
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

    async def take(self, ctx: FlowContext, data: CancelData, answer: Answer) -> Transition:
        if answer.choice == "no":
            return Transition.end(OutMessage(ctx._(N_("It stays on. 👍"))))
        if answer.choice != "yes":
            return Transition.stay(data)
        event = await chosen_event(ctx, data)
        if event.status != EventStatus.PUBLISHED:
            return Transition.end(OutMessage(ctx._(N_("That event is already cancelled."))))
        count = await cancel_event(ctx.services, event, data.reason)
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


class CancelEvent(ManageEventFlow[CancelData]):
    name = "cancelevent"
    data_model = CancelData
    commands = (CommandSpec("cancelevent", "aflys", N_("Cancel an event"), role=Role.COORDINATOR),)

    _questions = by_state(ChooseEventToCancel(), WhyCancel(), ConfirmCancelling())

    @property
    def questions(self) -> Mapping[str, Question[CancelData]]:
        return self._questions

"""One question for what most events share: no guests, the usual steps of the day, no tasks,
and reminders the day before and two hours before. "Choose myself" asks each of them."""

from __future__ import annotations

from conversations.core.flow import Answer, FlowContext, Transition
from conversations.core.i18n import N_
from conversations.core.messages import OutMessage
from conversations.core.questions import Question
from conversations.core.words import YES_WORDS
from conversations.events.flows.new_event.draft import NewEventData, Step
from conversations.events.rules.journey import DEFAULT_JOURNEY
from conversations.events.rules.reminders import DEFAULT_REMINDERS


class UsualQuestion(Question[NewEventData]):
    state = Step.USUAL

    async def ask(self, ctx: FlowContext, data: NewEventData) -> OutMessage:
        return OutMessage(
            ctx._(
                N_(
                    "Shall I use the usual for the rest?\n"
                    "• no guests\n"
                    "• no tasks that need a hand\n"
                    "• reminders 24 hours and 2 hours before\n"
                    "• afterwards, feedback on the steps: {steps}"
                )
            ).format(steps=", ".join(DEFAULT_JOURNEY)),
            choices=(
                ctx.choice("usual", N_("Yes, the usual"), "👍", *YES_WORDS),
                ctx.choice("choose", N_("I'll choose myself"), "✏️", "nej", "no", "selv"),
            ),
        )

    async def take(self, ctx: FlowContext, data: NewEventData, answer: Answer) -> Transition:
        if answer.choice == "choose":
            return Transition.go(Step.GUESTS, data)
        if answer.choice != "usual":
            return Transition.stay(data)
        data.guests = False
        data.journey = list(DEFAULT_JOURNEY)
        data.tasks = []
        data.reminders = list(DEFAULT_REMINDERS)
        return Transition.go(Step.AUDIENCE, data)

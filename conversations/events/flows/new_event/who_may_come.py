"""Who may come to a new event: how many at most, and whether they may bring a guest."""

from __future__ import annotations

from conversations.core.flow import Answer, FlowContext, Transition
from conversations.core.i18n import N_
from conversations.core.messages import OutMessage
from conversations.core.questions import Question
from conversations.core.words import NO_WORDS, SKIP_WORDS, YES_WORDS, whole_number
from conversations.events.flows.new_event.draft import NewEventData, Step, retry, squeezed

MAX_CAPACITY = 10_000


class CapacityQuestion(Question[NewEventData]):
    state = Step.CAPACITY

    async def ask(self, ctx: FlowContext, data: NewEventData) -> OutMessage:
        return OutMessage(
            ctx._(N_("How many can come at most? Write a number, or tap No limit.")),
            choices=(ctx.choice("skip", N_("No limit"), "♾", *SKIP_WORDS, "ingen"),),
            expects_text=True,
        )

    async def take(self, ctx: FlowContext, data: NewEventData, answer: Answer) -> Transition:
        if answer.location is not None:  # the pin, shared after the place's name
            data.lat, data.lon = answer.location.latitude, answer.location.longitude
            return Transition.stay(data, OutMessage(ctx._(N_("Got the pin. 📍"))))
        typed = (ctx.inbound.text or "").strip() if ctx.inbound else ""
        # "1" typed is a capacity, though it is also the number of the first (only) button
        if answer.choice == "skip" and whole_number(typed) is None:
            data.capacity = None
            return Transition.go(Step.USUAL, data)
        capacity = whole_number(typed if answer.choice == "skip" else squeezed(answer))
        if not capacity or capacity > MAX_CAPACITY:
            return retry(ctx, data, N_("Please write a number, like 20."))
        data.capacity = capacity
        return Transition.go(Step.USUAL, data)


class GuestsQuestion(Question[NewEventData]):
    state = Step.GUESTS

    async def ask(self, ctx: FlowContext, data: NewEventData) -> OutMessage:
        return OutMessage(
            ctx._(N_("May people bring a guest?")),
            choices=(
                ctx.choice("yes", N_("Yes"), "👍", *YES_WORDS),
                ctx.choice("no", N_("No"), "✋", *NO_WORDS),
            ),
        )

    async def take(self, ctx: FlowContext, data: NewEventData, answer: Answer) -> Transition:
        if answer.choice not in ("yes", "no"):
            return Transition.stay(data)
        data.guests = answer.choice == "yes"
        return Transition.go(Step.JOURNEY, data)

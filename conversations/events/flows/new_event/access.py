"""Access and practical things, for the invitation: step-free, toilet, places to sit (tapped
on and off), then how to get there by bus or train and what to bring."""

from __future__ import annotations

from conversations.core.flow import Answer, FlowContext, Transition
from conversations.core.i18n import N_
from conversations.core.messages import Choice, OutMessage
from conversations.core.questions import Question
from conversations.events.flows.new_event.draft import (
    NewEventData,
    Step,
    retry,
    skip_choice,
)
from conversations.events.rules.access import ACCESS_FEATURES, MAX_PRACTICAL_NOTE


def after_access(data: NewEventData) -> Transition:
    """On to the audience, or back to the preview when it was opened from there."""
    return Transition.go(Step.AUDIENCE if data.audience is None else Step.PREVIEW, data)


class AccessQuestion(Question[NewEventData]):
    state = Step.ACCESS

    async def ask(self, ctx: FlowContext, data: NewEventData) -> OutMessage:
        choices = [
            Choice(
                key,
                ctx.marked(ctx._(label), key in data.access),
                emoji,
                aliases=(label, ctx._(label)),
            )
            for key, (label, emoji) in ACCESS_FEATURES.items()
        ]
        choices.append(ctx.choice("done", N_("Done"), "👍", "færdig", "ok"))
        return OutMessage(
            ctx._(
                N_(
                    "What is there for those who need it? Tap what fits (tap again to "
                    "remove), then Done."
                )
            ),
            choices=tuple(choices),
        )

    async def take(self, ctx: FlowContext, data: NewEventData, answer: Answer) -> Transition:
        if answer.choice == "done":
            return Transition.go(Step.PRACTICAL, data)
        if answer.choice in ACCESS_FEATURES:
            if answer.choice in data.access:
                data.access.remove(answer.choice)
            else:
                data.access.append(answer.choice)
        return Transition.stay(data)


class PracticalQuestion(Question[NewEventData]):
    state = Step.PRACTICAL

    async def ask(self, ctx: FlowContext, data: NewEventData) -> OutMessage:
        return OutMessage(
            ctx._(
                N_(
                    "How do people get there by bus or train, and what should they bring? "
                    'For example "Bus 12 to Hald Ege, 5 minutes on foot. Bring warm clothes."'
                )
            ),
            choices=(skip_choice(ctx),),
            expects_text=True,
        )

    async def take(self, ctx: FlowContext, data: NewEventData, answer: Answer) -> Transition:
        if answer.choice == "skip":
            return after_access(data)
        note = (answer.text or "").strip()
        if not note or len(note) > MAX_PRACTICAL_NOTE:
            return retry(ctx, data, N_("Please write a few words, or skip."))
        data.practical = note
        return after_access(data)

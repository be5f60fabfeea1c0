"""The day itself: the steps of its journey (asked about afterwards) and the tasks that need
a hand."""

from __future__ import annotations

from typing import ClassVar

from conversations.core.flow import Answer, FlowContext, Transition
from conversations.core.i18n import N_
from conversations.core.messages import OutMessage
from conversations.core.questions import Question
from conversations.core.words import SKIP_WORDS
from conversations.events.flows.new_event.draft import NewEventData, Step, retry, squeezed
from conversations.events.rules.journey import step_names
from conversations.tasks.rules.task_lines import parse_task

MAX_JOURNEY_STEPS = 12
MAX_STEP = 60
MAX_TASKS = 20


class JourneyQuestion(Question[NewEventData]):
    state = Step.JOURNEY

    async def ask(self, ctx: FlowContext, data: NewEventData) -> OutMessage:
        return OutMessage(
            ctx._(
                N_(
                    "Afterwards people can tell how each step of the day went. "
                    "The steps are: {steps}.\nKeep them, or type your own list "
                    "separated by commas."
                )
            ).format(steps=", ".join(await step_names(ctx.uow, ctx.translator, data.journey))),
            choices=(ctx.choice("keep", N_("Keep these"), "👍", "ok", *SKIP_WORDS),),
            expects_text=True,
        )

    async def take(self, ctx: FlowContext, data: NewEventData, answer: Answer) -> Transition:
        if answer.choice != "keep":
            steps = [s.strip()[:MAX_STEP] for s in squeezed(answer).split(",") if s.strip()]
            if not steps or len(steps) > MAX_JOURNEY_STEPS:
                return retry(
                    ctx, data, N_("Type the steps separated by commas, or tap Keep these.")
                )
            data.journey = steps
        return Transition.go(Step.TASKS, data)


class TasksQuestion(Question[NewEventData]):
    """Tasks are added a few lines at a time, each shown below the question, until Done."""

    state = Step.TASKS
    intro: ClassVar[str] = N_(
        "Which tasks need a hand? One per line, with how many, for example "
        '"medbring suppe x3". Tap Done when the list is complete.'
    )

    async def ask(self, ctx: FlowContext, data: NewEventData) -> OutMessage:
        text = ctx._(self.intro)
        listed = "\n".join(
            ctx._(N_("• {task} ×{hands}")).format(task=title, hands=hands)
            for title, hands in data.tasks
        )
        if listed:
            text += "\n\n" + listed
        return OutMessage(
            text,
            choices=(ctx.choice("done", N_("Done"), "👍", *SKIP_WORDS, "færdig", "ok"),),
            expects_text=True,
        )

    async def take(self, ctx: FlowContext, data: NewEventData, answer: Answer) -> Transition:
        if answer.choice == "done":
            return Transition.go(Step.REMINDERS, data)
        added = [parse_task(line) for line in (answer.text or "").splitlines()]
        tasks = [*data.tasks, *[task for task in added if task]]
        if len(tasks) > MAX_TASKS:
            return retry(ctx, data, N_("That is a lot of tasks; 20 at most."))
        data.tasks = tasks
        return Transition.stay(data)

"""`/tasks`: the organiser adds, changes and closes an event's tasks at any time.

Organisers are coordinators (their own events; admins all) and citizens for their own
initiatives; an event's co-organisers (citizens too) see the list and who took each task,
but do not change it. People who took a task are told when it changes or is dropped.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from datetime import timedelta
from enum import StrEnum

from conversations.core.choice_ids import EVENT, ChoiceKey
from conversations.core.commands import CommandSpec
from conversations.core.flow import Answer, FlowContext, FlowData, Transition
from conversations.core.i18n import N_
from conversations.core.messages import Choice, OutMessage
from conversations.core.questions import Question, QuestionFlow, by_state
from conversations.core.words import SKIP_WORDS, whole_number
from conversations.events.rules.invitations import refresh_pending_invitations
from conversations.events.rules.live_view import name_of, task_people
from conversations.events.rules.organisers import Action, log_if_co_organiser
from conversations.tasks.rules.task_changes import close_task, rename_task, resize_task
from conversations.tasks.rules.task_lines import parse_task
from storage.models import Event, EventOrigin, EventStatus, EventTask

MAX_TASKS = 20
MAX_TITLE = 120
MAX_HANDS = 50

TASK = ChoiceKey("t")  # a task on the organiser's list, to change or close


class Step(StrEnum):
    CHOOSE = "choose"
    LIST = "list"
    TASK = "task"
    ADD = "add"
    RENAME = "rename"
    HANDS = "hands"


# the choices on a task that only lead to another question
OPENED_BY = {"rename": Step.RENAME, "hands": Step.HANDS, "back": Step.LIST}


class ManageTasksData(FlowData):
    event_id: int | None = None  # the event whose tasks are open, chosen first
    task_id: int | None = None  # the task being changed, chosen from the list


def can_organise(ctx: FlowContext, event: Event | None) -> bool:
    """Coordinators their own events (admins all); anyone their own initiative."""
    if event is None:
        return False
    if event.origin == EventOrigin.INITIATIVE and event.created_by_id == ctx.person.id:
        return True
    if not ctx.is_coordinator:
        return False
    return ctx.is_admin or event.created_by_id == ctx.person.id


async def helps_run(ctx: FlowContext, event: Event) -> bool:
    """A co-organiser (a citizen too) sees the tasks and who took them, but only the
    organiser changes them."""
    return await ctx.uow.organisers.is_organiser(event.id, ctx.person.id)


async def organised(ctx: FlowContext) -> list[Event]:
    """Events this person may organise or helps run, newest first, including those that
    just ended."""
    recent = ctx.now() - timedelta(days=2)
    events: list[Event] = []
    if ctx.is_coordinator:
        owner = None if ctx.is_admin else ctx.person.id
        events += list(await ctx.uow.events.managed_by(owner))
    events += [
        e
        for e in await ctx.uow.initiatives.initiatives_by(ctx.person.id)
        if e.status == EventStatus.PUBLISHED and e not in events
    ]
    events += [e for e in await ctx.uow.organisers.events_of(ctx.person.id) if e not in events]
    events.sort(key=lambda e: e.starts_at, reverse=True)
    return [e for e in events if e.starts_at > recent][:9]


def not_yours(ctx: FlowContext) -> Transition:
    return Transition.end(
        OutMessage(ctx._(N_("Only the organiser can change that, and this isn't yours.")))
    )


def typed(answer: Answer) -> str:
    """What was written, with its spaces tidied."""
    return " ".join((answer.text or "").split())


async def chosen_event(ctx: FlowContext, data: ManageTasksData) -> Event:
    assert data.event_id is not None, "the event is chosen before any other question"
    event = await ctx.uow.events.get(data.event_id)
    assert event is not None
    return event


async def open_task(ctx: FlowContext, event: Event, task_id: int | None) -> EventTask | None:
    """The task with this id if it is one of the event's and still open."""
    task = await ctx.uow.pledges.task(task_id) if task_id is not None else None
    if task is None or task.event_id != event.id or task.closed_at is not None:
        return None
    return task


async def refresh_invitations(ctx: FlowContext, event: Event) -> None:
    """Invitations still waiting to go out show the tasks as they are now."""
    await ctx.uow.flush()
    await refresh_pending_invitations(ctx.services, event)


class ChooseEvent(Question[ManageTasksData]):
    state = Step.CHOOSE

    async def ask(self, ctx: FlowContext, data: ManageTasksData) -> OutMessage:
        events = await organised(ctx)
        return OutMessage(
            ctx._(N_("The tasks of which event?")),
            choices=tuple(
                Choice(EVENT.of(e.id), f"{e.title} · {ctx.when(e.starts_at)}") for e in events
            ),
        )

    async def take(self, ctx: FlowContext, data: ManageTasksData, answer: Answer) -> Transition:
        event_id = EVENT.parse(answer.choice)
        if event_id is None:
            return Transition.stay(data)
        event = await ctx.uow.events.get(event_id)
        if event is None:
            return not_yours(ctx)
        if not can_organise(ctx, event):
            if not await helps_run(ctx, event):
                return not_yours(ctx)
            await log_if_co_organiser(
                ctx.services, event, ctx.person, Action.TASKS, is_admin=ctx.is_admin
            )
        return Transition.go(Step.LIST, ManageTasksData(event_id=event.id))


class EventQuestion(Question[ManageTasksData]):
    """A question about the chosen event; each answer checks again that it is theirs (a
    co-organiser only reads the list: `TaskList` lets them end it, nothing more)."""

    async def take(self, ctx: FlowContext, data: ManageTasksData, answer: Answer) -> Transition:
        event = await ctx.uow.events.get(data.event_id) if data.event_id is not None else None
        if event is None:
            return not_yours(ctx)
        if not can_organise(ctx, event):  # roles can change meanwhile
            if self.state == Step.LIST and await helps_run(ctx, event):
                return TaskList.finished(ctx)
            return not_yours(ctx)
        return await self.take_for(ctx, data, event, answer)

    @abstractmethod
    async def take_for(
        self, ctx: FlowContext, data: ManageTasksData, event: Event, answer: Answer
    ) -> Transition:
        """The answer, once the event is known to be this organiser's."""


class TaskList(EventQuestion):
    state = Step.LIST

    async def ask(self, ctx: FlowContext, data: ManageTasksData) -> OutMessage:
        event = await chosen_event(ctx, data)
        held = await ctx.uow.pledges.counts(event.id)
        lines = [ctx._(N_("Tasks for {title}:")).format(title=event.title)]
        choices: list[Choice] = []
        for entry in await task_people(ctx.uow, event):
            task = entry.task
            line = ctx.ngettext(
                "• {task}: {held} of {hands} hand", "• {task}: {held} of {hands} hands", task.hands
            ).format(task=task.title, held=held.get(task.id, 0), hands=task.hands)
            if entry.people:  # who does what, by the names people gave
                line += " (" + ", ".join(name_of(ctx.translator, p) for p in entry.people) + ")"
            lines.append(line)
            choices.append(Choice(TASK.of(task.id), task.title))
        if not choices:
            lines.append(ctx._(N_("No tasks yet.")))
        if can_organise(ctx, event):
            choices.append(ctx.choice("add", N_("Add tasks"), "➕"))
        else:  # a co-organiser reads who does what; changing it is the organiser's
            choices = []
            lines += ["", ctx._(N_("Only the organiser changes the tasks."))]
        choices.append(ctx.choice("done", N_("Done"), "👍", "ok", "færdig"))
        return OutMessage("\n".join(lines), choices=tuple(choices))

    @staticmethod
    def finished(ctx: FlowContext) -> Transition:
        return Transition.end(OutMessage(ctx._(N_("All right. 👍"))))

    async def take_for(
        self, ctx: FlowContext, data: ManageTasksData, event: Event, answer: Answer
    ) -> Transition:
        if answer.choice == "done" or (answer.choice is None and typed(answer) in SKIP_WORDS):
            return self.finished(ctx)
        if answer.choice == "add":
            return Transition.go(Step.ADD, data)
        task = await open_task(ctx, event, TASK.parse(answer.choice))
        if task is None:
            return Transition.stay(data)
        return Transition.go(Step.TASK, ManageTasksData(event_id=event.id, task_id=task.id))


class AddTasks(EventQuestion):
    state = Step.ADD

    async def ask(self, ctx: FlowContext, data: ManageTasksData) -> OutMessage:
        return OutMessage(
            ctx._(
                N_(
                    "Write the new tasks, one per line, with how many hands, for example "
                    '"medbring kage x2".'
                )
            ),
            expects_text=True,
        )

    async def take_for(
        self, ctx: FlowContext, data: ManageTasksData, event: Event, answer: Answer
    ) -> Transition:
        new = [task for task in map(parse_task, (answer.text or "").splitlines()) if task]
        existing = await ctx.uow.events.tasks(event.id)
        if not new:
            return Transition.stay(data)
        if len(existing) + len(new) > MAX_TASKS:
            return Transition.stay(
                data, OutMessage(ctx._(N_("That is a lot of tasks; 20 at most.")))
            )
        for position, (title, hands) in enumerate(new, start=len(existing)):
            await ctx.uow.events.add_task(event.id, title, hands, position)
        await refresh_invitations(ctx, event)
        return Transition.go(Step.LIST, data, OutMessage(ctx._(N_("Added. 👍"))))


class TaskQuestion(EventQuestion):
    """A question about the chosen task; a task closed meanwhile leads back to the list."""

    async def take_for(
        self, ctx: FlowContext, data: ManageTasksData, event: Event, answer: Answer
    ) -> Transition:
        task = await open_task(ctx, event, data.task_id)
        if task is None:
            return Transition.go(Step.LIST, data)
        return await self.take_on(ctx, data, event, task, answer)

    @abstractmethod
    async def take_on(
        self,
        ctx: FlowContext,
        data: ManageTasksData,
        event: Event,
        task: EventTask,
        answer: Answer,
    ) -> Transition:
        """The answer, once the task is known to be open and the event's."""

    async def saved(self, ctx: FlowContext, data: ManageTasksData, event: Event) -> Transition:
        await refresh_invitations(ctx, event)
        return Transition.go(Step.LIST, data, OutMessage(ctx._(N_("Saved. 👍"))))


class WhatToChange(TaskQuestion):
    state = Step.TASK

    async def ask(self, ctx: FlowContext, data: ManageTasksData) -> OutMessage:
        assert data.task_id is not None, "a task is chosen before it is changed"
        task = await ctx.uow.pledges.task(data.task_id)
        assert task is not None
        return OutMessage(
            ctx._(N_("{task} (×{hands}). What should change?")).format(
                task=task.title, hands=task.hands
            ),
            choices=(
                ctx.choice("rename", N_("The wording"), "✏️"),
                ctx.choice("hands", N_("How many hands"), "🔢"),
                ctx.choice("close", N_("Close it: not needed any more"), "🚫"),
                ctx.choice("back", N_("Back to the list"), "↩️"),
            ),
        )

    async def take_on(
        self,
        ctx: FlowContext,
        data: ManageTasksData,
        event: Event,
        task: EventTask,
        answer: Answer,
    ) -> Transition:
        opens = OPENED_BY.get(answer.choice or "")
        if opens is not None:
            return Transition.go(opens, data)
        if answer.choice != "close":
            return Transition.stay(data)
        told = await close_task(ctx.services, event, task)
        await refresh_invitations(ctx, event)
        note = ctx.ngettext(
            "Closed. I'm telling the {n} person who had taken it.",
            "Closed. I'm telling the {n} people who had taken it.",
            told,
        ).format(n=told)
        return Transition.go(Step.LIST, data, OutMessage(note))


class NewWording(TaskQuestion):
    state = Step.RENAME

    async def ask(self, ctx: FlowContext, data: ManageTasksData) -> OutMessage:
        return OutMessage(ctx._(N_("What should the task say now?")), expects_text=True)

    async def take_on(
        self,
        ctx: FlowContext,
        data: ManageTasksData,
        event: Event,
        task: EventTask,
        answer: Answer,
    ) -> Transition:
        title = typed(answer)
        if not title or len(title) > MAX_TITLE:
            return Transition.stay(data)
        await rename_task(ctx.services, event, task, title)
        return await self.saved(ctx, data, event)


class HowManyHands(TaskQuestion):
    state = Step.HANDS

    async def ask(self, ctx: FlowContext, data: ManageTasksData) -> OutMessage:
        return OutMessage(
            ctx._(N_("How many hands does it need? Write a number.")), expects_text=True
        )

    async def take_on(
        self,
        ctx: FlowContext,
        data: ManageTasksData,
        event: Event,
        task: EventTask,
        answer: Answer,
    ) -> Transition:
        hands = whole_number(typed(answer), at_most=MAX_HANDS)
        if not hands:
            return Transition.stay(data, OutMessage(ctx._(N_("Please write a number, like 2."))))
        await resize_task(ctx.services, event, task, hands)
        return await self.saved(ctx, data, event)


QUESTIONS = by_state(
    ChooseEvent(), TaskList(), AddTasks(), WhatToChange(), NewWording(), HowManyHands()
)


class ManageTasks(QuestionFlow[ManageTasksData]):
    name = "tasks"
    data_model = ManageTasksData
    commands = (
        CommandSpec(
            "tasks",
            "opgaver",
            N_("Add, change or close the tasks of your event"),
            button=N_("Tasks"),
        ),
    )

    @property
    def questions(self) -> Mapping[str, Question[ManageTasksData]]:
        return QUESTIONS

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        if not await organised(ctx):
            return Transition.end(
                OutMessage(
                    ctx._(
                        N_(
                            "You have no events or initiatives of your own yet. "
                            "/initiative starts one."
                        )
                    )
                )
            )
        return Transition.go(Step.CHOOSE, ManageTasksData())

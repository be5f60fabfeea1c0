"""From `/attendees`: write to the people of one task ("those bringing soup"), asked as
which task, then the message. Co-organisers may too; it is logged."""

from __future__ import annotations

from conversations.core.choice_ids import ChoiceKey
from conversations.core.flow import Answer, FlowContext, Transition
from conversations.core.i18n import N_
from conversations.core.messages import Choice, OutMessage
from conversations.core.questions import Question
from conversations.events.flows.pick_event import ChosenEventData, chosen_event
from conversations.events.rules.attendee_messages import write_to_task_people
from conversations.events.rules.live_view import task_people
from conversations.events.rules.organisers import Action, log_if_co_organiser

TASK = ChoiceKey("t")
MAX_NOTE = 1500
CHOOSE_TASK = "task_choose"
WRITE_TASK = "task_write"
LIST_STATE = "list"


class TaskNoteData(ChosenEventData):
    task_id: int | None = None


class ChooseTaskToWrite(Question[TaskNoteData]):
    state = CHOOSE_TASK

    async def ask(self, ctx: FlowContext, data: TaskNoteData) -> OutMessage:
        tasks = [t for t in await task_people(ctx.uow, await chosen_event(ctx, data)) if t.people]
        text = ctx._(N_("Write to the people of which task?"))
        if not tasks:
            text = ctx._(N_("Nobody has taken a task yet."))
        choices = [Choice(TASK.of(t.task.id), f"{t.task.title} ({len(t.people)})") for t in tasks]
        choices.append(ctx.choice("back", N_("Back"), "↩️"))
        return OutMessage(text, choices=tuple(choices))

    async def take(self, ctx: FlowContext, data: TaskNoteData, answer: Answer) -> Transition:
        if answer.choice == "back":
            return Transition.go(LIST_STATE, data)
        task_id = TASK.parse(answer.choice)
        event = await chosen_event(ctx, data)
        # only a task of this event, checked on the server
        if task_id is None or task_id not in {t.id for t in await ctx.uow.events.tasks(event.id)}:
            return Transition.stay(data)
        data.task_id = task_id
        return Transition.go(WRITE_TASK, data)


class WriteToTaskPeople(Question[TaskNoteData]):
    state = WRITE_TASK

    async def ask(self, ctx: FlowContext, data: TaskNoteData) -> OutMessage:
        task = await ctx.uow.pledges.task(data.task_id or 0)
        return OutMessage(
            ctx._(N_("Write your message to those who took {task}.")).format(
                task=task.title if task else "?"
            ),
            expects_text=True,
        )

    async def take(self, ctx: FlowContext, data: TaskNoteData, answer: Answer) -> Transition:
        event = await chosen_event(ctx, data)
        task = await ctx.uow.pledges.task(data.task_id or 0)
        if task is None or task.event_id != event.id:
            return Transition.go(CHOOSE_TASK, data)
        note = (answer.text or "").strip()
        if not note or len(note) > MAX_NOTE:
            return Transition.stay(data, OutMessage(ctx._(N_("Please write a short message."))))
        count = await write_to_task_people(
            ctx.services, event, task, note, sender=ctx.person, sender_chat=ctx.ref
        )
        await log_if_co_organiser(  # the task, not the words: they are not kept twice
            ctx.services, event, ctx.person, Action.WROTE, task.title, is_admin=ctx.is_admin
        )
        text = ctx.ngettext("Sent to {n} person. ✉️", "On its way to {n} people. ✉️", count).format(
            n=count
        )
        return Transition.end(OutMessage(text))

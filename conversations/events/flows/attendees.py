"""`/attendees`: who is coming to one of my events, and writing to them.

Coordinators manage their own events; admins manage all; co-organisers (citizens too, who
get here by the button they were sent) see and write to those of the events they help
run, and what they do is logged. Checked on every step, because a role can be taken away
in the middle of a conversation.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from conversations.core.commands import CommandSpec
from conversations.core.flow import Answer, FlowContext, FlowData, Transition
from conversations.core.i18n import N_
from conversations.core.messages import Attachment, OutMessage
from conversations.core.questions import Question, by_state
from conversations.events.flows.check_in_ticks import TickNames, check_in_qr, open_ticks
from conversations.events.flows.event_qr import qr_message
from conversations.events.flows.pick_event import (
    CHOOSE,
    ChooseEvent,
    ChosenEventData,
    ManageEventFlow,
    chosen_event,
    managed_event,
)
from conversations.events.flows.write_to_task import (
    CHOOSE_TASK,
    ChooseTaskToWrite,
    TaskNoteData,
    WriteToTaskPeople,
)
from conversations.events.rules.attendee_messages import write_to_attendees
from conversations.events.rules.live_view import task_line, task_people
from conversations.events.rules.organisers import HELPER_STATE, Action, log_if_co_organiser
from conversations.events.rules.sign_in_sheet import sheet_files
from storage.models import Event, EventStatus, Prompt, Role, RsvpAnswer

MAX_NOTE = 1500
REPORT_FLOW = "report"


HEADINGS = (
    (RsvpAnswer.YES, N_("Coming")),
    (RsvpAnswer.MAYBE, N_("Maybe")),
    (RsvpAnswer.WAITLISTED, N_("Waiting list")),
    (RsvpAnswer.NO, N_("Can't come")),
)


class AttendeesStep(StrEnum):
    CHOOSE = CHOOSE
    LIST = "list"
    WRITE = "write"
    TICK = "tick"


async def attendance(ctx: FlowContext, event: Event) -> str:
    """Who is coming, maybe, waiting or not (also shown to an initiative's author)."""
    lines = [f"🌿 {event.title} · {ctx.when(event.starts_at)}"]
    if event.status == EventStatus.CANCELLED:
        lines.append(ctx._(N_("(cancelled)")))
    coming = await ctx.uow.events.places_taken(event.id)
    invited = await ctx.uow.events.invited_count(event.id)
    capacity = str(event.capacity) if event.capacity is not None else "∞"
    lines.append(
        ctx._(N_("Invited: {invited} · Places taken: {coming} of {capacity}")).format(
            invited=invited, coming=coming, capacity=capacity
        )
    )
    counts = await ctx.uow.events.answer_counts(event.id)
    for answer, heading in HEADINGS:
        lines.append(await _answered(ctx, event, answer, heading, counts.get(answer, 0)))
    tasks = await task_people(ctx.uow, event)
    if tasks:  # who does what
        lines += ["", ctx._(N_("Tasks:")), *(task_line(ctx.translator, t) for t in tasks)]
    return "\n".join(lines)


async def _answered(
    ctx: FlowContext, event: Event, answer: RsvpAnswer, heading: str, count: int
) -> str:
    """One answer's line: who gave it, by name (those who asked to be forgotten counted)."""
    rows = await ctx.uow.events.rsvps(event.id, answer)
    if answer == RsvpAnswer.WAITLISTED:
        rows = await ctx.uow.events.waitlist(event.id)
    anonymous = count - len(rows)
    names = []
    for row in rows:
        person = await ctx.uow.persons.get(row.person_id) if row.person_id else None
        name = (person.display_name if person else None) or ctx._(N_("(no name)"))
        names.append(name + (" +1" if row.guests else ""))
    if anonymous > 0 and answer != RsvpAnswer.WAITLISTED:
        names.append(
            ctx.ngettext("{n} without a name", "{n} without a name", anonymous).format(n=anonymous)
        )
    total = len(rows) + max(anonymous, 0)
    return f"{ctx._(heading)} ({total}): " + (", ".join(names) or "–")


def write_question(ctx: FlowContext) -> OutMessage:
    """The note to everyone coming (also asked of an initiative's author)."""
    return OutMessage(
        ctx._(
            N_(
                "Write your message. It goes to everyone who said yes, "
                "with the event's name on top."
            )
        ),
        expects_text=True,
    )


async def send_note(
    ctx: FlowContext, event: Event, data: FlowData, answer: Answer, *, longest: int
) -> Transition:
    """The written note to everyone coming, or the question again if it is empty or long."""
    note = (answer.text or "").strip()
    if not note or len(note) > longest:
        return Transition.stay(data, OutMessage(ctx._(N_("Please write a short message."))))
    count = await write_to_attendees(
        ctx.services, event, note, sender=ctx.person, sender_chat=ctx.ref
    )
    text = ctx.ngettext("Sent to {n} person. ✉️", "On its way to {n} people. ✉️", count).format(
        n=count
    )
    return Transition.end(OutMessage(text))


class ChooseEventToList(ChooseEvent[ChosenEventData]):
    question = N_("Which event?")
    co_organisers_may = True

    async def chosen(self, ctx: FlowContext, event: Event) -> Transition:
        return await list_attendees(ctx, event)


async def list_attendees(ctx: FlowContext, event: Event) -> Transition:
    await log_if_co_organiser(ctx.services, event, ctx.person, Action.VIEWED, is_admin=ctx.is_admin)
    return Transition.go(AttendeesStep.LIST, ChosenEventData(event_id=event.id))


class ListAttendees(Question[ChosenEventData]):
    state = AttendeesStep.LIST

    def __init__(self, bot_username: str | None) -> None:
        self._bot_username = bot_username

    async def ask(self, ctx: FlowContext, data: ChosenEventData) -> OutMessage:
        return OutMessage(
            await attendance(ctx, await chosen_event(ctx, data)),
            choices=(
                ctx.choice("write", N_("Write to those coming"), "✉️"),
                ctx.choice("writetask", N_("Write to the people of a task"), "🙋"),
                ctx.choice("tick", N_("Check people in"), "✅"),
                ctx.choice("sheet", N_("A list to print (PDF and CSV)"), "🖨"),
                ctx.choice("report", N_("The report"), "📊"),
                ctx.choice("qr", N_("QR code for a poster"), "🔳", "qr"),
                ctx.choice("checkinqr", N_("Check-in QR code"), "📍"),
                ctx.choice("done", N_("Done"), "👍", "ok"),
            ),
        )

    async def take(self, ctx: FlowContext, data: ChosenEventData, answer: Answer) -> Transition:
        if answer.choice == "write":
            return Transition.go(AttendeesStep.WRITE, data)
        if answer.choice == "writetask":
            return Transition.go(CHOOSE_TASK, data)
        if answer.choice == "report":  # also a citizen helper's way to it
            event = await chosen_event(ctx, data)
            return Transition.end(then=(REPORT_FLOW, str(event.id)))
        if answer.choice == "sheet":
            return Transition.stay(data, *await sheet_messages(ctx, data), ask=False)
        if answer.choice == "tick":
            return await open_ticks(ctx, data)
        if answer.choice == "checkinqr":
            event = await chosen_event(ctx, data)
            return Transition.stay(
                data, await check_in_qr(ctx, event, self._bot_username), ask=False
            )
        if answer.choice == "qr":
            event = await chosen_event(ctx, data)
            return Transition.stay(data, qr_message(ctx, event, self._bot_username), ask=False)
        return Transition.end(OutMessage(ctx._(N_("All right. 👍"))))


async def sheet_messages(ctx: FlowContext, data: ChosenEventData) -> list[OutMessage]:
    event = await chosen_event(ctx, data)
    heading, files = await sheet_files(ctx.services, ctx.translator, event)
    await log_if_co_organiser(
        ctx.services, event, ctx.person, Action.PRINTED, is_admin=ctx.is_admin
    )
    captions = (
        ctx._(N_("A sign-in sheet to print: {heading}")).format(heading=heading),
        ctx._(N_("Those coming, as a table (CSV).")),
    )
    return [
        OutMessage(caption, attachment=Attachment(name, content, mime))
        for caption, (name, content, mime) in zip(captions, files, strict=True)
    ]


class WriteToAttendees(Question[ChosenEventData]):
    state = AttendeesStep.WRITE

    async def ask(self, ctx: FlowContext, data: ChosenEventData) -> OutMessage:
        return write_question(ctx)

    async def take(self, ctx: FlowContext, data: ChosenEventData, answer: Answer) -> Transition:
        event = await chosen_event(ctx, data)
        sent = await send_note(ctx, event, data, answer, longest=MAX_NOTE)
        if sent.ends:  # what was done, not what was said: the words are not kept twice
            await log_if_co_organiser(
                ctx.services, event, ctx.person, Action.WROTE, is_admin=ctx.is_admin
            )
        return sent


class Attendees(ManageEventFlow[TaskNoteData]):
    name = "attendees"
    data_model = TaskNoteData
    co_organisers_may = True
    commands = (
        CommandSpec(
            "attendees",
            "deltagere",
            N_("See who is coming, and write to them"),
            role=Role.COORDINATOR,
            co_organisers_too=True,
        ),
    )

    def __init__(self, *, bot_username: str | None = None) -> None:
        # the task note's data holds the chosen event too, so every question reads it
        asked: tuple[Question[Any], ...] = (
            ChooseEventToList(),
            ListAttendees(bot_username),
            WriteToAttendees(),
            TickNames(),
            ChooseTaskToWrite(),
            WriteToTaskPeople(),
        )
        self._questions: dict[str, Question[TaskNoteData]] = by_state(*asked)

    @property
    def questions(self) -> Mapping[str, Question[TaskNoteData]]:
        return self._questions

    async def detached(self, ctx: FlowContext, prompt: Prompt, choice_id: str) -> Transition | None:
        """ "See who is coming" on the message that made someone a co-organiser."""
        if prompt.state != HELPER_STATE or choice_id != "list":
            return None
        event_id = prompt.context.get("event_id")
        event = await managed_event(
            ctx, event_id if isinstance(event_id, int) else None, assisting=True
        )
        if event is None:
            return Transition.end(OutMessage(ctx._(N_("You no longer help to run that event."))))
        return await list_attendees(ctx, event)

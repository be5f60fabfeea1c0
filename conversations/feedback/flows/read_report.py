"""`/report`: a coordinator picks one of their events and reads what people said about it
(see `rules/report.py` for what the report holds); before it starts, how it looks now:
who is coming, the waiting list, the tasks and the hands still missing.

Only the event's own coordinator (its creator), its co-organisers and admins get a report;
checked on the server at every step, and a co-organiser's reading is logged.
"""

from __future__ import annotations

from enum import StrEnum

from conversations.core.choice_ids import EVENT, IDEA
from conversations.core.commands import CommandSpec
from conversations.core.flow import Answer, Flow, FlowContext, NoData, Transition
from conversations.core.i18n import N_
from conversations.core.messages import Choice, OutMessage
from conversations.core.prompts import offer_to
from conversations.events.flows.pick_event import can_assist, can_manage, only_coordinators
from conversations.events.rules.live_view import live_view
from conversations.events.rules.organisers import Action, log_if_co_organiser
from conversations.feedback.rules.next_meeting import next_time_ideas
from conversations.feedback.rules.report import build_report
from storage.models import Event, Role

COPY_FLOW = "copyevent"  # an idea's tap starts a copy of the event, the idea its text
IDEA_STATE = "idea"


class ReportStep(StrEnum):
    CHOOSE = "choose"


async def reportable(ctx: FlowContext) -> list[Event]:
    """Upcoming ones first (the live view), then those that took place, newest first: a
    coordinator's own (an admin's: all) and those this person co-organises."""
    events: list[Event] = []
    if ctx.is_coordinator:
        events += await ctx.uow.events.managed_by(None if ctx.is_admin else ctx.person.id)
    known = {e.id for e in events}
    events += [e for e in await ctx.uow.organisers.events_of(ctx.person.id) if e.id not in known]
    events.sort(key=lambda e: e.starts_at, reverse=True)
    return events[:9]


class Report(Flow):
    name = "report"
    data_model = NoData
    commands = (
        CommandSpec(
            "report",
            "rapport",
            N_("What people said about an event"),
            role=Role.COORDINATOR,
            co_organisers_too=True,
        ),
    )

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        if args.strip().isdigit():  # one event, from the attendee list (a helper's way here)
            return await report_on(ctx, await ctx.uow.events.get(int(args.strip())))
        if not await reportable(ctx):
            if not ctx.is_coordinator:
                return only_coordinators(ctx)
            return Transition.end(OutMessage(ctx._(N_("You have no events yet."))))
        return Transition.go(ReportStep.CHOOSE, NoData())

    async def prompt(self, ctx: FlowContext, state: str, data: NoData) -> OutMessage:
        events = await reportable(ctx)
        choices = tuple(
            Choice(EVENT.of(e.id), f"{e.title} · {ctx.when(e.starts_at)}") for e in events
        )
        return OutMessage(ctx._(N_("Which event would you like a report on?")), choices=choices)

    async def handle(
        self, ctx: FlowContext, state: str, data: NoData, answer: Answer
    ) -> Transition:
        event_id = EVENT.parse(answer.choice)  # who may read it: checked in `report_on`
        return await report_on(
            ctx, await ctx.uow.events.get(event_id) if event_id is not None else None
        )


async def report_on(ctx: FlowContext, event: Event | None) -> Transition:
    """The report, or before the start the live view; for those who may help run it."""
    if event is None or not await can_assist(ctx, event):
        return Transition.end(OutMessage(ctx._(N_("You can only see reports on your own events."))))
    await log_if_co_organiser(ctx.services, event, ctx.person, Action.REPORT, is_admin=ctx.is_admin)
    if event.starts_at > ctx.now():
        return Transition.end(OutMessage(await live_view(ctx.services, ctx.translator, event)))
    messages = await build_report(ctx.services, ctx.translator, event)
    offer = await next_meeting_offer(ctx, event) if can_manage(ctx, event) else None
    return Transition.end(*messages, *([offer] if offer else []))


async def next_meeting_offer(ctx: FlowContext, event: Event) -> OutMessage | None:
    """The ideas for next time, each a tap away from a new event made from this one."""
    ideas = await next_time_ideas(ctx.services, event)
    if not ideas:
        return None
    message = OutMessage(
        ctx._(
            N_(
                "Make one of the ideas the next meeting? Tap one: I start a new event "
                "like this one with the idea as its text, and those who gave it hear when "
                "it happens."
            )
        ),
        choices=tuple(Choice(IDEA.of(i.id), "💡 " + _short(i.text)) for i in ideas),
    )
    return await offer_to(
        ctx.uow,
        ctx.ref,
        ctx.person.id,
        COPY_FLOW,
        message,
        state=IDEA_STATE,
        context={"event_id": event.id},
    )


def _short(text: str, longest: int = 48) -> str:
    text = " ".join(text.split())
    return text if len(text) <= longest else text[: longest - 1] + "…"

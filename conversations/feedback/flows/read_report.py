"""`/report`: what people said about an event, for its coordinators.

Only the event's own coordinator (its creator) and admins get a report; checked on the
server at every step.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from conversations.core.commands import CommandSpec
from conversations.core.flow import Answer, Flow, FlowContext, Transition
from conversations.core.i18n import N_
from conversations.core.messages import Choice, OutMessage
from conversations.events.flows.pick_event import can_manage, only_coordinators
from conversations.feedback.rules.report import build_report
from storage.models import Event, Role


class ReportStep(StrEnum):
    CHOOSE = "choose"


async def reportable(ctx: FlowContext) -> list[Event]:
    owner = None if ctx.is_admin else ctx.person.id
    now = ctx.now()
    return [e for e in await ctx.uow.events.managed_by(owner) if e.starts_at <= now][:9]


class Report(Flow):
    name = "report"
    commands = (
        CommandSpec(
            "report", "rapport", N_("What people said about an event"), role=Role.COORDINATOR
        ),
    )

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        if not ctx.is_coordinator:
            return only_coordinators(ctx)
        if not await reportable(ctx):
            return Transition.end(OutMessage(ctx._(N_("None of your events has taken place yet."))))
        return Transition.go(ReportStep.CHOOSE, {})

    async def prompt(self, ctx: FlowContext, state: str, data: dict[str, Any]) -> OutMessage:
        events = await reportable(ctx)
        choices = tuple(Choice(f"e{e.id}", f"{e.title} · {ctx.when(e.starts_at)}") for e in events)
        return OutMessage(ctx._(N_("Which event would you like a report on?")), choices=choices)

    async def handle(
        self, ctx: FlowContext, state: str, data: dict[str, Any], answer: Answer
    ) -> Transition:
        if not ctx.is_coordinator:
            return only_coordinators(ctx)
        choice = answer.choice or ""
        event = (
            await ctx.uow.events.get(int(choice[1:]))
            if choice.startswith("e") and choice[1:].isdigit()
            else None
        )
        if event is None or not can_manage(ctx, event) or event.starts_at > ctx.now():
            return Transition.end(
                OutMessage(ctx._(N_("You can only see reports on your own events.")))
            )
        messages = await build_report(ctx.uow, ctx.translator, event, ctx.config.timezone)
        return Transition.end(*messages)

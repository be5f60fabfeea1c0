"""The first question of a coordinator's event tools: which of my events? And who may
manage an event (its creator, or an admin), checked again at every step.
"""

from __future__ import annotations

from datetime import timedelta

from conversations.core.flow import Answer, FlowContext, Transition
from conversations.core.i18n import N_
from conversations.core.messages import Choice, OutMessage
from conversations.events.flows.new_event import only_coordinators
from storage.models import Event

CHOOSE = "choose"


def can_manage(ctx: FlowContext, event: Event | None) -> bool:
    if event is None or not ctx.is_coordinator:
        return False
    return ctx.is_admin or event.created_by_id == ctx.person.id


async def manageable(ctx: FlowContext) -> list[Event]:
    owner = None if ctx.is_admin else ctx.person.id
    events = await ctx.uow.events.managed_by(owner)
    recent = ctx.now() - timedelta(days=2)
    return [e for e in events if e.starts_at > recent][:9]


async def choose_event_question(ctx: FlowContext, text: str) -> OutMessage:
    events = await manageable(ctx)
    if not events:
        return OutMessage(ctx._(N_("You have no published events yet. /newevent creates one.")))
    choices = tuple(Choice(f"e{e.id}", f"{e.title} · {ctx.when(e.starts_at)}") for e in events)
    return OutMessage(text, choices=choices)


async def picked_event(ctx: FlowContext, answer: Answer) -> Event | None:
    choice = answer.choice or ""
    if not (choice.startswith("e") and choice[1:].isdigit()):
        return None
    event = await ctx.uow.events.get(int(choice[1:]))
    return event if can_manage(ctx, event) else None


async def start_choosing(ctx: FlowContext, empty_ok: bool = False) -> Transition:
    if not ctx.is_coordinator:
        return only_coordinators(ctx)
    if not await manageable(ctx):
        return Transition.end(
            OutMessage(ctx._(N_("You have no published events yet. /newevent creates one.")))
        )
    return Transition.go(CHOOSE, {})

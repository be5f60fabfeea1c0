"""Sending a broadcast again to the people who may not have got it: the button under the
coordinator's summary ("Send it again to them"), or its words typed.

The button proves nothing: the broadcast must be this coordinator's own (or the tap an
admin's), checked here on the server. What it sends is decided in rules/resending.py.
"""

from __future__ import annotations

from conversations.core.flow import FlowContext, SingleStepFlow, Transition
from conversations.core.i18n import N_
from conversations.core.messages import OutMessage
from conversations.events.rules.resending import (
    SEND_AGAIN,
    SEND_AGAIN_FLOW,
    Resent,
    send_again,
)
from storage.models import Batch, Prompt


def may_send_again(ctx: FlowContext, batch: Batch) -> bool:
    """The coordinator who started the broadcast, or an admin."""
    own = batch.reporter_person_id is not None and batch.reporter_person_id == ctx.person.id
    return ctx.is_admin or (own and ctx.is_coordinator)


def resent_text(ctx: FlowContext, resent: Resent) -> str:
    if resent.sent:
        lines = [
            ctx.ngettext(
                "On its way again to {n} person.", "On its way again to {n} people.", resent.sent
            ).format(n=resent.sent)
        ]
    elif resent.already:
        return ctx._(N_("Already sent again."))
    else:
        lines = []
    if resent.answered:
        lines.append(
            ctx.ngettext(
                "{n} person has answered already, so it did reach them.",
                "{n} people have answered already, so it did reach them.",
                resent.answered,
            ).format(n=resent.answered)
        )
    if resent.too_late:
        lines.append(
            ctx.ngettext(
                "It is too late for {n} person: the event has begun or is no longer open.",
                "It is too late for {n} people: the event has begun or is no longer open.",
                resent.too_late,
            ).format(n=resent.too_late)
        )
    if not lines:
        lines.append(ctx._(N_("There is nobody left to send it to again.")))
    return "\n".join(lines)


class SendAgain(SingleStepFlow):
    """Opened only by its button (a stored question, see bot/progress.py): no command."""

    name = SEND_AGAIN_FLOW

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        raise AssertionError(f"{self.name} is opened by its button only")

    async def detached(self, ctx: FlowContext, prompt: Prompt, choice_id: str) -> Transition | None:
        batch_id = prompt.context.get("batch")
        if choice_id != SEND_AGAIN or not isinstance(batch_id, str):
            return None
        batch = await ctx.uow.batches.get(batch_id)
        if batch is None:
            return Transition.end(OutMessage(ctx._(N_("I can't find that message any more."))))
        if prompt.person_id != ctx.person.id or not may_send_again(ctx, batch):
            text = ctx._(N_("Only the coordinator who sent that message can send it again, sorry."))
            return Transition.end(OutMessage(text))
        resent = await send_again(ctx.services, batch)
        return Transition.end(OutMessage(resent_text(ctx, resent)))

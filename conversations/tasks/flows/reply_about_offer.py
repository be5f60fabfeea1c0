"""The Answer button on a message carried about an offer: write back, carried the same way."""

from __future__ import annotations

from enum import StrEnum

from conversations.core.flow import Answer, Flow, FlowContext, FlowData, Transition
from conversations.core.i18n import N_
from conversations.core.messages import OutMessage
from conversations.tasks.rules.offers import CARRY_FLOW, MAX_MESSAGE, carry
from storage.models import Prompt


class CarryStep(StrEnum):
    WRITE = "write"


class ReplyData(FlowData):
    reply_to: int  # the carried message being answered


class CarriedMessages(Flow):
    """The Answer button on a carried message: write back, carried the same way."""

    name = CARRY_FLOW
    data_model = ReplyData

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        return Transition.end(OutMessage(ctx._(N_("Tap Answer on a message to reply to it."))))

    async def detached(self, ctx: FlowContext, prompt: Prompt, choice_id: str) -> Transition | None:
        message_id = prompt.context.get("message_id")
        row = (
            await ctx.uow.offers.offer_message(message_id) if isinstance(message_id, int) else None
        )
        if row is None or prompt.person_id != ctx.person.id or row.recipient_id != ctx.person.id:
            return Transition.end(OutMessage(ctx._(N_("That message wasn't for you."))))
        if choice_id == "noreply":
            return Transition.end(OutMessage(ctx._(N_("All right. Nothing more is sent."))))
        if choice_id != "reply":
            return None
        return Transition.go(CarryStep.WRITE, ReplyData(reply_to=row.id))

    async def prompt(self, ctx: FlowContext, state: str, data: ReplyData) -> OutMessage:
        return OutMessage(
            ctx._(
                N_(
                    "Write your answer. I pass on exactly what you write, nothing else; "
                    "add a phone number only if you want to."
                )
            ),
            expects_text=True,
        )

    async def handle(
        self, ctx: FlowContext, state: str, data: ReplyData, answer: Answer
    ) -> Transition:
        note = (answer.text or "").strip()
        if not note or len(note) > MAX_MESSAGE:
            return Transition.stay(data, OutMessage(ctx._(N_("Please write a short message."))))
        row = await ctx.uow.offers.offer_message(data.reply_to)
        if row is None or row.recipient_id != ctx.person.id:
            return Transition.end(OutMessage(ctx._(N_("That message wasn't for you."))))
        item = await ctx.uow.offers.offer(row.offer_id)
        if item is None or not await carry(
            ctx.services,
            item,
            note,
            sender_id=ctx.person.id,
            recipient_id=row.sender_id,
            first=False,
        ):
            return Transition.end(OutMessage(ctx._(N_("I can't reach them right now, sorry."))))
        return Transition.end(OutMessage(ctx._(N_("Sent. ✉️"))))

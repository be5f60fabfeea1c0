"""Redeeming a one-time coordinator code, typed (`/coordinator CODE`) or from a link."""

from __future__ import annotations

from enum import StrEnum

from conversations.core.commands import CommandSpec
from conversations.core.flow import Answer, Flow, FlowContext, NoData, Transition
from conversations.core.i18n import N_
from conversations.core.messages import OutMessage
from storage.models import AuditAction, Role


class Step(StrEnum):
    CODE = "code"


class RedeemInvite(Flow):
    name = "coordinator"
    data_model = NoData
    commands = (
        CommandSpec("coordinator", "koordinator", N_("Use a coordinator code"), in_menu=False),
    )
    link_prefix = "co"

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        if args.strip():
            return await self._redeem(ctx, args.strip())
        return Transition.go(Step.CODE, NoData())

    async def prompt(self, ctx: FlowContext, state: str, data: NoData) -> OutMessage:
        return OutMessage(
            ctx._(N_("Please type the coordinator code you were given (like ABCDE-FGHIJ).")),
            expects_text=True,
        )

    async def handle(
        self, ctx: FlowContext, state: str, data: NoData, answer: Answer
    ) -> Transition:
        return await self._redeem(ctx, (answer.text or "").strip(), data)

    async def _redeem(self, ctx: FlowContext, code: str, data: NoData | None = None) -> Transition:
        if ctx.is_coordinator:
            return Transition.end(OutMessage(ctx._(N_("You are already a coordinator."))))
        invite = await ctx.uow.invites.redeem(code, ctx.person.id) if code else None
        if invite is None:
            sorry = OutMessage(
                ctx._(
                    N_(
                        "That code doesn't work. It may be mistyped, used already or expired. "
                        "Ask the person who gave it to you for a new one."
                    )
                )
            )
            return Transition.end(sorry)
        await ctx.uow.persons.set_role(ctx.person, Role(invite.role))
        await ctx.uow.audit.record(
            AuditAction.ROLE_GRANTED, actor_id=invite.created_by_id, subject_id=ctx.person.id
        )
        return Transition.end(
            OutMessage(
                ctx._(
                    N_(
                        "Welcome as a coordinator! 🎉 You can now create events and follow "
                        "who is coming. Write /help to see your commands."
                    )
                )
            )
        )

"""`/forget`: delete everything about me, after one confirmation."""

from __future__ import annotations

from enum import StrEnum

from conversations.core.commands import CommandSpec
from conversations.core.flow import Answer, Flow, FlowContext, NoData, Transition
from conversations.core.i18n import N_
from conversations.core.messages import OutMessage
from conversations.core.words import NO_WORDS
from conversations.feedback.rules.snaps import remove_files
from storage.models import AuditAction


class ForgetStep(StrEnum):
    CONFIRM = "confirm"


class Forget(Flow):
    name = "forget"
    data_model = NoData
    commands = (
        CommandSpec(
            "forget",
            "glem",
            N_("Delete everything about you"),
            needs_consent=False,
            allowed_when_stopped=True,
            button=N_("Delete my data"),
        ),
    )

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        return Transition.go(ForgetStep.CONFIRM, NoData())

    async def prompt(self, ctx: FlowContext, state: str, data: NoData) -> OutMessage:
        return OutMessage(
            ctx._(
                N_(
                    "Do you want me to delete everything I know about you? Your name, settings "
                    "and answers will be gone for good. Counts without names (like how many came "
                    "to an event) stay. This cannot be undone."
                )
            ),
            choices=(
                ctx.choice("delete", N_("Yes, delete everything"), "🗑", "slet", "delete"),
                ctx.choice("keep", N_("No, keep it"), "↩️", *NO_WORDS),
            ),
        )

    async def handle(
        self, ctx: FlowContext, state: str, data: NoData, answer: Answer
    ) -> Transition:
        if answer.choice != "delete":
            return Transition.end(OutMessage(ctx._(N_("OK, I haven't deleted anything."))))
        goodbye = ctx._(
            N_(
                "Done. I have deleted everything about you. Thank you for the time we had. "
                "If you write to me again, we start afresh."
            )
        )
        # recorded first: forgetting then clears who it was, and the entry keeps only when
        await ctx.uow.audit.record(AuditAction.FORGET_REQUESTED, actor_id=ctx.person.id)
        files = await ctx.uow.feedback.snap_paths_of(ctx.person.id)
        await ctx.uow.personal_records.forget(ctx.person.id)
        remove_files(files)  # the stored photos and voice notes, not only their rows
        return Transition.end(OutMessage(goodbye))

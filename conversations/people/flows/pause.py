"""`/stop`: no more messages from the bot until `/start`."""

from __future__ import annotations

from conversations.core.commands import CommandSpec
from conversations.core.flow import FlowContext, SingleStepFlow, Transition
from conversations.core.i18n import N_
from conversations.core.messages import OutMessage
from storage.models import PersonStatus


class Stop(SingleStepFlow):
    """`/stop`: no more messages from the bot until `/start`."""

    name = "stop"
    commands = (
        CommandSpec(
            "stop",
            "pause",
            N_("Pause messages from me"),
            button=N_("Pause"),
            needs_consent=False,  # "stop" is respected at once, never met with a question
        ),
    )

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        ctx.person.status = PersonStatus.STOPPED
        ctx.uow.persons.touch(ctx.person)
        return Transition.end(
            OutMessage(
                ctx._(
                    N_(
                        "I won't send you anything now. Write /start whenever you want to hear "
                        "from me again. What I keep about you is still there; /forget deletes it."
                    )
                )
            )
        )

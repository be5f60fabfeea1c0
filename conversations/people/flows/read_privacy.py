"""`/privacy` (`/privatliv`): the municipality's privacy notice, at any time, before consent
too."""

from __future__ import annotations

from conversations.core.commands import CommandSpec
from conversations.core.flow import FlowContext, SingleStepFlow, Transition
from conversations.core.i18n import N_
from conversations.core.messages import OutMessage
from conversations.people.privacy_notice import PrivacyNotice, render_notice


class ReadPrivacy(SingleStepFlow):
    name = "privacy"
    commands = (
        CommandSpec(
            "privacy",
            "privatliv",
            N_("How your information is looked after"),
            needs_consent=False,
            allowed_when_stopped=True,
        ),
    )

    def __init__(self, notice: PrivacyNotice) -> None:
        self._notice = notice

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        return Transition.end(OutMessage(render_notice(self._notice, ctx.translator)))

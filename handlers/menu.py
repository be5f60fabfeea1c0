"""`/help`: what the bot can do for this person, as text and as buttons."""

from __future__ import annotations

from conversations.core.commands import permits
from conversations.core.flow import FlowContext, SingleStepFlow, Transition
from conversations.core.i18n import N_
from conversations.core.messages import Choice, OutMessage
from conversations.core.prompts import offer
from handlers.commands import CommandRegistry
from storage.models import ConsentState, PersonStatus, Prompt

MENU_BUTTONS = 6  # a few taps: the rest are listed as commands in the text
MENU_EMOJI = ("1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣", "6️⃣", "7️⃣", "8️⃣", "9️⃣")


class Menu(SingleStepFlow):
    name = "menu"

    def __init__(self, commands: CommandRegistry) -> None:
        self._commands = commands

    async def render(self, ctx: FlowContext, *, intro: str | None = None) -> OutMessage:
        language = ctx.translator.language
        specs = self._commands.visible_to(ctx.role)
        lines = [f"/{spec.label(language)} – {ctx._(spec.description)}" for spec in specs]
        text = "\n".join(
            [
                intro or ctx._(N_("This is what I can do:")),
                "",
                *lines,
                "",
                ctx._(
                    N_(
                        "In the middle of something? /back goes one step back and /cancel stops. "
                        "Nothing you answered is lost."
                    )
                ),
            ]
        )
        choices = tuple(
            Choice(spec.name, ctx._(spec.button_label), MENU_EMOJI[i])
            for i, spec in enumerate(specs[:MENU_BUTTONS])
        )
        return await offer(ctx, self, OutMessage(text, choices=choices))

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        return Transition.end(await self.render(ctx))

    async def detached(self, ctx: FlowContext, prompt: Prompt, choice_id: str) -> Transition | None:
        spec = self._commands.find(choice_id)
        if spec is None:
            return None
        if not permits(ctx.role, spec.role):
            return Transition.end(OutMessage(ctx._(N_("Only coordinators can do that."))))
        if ctx.person.status == PersonStatus.STOPPED and not spec.allowed_when_stopped:
            # the same rule as for the typed command (handlers/router.py)
            return Transition.end(
                OutMessage(
                    ctx._(
                        N_("You have paused messages from me. Write /start to switch them back on.")
                    )
                )
            )
        if spec.needs_consent and ctx.person.consent != ConsentState.GIVEN:
            ctx.continue_with = spec.after_onboarding("")
            return Transition.end(then=("onboarding", ""))
        return Transition.end(then=(spec.flow, spec.args))

"""A new version of the privacy notice: asked at the person's next message.

The router sends every message here (commands that need no consent aside: /privacy,
/forget, /mydata, /stop) until the person has answered, so nothing new is stored about
them under terms they have not seen. Yes records the new version; no pauses messages and
keeps what is there until /forget deletes it.
"""

from __future__ import annotations

from conversations.core.flow import Answer, Flow, FlowContext, FlowData, Transition
from conversations.core.i18n import N_
from conversations.core.messages import OutMessage
from conversations.core.words import NO_WORDS, YES_WORDS
from conversations.people.privacy_notice import PrivacyNotice, render_notice
from storage.models import PersonStatus

ASK = "accept"


class AcceptNewPrivacy(Flow):
    name = "accept_privacy"
    data_model = FlowData

    def __init__(self, notice: PrivacyNotice) -> None:
        self._notice = notice

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        news = ctx._(
            N_(
                "Before we go on: we have updated how we describe what we keep about you and "
                "who handles it (version {version}). Nothing new is kept about you until you "
                "have said yes."
            )
        ).format(version=self._notice.version)
        return Transition.go(ASK, FlowData(), OutMessage(news))

    async def prompt(self, ctx: FlowContext, state: str, data: FlowData) -> OutMessage:
        return OutMessage(
            ctx._(N_("Is that all right with you?")),
            choices=(
                ctx.choice("yes", N_("Yes, that's fine"), "✅", *YES_WORDS),
                ctx.choice("more", N_("Tell me more"), "❓", "mere", "more", "hvorfor"),
                ctx.choice("no", N_("No thanks"), "🚫", *NO_WORDS),
            ),
        )

    async def handle(
        self, ctx: FlowContext, state: str, data: FlowData, answer: Answer
    ) -> Transition:
        if answer.choice == "more":
            return Transition.stay(data, OutMessage(render_notice(self._notice, ctx.translator)))
        if answer.choice == "yes":
            await ctx.uow.persons.record_consent(ctx.person, ctx.config.consent_version, given=True)
            return Transition.end(OutMessage(ctx._(N_("Thank you! Then we go on as before."))))
        if answer.choice == "no":
            ctx.person.status = PersonStatus.STOPPED
            ctx.uow.persons.touch(ctx.person)
            text = ctx._(
                N_(
                    "That is fine. I won't send you anything now, and nothing new is kept. "
                    "What I already have stays until you delete it with /forget; "
                    "/start when you change your mind."
                )
            )
            return Transition.end(OutMessage(text))
        return Transition.stay(data)

"""`/mydata` shows everything kept about a person; `/forget` deletes it after a yes."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from conversations import profile
from conversations.flow import NO_WORDS, Answer, Flow, FlowContext, SingleStepFlow, Transition
from conversations.i18n import N_
from conversations.messages import Attachment, OutMessage
from storage.models import ConsentState, PersonStatus
from storage.personal_data import export_person, forget_person


class MyData(SingleStepFlow):
    name = "mydata"

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        person = ctx.person
        exported = await export_person(ctx.uow.session, person.id)
        identities = await ctx.uow.persons.identities(person.id)
        if person.consent == ConsentState.GIVEN and person.consent_at is not None:
            consent = ctx._(N_("You said yes on {when} (text version {version}).")).format(
                when=ctx.when(person.consent_at), version=person.consent_version
            )
        elif person.consent == ConsentState.REFUSED:
            consent = ctx._(N_("You said no, so I keep nothing else about you."))
        else:
            consent = ctx._(N_("You have not been asked yet."))
        counts = "\n".join(f"• {table}: {len(rows)}" for table, rows in sorted(exported.items()))
        text = ctx._(
            N_(
                "This is everything I keep about you.\n\n{summary}\n"
                "Consent: {consent}\nReachable on: {platforms}\n\n"
                "Stored records:\n{counts}\n\n"
                "The attached file has all of it. /forget deletes it."
            )
        ).format(
            summary=await profile.profile_summary(ctx),
            consent=consent,
            platforms=", ".join(sorted({i.platform for i in identities})),
            counts=counts,
        )
        payload = json.dumps(exported, ensure_ascii=False, indent=2, default=str).encode()
        attachment = Attachment(
            "mine-data.json" if ctx.translator.language == "da" else "my-data.json",
            payload,
            "application/json",
        )
        return Transition.end(
            OutMessage(text), OutMessage(ctx._(N_("Your data as a file.")), attachment=attachment)
        )


class ForgetStep(StrEnum):
    CONFIRM = "confirm"


class Forget(Flow):
    name = "forget"

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        return Transition.go(ForgetStep.CONFIRM, {})

    async def prompt(self, ctx: FlowContext, state: str, data: dict[str, Any]) -> OutMessage:
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
        self, ctx: FlowContext, state: str, data: dict[str, Any], answer: Answer
    ) -> Transition:
        if answer.choice != "delete":
            return Transition.end(OutMessage(ctx._(N_("Nothing was deleted."))))
        goodbye = ctx._(
            N_(
                "Done. I have deleted everything about you. Thank you for the time we had. "
                "If you write to me again, we start afresh."
            )
        )
        await forget_person(ctx.uow.session, ctx.person.id)
        return Transition.end(OutMessage(goodbye))


class Stop(SingleStepFlow):
    """`/stop`: no more messages from the bot until `/start`."""

    name = "stop"

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

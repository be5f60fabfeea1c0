"""`/mydata` shows everything kept about a person; `/forget` deletes it after a yes."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from conversations import profile
from conversations.flow import NO_WORDS, Answer, Flow, FlowContext, SingleStepFlow, Transition
from conversations.i18n import N_
from conversations.linking import platform_name
from conversations.media import remove_files
from conversations.messages import Attachment, OutMessage
from storage.models import ConsentState, PersonStatus
from storage.personal_data import export_person, forget_person

# What each kind of record means to the person reading /mydata. A table missing here is
# still listed, by its name, so nothing is ever hidden from the export.
RECORD_LABELS = {
    "persons": N_("Your profile"),
    "identities": N_("Chats where I can reach you"),
    "consent_records": N_("Your yes or no to what I keep"),
    "person_topics": N_("Interests and areas you chose"),
    "conversations": N_("A conversation we are in the middle of"),
    "prompts": N_("Questions I have sent you"),
    "invite_codes": N_("Coordinator codes"),
    "outbox": N_("Messages waiting to be sent to you"),
    "link_codes": N_("Codes for joining your chats on other apps"),
    "invitations": N_("Events you were invited to"),
    "rsvps": N_("Your answers to invitations"),
    "reminders": N_("Reminders for events"),
    "events": N_("Events you created"),
    "feedback_requests": N_("Events you were asked about afterwards"),
    "feedback_answers": N_("Your good and bad for each step of an event"),
    "feedback_comments": N_("What you wrote or said about a step"),
    "feedback_ideas": N_("What matters to you, and ideas for next time"),
    "snaps": N_("Photos and voice notes you shared"),
    "snap_consents": N_("Your yes or no to sharing photos"),
    "pledges": N_("Tasks you said you would help with"),
    "task_asks": N_("Tasks I asked you to help with, or you said no to"),
    "offers": N_("What you offered to give"),
    "offer_messages": N_("Messages about offers of help"),
    "moderation_log": N_("What you did as a coordinator with initiatives"),
}


class MyData(SingleStepFlow):
    name = "mydata"

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        person = ctx.person
        exported = await export_person(ctx.uow.session, person.id)
        identities = await ctx.uow.persons.identities(person.id)
        if person.consent == ConsentState.GIVEN and person.consent_at is not None:
            consent = ctx._(N_("You said yes on {when} (to the text from {version}).")).format(
                when=ctx.when(person.consent_at), version=person.consent_version
            )
        elif person.consent == ConsentState.REFUSED:
            consent = ctx._(N_("You said no, so I keep nothing else about you."))
        else:
            consent = ctx._(N_("You have not been asked yet."))
        records = "\n".join(
            f"• {ctx._(RECORD_LABELS[table]) if table in RECORD_LABELS else table}: {len(rows)}"
            for table, rows in sorted(exported.items())
        )
        text = ctx._(
            N_(
                "This is everything I keep about you.\n\n{summary}\n"
                "Your permission: {consent}\nWhere I can reach you: {platforms}\n\n"
                "What is stored, and how much:\n{records}\n\n"
                "The attached file has all of it. /forget deletes it."
            )
        ).format(
            summary=await profile.profile_summary(ctx),
            consent=consent,
            platforms=", ".join(sorted({platform_name(i.platform) for i in identities})),
            records=records,
        )
        payload = json.dumps(exported, ensure_ascii=False, indent=2, default=str).encode()
        filename = ctx._(N_("my-data.json"))
        attachment = Attachment(filename, payload, "application/json")
        file_message = OutMessage(ctx._(N_("Your data as a file.")), attachment=attachment)
        return Transition.end(OutMessage(text), file_message)


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
            return Transition.end(OutMessage(ctx._(N_("OK, I haven't deleted anything."))))
        goodbye = ctx._(
            N_(
                "Done. I have deleted everything about you. Thank you for the time we had. "
                "If you write to me again, we start afresh."
            )
        )
        files = await ctx.uow.feedback.snap_paths_of(ctx.person.id)
        await forget_person(ctx.uow.session, ctx.person.id)
        remove_files(files)  # the stored photos and voice notes, not only their rows
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

"""`/mydata`: a readable summary of everything kept about me, and the whole of it as a file."""

from __future__ import annotations

import json

from conversations.core.commands import CommandSpec
from conversations.core.flow import FlowContext, SingleStepFlow, Transition
from conversations.core.i18n import N_
from conversations.core.messages import Attachment, OutMessage
from conversations.people import profile_questions as profile
from conversations.people.flows.link_accounts import platform_name
from conversations.people.retention import RetentionPolicy, retention_lines
from storage.models import ConsentState

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
    """`retention`: how long things are kept, told with the summary."""

    name = "mydata"
    commands = (
        CommandSpec(
            "mydata",
            "minedata",
            N_("See everything I keep about you"),
            needs_consent=False,
            allowed_when_stopped=True,
            button=N_("My data"),
        ),
    )

    def __init__(self, retention: RetentionPolicy | None = None) -> None:
        self._retention = retention or RetentionPolicy()

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        person = ctx.person
        exported = await ctx.uow.personal_records.export(person.id)
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
                "How long it is kept:\n{retention}\n\n"
                "The attached file has all of it. /forget deletes it."
            )
        ).format(
            summary=await profile.profile_summary(ctx),
            consent=consent,
            platforms=", ".join(sorted({platform_name(i.platform) for i in identities})),
            records=records,
            retention=retention_lines(self._retention, ctx.translator),
        )
        payload = json.dumps(exported, ensure_ascii=False, indent=2, default=str).encode()
        filename = ctx._(N_("my-data.json"))
        attachment = Attachment(filename, payload, "application/json")
        file_message = OutMessage(ctx._(N_("Your data as a file.")), attachment=attachment)
        return Transition.end(OutMessage(text), file_message)

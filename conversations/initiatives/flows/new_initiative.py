"""`/initiative`: any citizen who has consented posts an event or an idea of their own.

An initiative is an `Event` with `origin="initiative"`: joining it, its tasks, pledges and
reminders work exactly as for events. The author is down as coming (so gets the reminders).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from conversations.core.commands import CommandSpec
from conversations.core.flow import Answer, FlowContext, Transition
from conversations.core.i18n import N_
from conversations.core.messages import OutMessage
from conversations.events.flows.new_event import NewEvent, Step, skip_choice
from conversations.events.rules.journey import DEFAULT_JOURNEY
from conversations.events.rules.reminders import DEFAULT_REMINDERS, sync_reminders
from conversations.events.rules.wording import link_payload
from conversations.initiatives.rules.pushes import initiative_status, request_push
from storage.models import (
    Event,
    EventOrigin,
    EventStatus,
    RsvpAnswer,
)
from storage.repositories.audiences import AUDIENCE_INITIATIVE

IDEA_OPEN_FOR = timedelta(days=60)


class NewInitiative(NewEvent):
    """The event questions minus capacity, guests, journey, reminders, audience and sending."""

    name = "initiative"
    commands = (
        CommandSpec(
            "initiative",
            "initiativ",
            N_("Start an initiative of your own"),
            button=N_("Start an initiative"),
        ),
    )
    skipped = frozenset(
        {
            Step.CAPACITY,
            Step.GUESTS,
            Step.JOURNEY,
            Step.REMINDERS,
            Step.AUDIENCE,
            Step.EARLIER,
            Step.SEND,
            Step.SEND_AT,
        }
    )

    def allowed(self, ctx: FlowContext) -> bool:
        return True  # any citizen who has consented (the command checks consent)

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        intro = ctx._(
            N_(
                "Let's start your initiative! 🌱 Something you'd like to do with others, or an "
                "idea. I'll ask a few things; /back goes back, /cancel stops."
            )
        )
        data: dict[str, Any] = {
            "journey": list(DEFAULT_JOURNEY),
            "reminders": list(DEFAULT_REMINDERS),
            "capacity": None,
            "guests": False,
            "tasks": [],
            "topic_ids": [],
        }
        return Transition.go(Step.TITLE, data, OutMessage(intro))

    async def prompt(self, ctx: FlowContext, state: str, data: dict[str, Any]) -> OutMessage:
        question = await super().prompt(ctx, state, data)
        match Step(state):
            case Step.WHEN:
                idea = ctx.choice("idea", N_("It's an idea, no date yet"), "💡", "idé", "idea")
                return OutMessage(question.text, choices=(idea,), expects_text=True)
            case Step.PLACE:
                return OutMessage(question.text, choices=(skip_choice(ctx),), expects_text=True)
            case Step.TASKS:
                text = ctx._(
                    N_(
                        "What could others help with? One per line, with how many hands, for "
                        'example "medbring kage x2". Tap Done when the list is complete, or '
                        "right away if you need no help."
                    )
                )
                listed = question.text.split("\n\n", 1)
                if len(listed) == 2:
                    text += "\n\n" + listed[1]
                return OutMessage(text, choices=question.choices, expects_text=True)
            case Step.TOPICS:
                return OutMessage(
                    ctx._(
                        N_(
                            "Which interests or areas does it belong to? People who chose them "
                            "and want to hear about initiatives get a message. Tap them, then "
                            "Done."
                        )
                    ),
                    choices=question.choices,
                )
        return question

    async def handle(
        self, ctx: FlowContext, state: str, data: dict[str, Any], answer: Answer
    ) -> Transition:
        match Step(state):
            case Step.WHEN:
                if answer.choice == "idea":
                    data["idea"] = True
                    data["start"] = (ctx.now() + IDEA_OPEN_FOR).isoformat()
                    data["end"] = None
                    return self._go(Step.PLACE, data)
                data["idea"] = False
            case Step.PLACE:
                if answer.choice == "skip":
                    data["place"] = ""
                    return self._go(Step.CAPACITY, data)
            case Step.TOPICS:
                if answer.choice == "done":
                    chosen = [int(t) for t in data.get("topic_ids", [])]
                    data["audience"] = {"kind": AUDIENCE_INITIATIVE, "topic_ids": chosen}
                    return self._go(Step.PREVIEW, data)
            case Step.CONFIRM_WHEN:
                if data.get("idea"):
                    return self._go(Step.PLACE, data)
        return await super().handle(ctx, state, data, answer)

    async def _preview(self, ctx: FlowContext, data: dict[str, Any]) -> str:
        lines = [ctx._(N_("This is how it will look:")), "", f"🌱 {data['title']}"]
        if data.get("text"):
            lines += ["", data["text"]]
        if data.get("idea"):
            lines += ["", "💡 " + ctx._(N_("An idea: no date yet."))]
        else:
            lines += ["", "🗓 " + self._when(ctx, data)]
        if data.get("place"):
            lines.append("📍 " + data["place"])
        for title, hands in data.get("tasks", []):
            lines.append(ctx._(N_("• {task} ×{hands}")).format(task=title, hands=hands))
        names = []
        for topic_id in data.get("topic_ids", []):
            topic = await ctx.uow.topics.get(int(topic_id))
            if topic is not None:
                names.append(topic.name(ctx.translator.language))
        lines.append(
            ctx._(N_("Sent to people who want to hear about initiatives in: {topics}")).format(
                topics=", ".join(names) or ctx._(N_("any interest or area"))
            )
        )
        return "\n".join(lines)

    def _event_fields(self, ctx: FlowContext, data: dict[str, Any]) -> dict[str, Any]:
        fields = super()._event_fields(ctx, data)
        fields.update(
            origin=EventOrigin.INITIATIVE,
            idea=bool(data.get("idea")),
            send_at=None,
            reminder_offsets=[] if data.get("idea") else list(DEFAULT_REMINDERS),
            audience=dict(data.get("audience", {"kind": AUDIENCE_INITIATIVE, "topic_ids": []})),
        )
        return fields

    async def _after_create(
        self, ctx: FlowContext, event: Event, data: dict[str, Any]
    ) -> Transition:
        now = ctx.now()
        event.status = EventStatus.PUBLISHED
        event.published_at = now
        await ctx.uow.events.set_rsvp(event.id, ctx.person.id, RsvpAnswer.YES, 0)
        await sync_reminders(ctx.uow, event, ctx.person.id, RsvpAnswer.YES, now)
        await push_from_flow(ctx, event)
        text = ctx._(N_("Your initiative is posted! 🎉")) + "\n"
        text += initiative_status(ctx.translator, event, ctx.config.timezone)
        text += "\n\n" + ctx._(
            N_(
                "Anyone can open it with: /start {payload}\n"
                "/myinitiatives shows who joins; /tasks changes the tasks."
            )
        ).format(payload=link_payload(event))
        return Transition.end(OutMessage(text))


async def push_from_flow(ctx: FlowContext, event: Event, *, approved: bool = False) -> str:
    """`request_push` with what a flow knows: the limits and coordinators in its settings."""
    return await request_push(
        ctx.services,
        event,
        per_day=ctx.config.initiative_pushes_per_day,
        approved=approved,
        named_coordinators=ctx.config.named_coordinators,
    )

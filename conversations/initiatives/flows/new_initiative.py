"""`/initiative`: any citizen who has consented posts an event or an idea of their own.

An initiative is an `Event` with `origin="initiative"`: joining it, its tasks, pledges and
reminders work exactly as for events. The author is down as coming (so gets the reminders).
It asks some of `/newevent`'s questions, a few of them worded for a citizen.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from conversations.core.commands import CommandSpec
from conversations.core.flow import Answer, FlowContext, Transition
from conversations.core.i18n import N_
from conversations.core.messages import OutMessage
from conversations.core.questions import Question, QuestionFlow, by_state
from conversations.events.flows.new_event.audience_and_sending import TopicsQuestion
from conversations.events.flows.new_event.draft import (
    LOCATION_STEPS,
    NewEventData,
    Step,
    onward,
    skip_choice,
)
from conversations.events.flows.new_event.journey_and_tasks import TasksQuestion
from conversations.events.flows.new_event.preview import PreviewQuestion, topic_names
from conversations.events.flows.new_event.publishing import create_event, event_fields
from conversations.events.flows.new_event.what_when_where import (
    ConfirmWhenQuestion,
    EndQuestion,
    PinQuestion,
    PlaceQuestion,
    TextQuestion,
    TitleQuestion,
    WhenQuestion,
)
from conversations.events.rules.reminders import DEFAULT_REMINDERS, sync_reminders
from conversations.events.rules.wording import link_payload, matrix_way_in
from conversations.initiatives.rules.pushes import PushLimits, initiative_status, request_push
from storage.models import Event, EventOrigin, EventStatus, RsvpAnswer
from storage.repositories.audiences import AUDIENCE_INITIATIVE

IDEA_OPEN_FOR = timedelta(days=60)


class WhenOrIdea(WhenQuestion):
    """An initiative may be an idea with no date yet."""

    async def ask(self, ctx: FlowContext, data: NewEventData) -> OutMessage:
        question = await super().ask(ctx, data)
        idea = ctx.choice("idea", N_("It's an idea, no date yet"), "💡", "idé", "idea")
        return OutMessage(question.text, choices=(idea,), expects_text=True)

    async def take(self, ctx: FlowContext, data: NewEventData, answer: Answer) -> Transition:
        if answer.choice == "idea":
            # open on the list for a while; there is no time to confirm
            data.idea, data.start, data.end = True, ctx.now() + IDEA_OPEN_FOR, None
            return Transition.go(Step.PLACE, data)
        data.idea = False
        return await super().take(ctx, data, answer)


class ConfirmWhenUnlessIdea(ConfirmWhenQuestion):
    async def take(self, ctx: FlowContext, data: NewEventData, answer: Answer) -> Transition:
        if data.idea:
            return Transition.go(Step.PLACE, data)
        return await super().take(ctx, data, answer)


class PlaceOrNone(PlaceQuestion):
    """An initiative needs no place (an idea often has none yet)."""

    async def ask(self, ctx: FlowContext, data: NewEventData) -> OutMessage:
        question = await super().ask(ctx, data)
        return OutMessage(
            question.text, choices=(*question.choices, skip_choice(ctx)), expects_text=True
        )

    async def take(self, ctx: FlowContext, data: NewEventData, answer: Answer) -> Transition:
        if answer.choice == "skip":
            data.place = ""
            return Transition.go(Step.CAPACITY, data)
        return await super().take(ctx, data, answer)


class HelpWanted(TasksQuestion):
    intro = N_(
        "What could others help with? One per line, with how many hands, for "
        'example "medbring kage x2". Tap Done when the list is complete, or '
        "right away if you need no help."
    )


class InitiativeTopics(TopicsQuestion):
    """Those who want to hear about initiatives in these get a message (none: all of them)."""

    intro = N_(
        "Which interests or areas does it belong to? People who chose them "
        "and want to hear about initiatives get a message. Tap them, then "
        "Done."
    )

    def done(self, ctx: FlowContext, data: NewEventData) -> Transition:
        data.audience = {"kind": AUDIENCE_INITIATIVE, "topic_ids": list(data.topic_ids)}
        return Transition.go(Step.PREVIEW, data)


class InitiativePreview(PreviewQuestion):
    async def describe(self, ctx: FlowContext, data: NewEventData) -> str:
        lines = [ctx._(N_("This is how it will look:")), "", f"🌱 {data.title}"]
        if data.text:
            lines += ["", data.text]
        if data.idea:
            lines += ["", "💡 " + ctx._(N_("An idea: no date yet."))]
        else:
            lines += ["", "🗓 " + data.when(ctx)]
        if data.place:
            lines.append("📍 " + data.place)
        for title, hands in data.tasks:
            lines.append(ctx._(N_("• {task} ×{hands}")).format(task=title, hands=hands))
        names = await topic_names(ctx, data.topic_ids)
        lines.append(
            ctx._(N_("Sent to people who want to hear about initiatives in: {topics}")).format(
                topics=", ".join(names) or ctx._(N_("any interest or area"))
            )
        )
        return "\n".join(lines)

    async def publish(self, ctx: FlowContext, data: NewEventData) -> Transition:
        fields = event_fields(ctx, data) | {
            "origin": EventOrigin.INITIATIVE,
            "idea": data.idea,
            "send_at": None,
            "reminder_offsets": [] if data.idea else list(DEFAULT_REMINDERS),
            "audience": dict(
                data.audience
                if data.audience is not None
                else {"kind": AUDIENCE_INITIATIVE, "topic_ids": []}
            ),
        }
        event = await create_event(ctx, fields, data.tasks)
        return await post(ctx, event)


async def post(ctx: FlowContext, event: Event) -> Transition:
    """On the list at once, the author down as coming, and sent out as far as the limits let."""
    now = ctx.now()
    event.status = EventStatus.PUBLISHED
    event.published_at = now
    await ctx.uow.events.set_rsvp(event.id, ctx.person.id, RsvpAnswer.YES, 0)
    await sync_reminders(ctx.uow, event, ctx.person.id, RsvpAnswer.YES, now)
    await request_push(ctx.services, event, push_limits(ctx))
    text = ctx._(N_("Your initiative is posted! 🎉")) + "\n"
    text += initiative_status(ctx.translator, event, ctx.config.timezone)
    text += "\n\n" + ctx._(
        N_(
            "Anyone can open it with: /start {payload}\n"
            "/myinitiatives shows who joins; /tasks changes the tasks."
        )
    ).format(payload=link_payload(event))
    on_matrix = matrix_way_in(ctx.translator, ctx.config.matrix_user_id, link_payload(event))
    if on_matrix:
        text += "\n" + on_matrix
    return Transition.end(OutMessage(text))


class NewInitiative(QuestionFlow[NewEventData]):
    """The event questions minus capacity, guests, journey, reminders, audience and sending."""

    name = "initiative"
    data_model = NewEventData
    commands = (
        CommandSpec(
            "initiative",
            "initiativ",
            N_("Start an initiative of your own"),
            button=N_("Start an initiative"),
        ),
    )

    def __init__(self, *, bot_username: str | None = None) -> None:
        # `bot_username` is taken as /newevent takes it; an initiative shows its /start link
        self._questions = by_state(
            TitleQuestion(),
            TextQuestion(),
            WhenOrIdea(),
            EndQuestion(),
            ConfirmWhenUnlessIdea(),
            PlaceOrNone(),
            PinQuestion(),
            HelpWanted(),
            InitiativeTopics(),
            InitiativePreview(),
        )

    @property
    def questions(self) -> Mapping[str, Question[NewEventData]]:
        return self._questions

    def takes_location(self, state: str) -> bool:
        return state in LOCATION_STEPS

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        # any citizen who has consented may (the command checks consent)
        intro = ctx._(
            N_(
                "Let's start your initiative! 🌱 Something you'd like to do with others, or an "
                "idea. I'll ask a few things; /back goes back, /cancel stops."
            )
        )
        return Transition.go(Step.TITLE, NewEventData(), OutMessage(intro))

    async def handle(
        self, ctx: FlowContext, state: str, data: NewEventData, answer: Answer
    ) -> Transition:
        return onward(await super().handle(ctx, state, data, answer), self.questions)


def push_limits(ctx: FlowContext) -> PushLimits:
    """The limits on pushing initiatives, from the settings."""
    return PushLimits(ctx.config.initiative_pushes_per_day, ctx.config.named_coordinators)

"""The last question: the event as it will look, then publish it or throw it away."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable

from conversations.core.flow import Answer, FlowContext, Transition
from conversations.core.i18n import N_
from conversations.core.messages import Choice, OutMessage
from conversations.core.questions import Question
from conversations.events.flows.new_event.draft import NewEventData, Step
from conversations.events.flows.new_event.publishing import publish_event
from conversations.events.rules.access import access_lines
from conversations.events.rules.journey import step_names
from conversations.feedback.rules.snaps import FeedbackOptions
from storage.repositories.audiences import (
    AUDIENCE_ATTENDEES,
    AUDIENCE_EVERYBODY,
    AUDIENCE_TOPICS,
)


class PreviewQuestion(Question[NewEventData]):
    """What the draft will look like (`describe`) and what publishing it does (`publish`)."""

    state = Step.PREVIEW

    async def ask(self, ctx: FlowContext, data: NewEventData) -> OutMessage:
        return OutMessage(
            await self.describe(ctx, data),
            choices=(
                ctx.choice("publish", N_("Publish"), "📣", "udgiv", "send"),
                *self.more_choices(ctx, data),
                ctx.choice("discard", N_("Throw it away"), "🗑"),
            ),
        )

    def more_choices(self, ctx: FlowContext, data: NewEventData) -> tuple[Choice, ...]:
        """What else can be done to the draft before publishing."""
        return ()

    async def take_more(
        self, ctx: FlowContext, data: NewEventData, choice: str | None
    ) -> Transition:
        """One of `more_choices`; anything else asks again."""
        return Transition.stay(data)

    async def take(self, ctx: FlowContext, data: NewEventData, answer: Answer) -> Transition:
        if answer.choice == "discard":
            return Transition.end(OutMessage(ctx._(N_("Thrown away. Nothing was sent."))))
        if answer.choice != "publish":
            return await self.take_more(ctx, data, answer.choice)
        if data.starts <= ctx.now():  # the preview can wait a long time for its tap
            return Transition.go(
                Step.WHEN, data, OutMessage(ctx._(N_("That time has passed in the meantime.")))
            )
        return await self.publish(ctx, data)

    @abstractmethod
    async def describe(self, ctx: FlowContext, data: NewEventData) -> str:
        """The draft as people will see it, with what the preview adds about sending it."""

    @abstractmethod
    async def publish(self, ctx: FlowContext, data: NewEventData) -> Transition:
        """Write the event and send it out; the conversation ends here."""


async def topic_names(ctx: FlowContext, topic_ids: Iterable[int]) -> list[str]:
    """The names of these interests and areas in the reader's language (gone ones left out)."""
    names = []
    for topic_id in topic_ids:
        topic = await ctx.uow.topics.get(int(topic_id))
        if topic is not None:
            names.append(topic.name(ctx.translator.language))
    return names


async def invited(ctx: FlowContext, data: NewEventData) -> str:
    """Who the audience is, in a few words."""
    audience = data.audience or {}
    kind = audience.get("kind")
    if kind == AUDIENCE_EVERYBODY:
        return ctx._(N_("everybody"))
    if kind == AUDIENCE_TOPICS:
        return ", ".join(await topic_names(ctx, audience.get("topic_ids", [])))
    if kind == AUDIENCE_ATTENDEES:
        earlier = await ctx.uow.events.get(int(audience.get("event_id", 0)))
        title = earlier.title if earlier else "?"
        return ctx._(N_("those who came to {title}")).format(title=title)
    return ctx._(N_("only those who get the link"))


class EventPreview(PreviewQuestion):
    def __init__(self, bot_username: str | None, photos: FeedbackOptions | None = None) -> None:
        """`photos`: where an invitation's photo is kept; None offers no photo."""
        self._bot_username = bot_username
        self._photos = photos

    async def describe(self, ctx: FlowContext, data: NewEventData) -> str:
        lines = [ctx._(N_("This is how it will look:")), ""]
        if data.photo is not None:
            lines += ["🖼 " + ctx._(N_("With a photo: {text}")).format(text=data.photo_text), ""]
        lines.append(f"🌿 {data.title}")
        if data.text:
            lines += ["", data.text]
        lines += ["", "🗓 " + data.when(ctx)]
        if data.place:
            lines.append("📍 " + data.place)
        if data.lat is not None:
            lines.append("🗺 " + ctx._(N_("with a map pin")))
        lines += access_lines(ctx.translator, list(data.access), data.practical)
        if data.capacity:
            lines.append(
                "👥 "
                + ctx.ngettext("At most {n} person", "At most {n} people", data.capacity).format(
                    n=data.capacity
                )
            )
        if data.guests:
            lines.append("➕ " + ctx._(N_("Guests are welcome")))
        for title, hands in data.tasks:
            lines.append(ctx._(N_("• {task} ×{hands}")).format(task=title, hands=hands))
        lines += [
            "",
            ctx._(N_("Journey steps: {steps}")).format(
                steps=", ".join(await step_names(ctx.uow, ctx.translator, data.journey))
            ),
        ]
        return "\n".join([*lines, *await self._sending(ctx, data)])

    async def _sending(self, ctx: FlowContext, data: NewEventData) -> list[str]:
        reminders = ", ".join(
            ctx.ngettext("{n} hour before", "{n} hours before", minutes // 60).format(
                n=minutes // 60
            )
            for minutes in data.reminders
        )
        sent = ctx.when(data.send_at) if data.send_at else ctx._(N_("right away"))
        return [
            ctx._(N_("Reminders: {what}")).format(what=reminders or ctx._(N_("none"))),
            ctx._(N_("Invited: {who}")).format(who=await invited(ctx, data)),
            ctx._(N_("Sent: {when}")).format(when=sent),
        ]

    def more_choices(self, ctx: FlowContext, data: NewEventData) -> tuple[Choice, ...]:
        more = [
            ctx.choice("later", N_("Send it at a set time"), "🕰", "senere", "later")
            if data.send_at is None
            else ctx.choice("now", N_("Send it right away instead"), "🚀", "nu", "now")
        ]
        if not data.text:
            more.append(ctx.choice("text", N_("Add an inviting text"), "✏️", "tekst", "text"))
        if not data.access and not data.practical:
            more.append(ctx.choice("access", N_("Access, getting there, what to bring"), "♿"))
        if self._photos is not None:
            more.append(
                ctx.choice("photo", N_("Add a photo"), "🖼", "billede", "foto", "photo")
                if data.photo is None
                else ctx.choice("nophoto", N_("Remove the photo"), "🚫")
            )
        more.append(ctx.choice("more", N_("Guests, tasks, steps, reminders"), "⚙️"))
        return tuple(more)

    async def take_more(
        self, ctx: FlowContext, data: NewEventData, choice: str | None
    ) -> Transition:
        match choice:
            case "later":
                return Transition.go(Step.SEND_AT, data)
            case "now":
                data.send_at = None
                return Transition.stay(data)
            case "text":
                return Transition.go(Step.TEXT, data)
            case "more":
                return Transition.go(Step.GUESTS, data)
            case "access":
                return Transition.go(Step.ACCESS, data)
            case "photo":
                return Transition.go(Step.PHOTO, data)
            case "nophoto":
                data.photo, data.photo_text = None, ""
                return Transition.stay(data)
        return Transition.stay(data)

    async def publish(self, ctx: FlowContext, data: NewEventData) -> Transition:
        return await publish_event(ctx, data, self._bot_username, self._photos)

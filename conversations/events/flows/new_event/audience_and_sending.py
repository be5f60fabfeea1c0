"""Who a new event is for and when they hear of it: reminders, the audience (everybody, chosen
interests or areas, those who came to an earlier event, or only the link) and the send time.
"""

from __future__ import annotations

from typing import ClassVar

from conversations.core.choice_ids import EVENT, TOPIC
from conversations.core.dates import parse_when
from conversations.core.flow import Answer, FlowContext, Transition
from conversations.core.i18n import N_
from conversations.core.messages import Choice, OutMessage
from conversations.core.questions import Question
from conversations.events.flows.new_event.draft import NewEventData, Step, retry, squeezed
from conversations.events.rules.reminders import DEFAULT_REMINDERS
from storage.models import TopicKind
from storage.repositories.audiences import (
    AUDIENCE_ATTENDEES,
    AUDIENCE_EVERYBODY,
    AUDIENCE_LINK,
    AUDIENCE_TOPICS,
)


def to_preview(data: NewEventData) -> Transition:
    """Once the audience is known: the preview, which publishes now or at a set time."""
    return Transition.go(Step.PREVIEW, data)


class RemindersQuestion(Question[NewEventData]):
    state = Step.REMINDERS

    async def ask(self, ctx: FlowContext, data: NewEventData) -> OutMessage:
        return OutMessage(
            ctx._(N_("Should I remind those who are coming?")),
            choices=(
                ctx.choice("default", N_("Yes, 24 hours and 2 hours before"), "⏰", "ja"),
                ctx.choice("none", N_("No reminders"), "🔕", "nej", "ingen"),
            ),
        )

    async def take(self, ctx: FlowContext, data: NewEventData, answer: Answer) -> Transition:
        if answer.choice not in ("default", "none"):
            return Transition.stay(data)
        data.reminders = list(DEFAULT_REMINDERS) if answer.choice == "default" else []
        return Transition.go(Step.ACCESS, data)


class AudienceQuestion(Question[NewEventData]):
    state = Step.AUDIENCE

    async def ask(self, ctx: FlowContext, data: NewEventData) -> OutMessage:
        return OutMessage(
            ctx._(N_("Who should be invited?")),
            choices=(
                ctx.choice("everybody", N_("Everybody"), "🌍", "alle"),
                ctx.choice("topics", N_("Chosen interests or areas"), "🏷"),
                ctx.choice("attendees", N_("People who came to an earlier event"), "🔁"),
                ctx.choice("link", N_("Only those who get the link"), "🔗"),
            ),
        )

    async def take(self, ctx: FlowContext, data: NewEventData, answer: Answer) -> Transition:
        match answer.choice:
            case "everybody":
                data.audience = {"kind": AUDIENCE_EVERYBODY}
            case "link":
                data.audience = {"kind": AUDIENCE_LINK}
            case "topics":
                return Transition.go(Step.TOPICS, data)
            case "attendees":
                return Transition.go(Step.EARLIER, data)
            case _:
                return Transition.stay(data)
        return to_preview(data)


class TopicsQuestion(Question[NewEventData]):
    """Interests and areas tapped on and off (a ✅ on those chosen), then Done."""

    state = Step.TOPICS
    intro: ClassVar[str] = N_(
        "Tap the interests and areas to invite (tap again to remove), then Done. "
        "Everyone who chose one of them gets the invitation."
    )

    async def ask(self, ctx: FlowContext, data: NewEventData) -> OutMessage:
        chosen = set(data.topic_ids)
        topics = [
            *await ctx.uow.topics.active(TopicKind.INTEREST),
            *await ctx.uow.topics.active(TopicKind.AREA),
        ]
        language = ctx.translator.language
        choices = [
            Choice(
                TOPIC.of(t.id),
                ctx.marked(t.name(language), t.id in chosen),
                aliases=t.all_names(),
            )
            for t in topics
        ]
        choices.append(ctx.choice("done", N_("Done"), "👍", "færdig", "ok"))
        return OutMessage(ctx._(self.intro), choices=tuple(choices))

    async def take(self, ctx: FlowContext, data: NewEventData, answer: Answer) -> Transition:
        if answer.choice == "done":
            return self.done(ctx, data)
        topic_id = TOPIC.parse(answer.choice)
        topic = await ctx.uow.topics.get(topic_id) if topic_id is not None else None
        if topic is not None and topic.active:
            if topic.id in data.topic_ids:
                data.topic_ids.remove(topic.id)
            else:
                data.topic_ids.append(topic.id)
        return Transition.stay(data)

    def done(self, ctx: FlowContext, data: NewEventData) -> Transition:
        if not data.topic_ids:
            return retry(ctx, data, N_("Choose at least one, or go /back."))
        data.audience = {"kind": AUDIENCE_TOPICS, "topic_ids": list(data.topic_ids)}
        return to_preview(data)


class EarlierQuestion(Question[NewEventData]):
    state = Step.EARLIER

    async def ask(self, ctx: FlowContext, data: NewEventData) -> OutMessage:
        past = await ctx.uow.events.past(ctx.now())
        choices = [Choice(EVENT.of(e.id), f"{e.title} ({ctx.when(e.starts_at)})") for e in past]
        choices.append(ctx.choice("back", N_("Choose someone else"), "↩️"))
        text = ctx._(N_("Which event? Everyone who said yes to it will be invited."))
        if not past:
            text = ctx._(N_("There are no earlier events yet."))
        return OutMessage(text, choices=tuple(choices))

    async def take(self, ctx: FlowContext, data: NewEventData, answer: Answer) -> Transition:
        event_id = EVENT.parse(answer.choice)
        earlier = await ctx.uow.events.get(event_id) if event_id is not None else None
        if earlier is not None and earlier.starts_at <= ctx.now():
            data.audience = {"kind": AUDIENCE_ATTENDEES, "event_id": earlier.id}
            return to_preview(data)
        return Transition.go(Step.AUDIENCE, data)


class SendQuestion(Question[NewEventData]):
    """Kept for drafts begun before the preview offered the send time itself."""

    state = Step.SEND

    async def ask(self, ctx: FlowContext, data: NewEventData) -> OutMessage:
        return OutMessage(
            ctx._(N_("When should the invitations go out?")),
            choices=(
                ctx.choice("now", N_("Now"), "🚀", "nu"),
                ctx.choice("later", N_("At a set time"), "🕰", "senere"),
            ),
        )

    async def take(self, ctx: FlowContext, data: NewEventData, answer: Answer) -> Transition:
        if answer.choice == "now":
            data.send_at = None
            return Transition.go(Step.PREVIEW, data)
        if answer.choice == "later":
            return Transition.go(Step.SEND_AT, data)
        return Transition.stay(data)


class SendAtQuestion(Question[NewEventData]):
    state = Step.SEND_AT

    async def ask(self, ctx: FlowContext, data: NewEventData) -> OutMessage:
        return OutMessage(ctx._(N_('When? For example "i morgen kl 9".')), expects_text=True)

    async def take(self, ctx: FlowContext, data: NewEventData, answer: Answer) -> Transition:
        parsed = parse_when(
            squeezed(answer), ctx.now(), ctx.config.timezone, ctx.translator.language
        )
        if parsed is None or parsed.start <= ctx.now() or parsed.start >= data.starts:
            return retry(
                ctx, data, N_('Please give a time between now and the event, like "i morgen kl 9".')
            )
        data.send_at = parsed.start
        note = OutMessage(
            ctx._(N_("The invitations go out {when}.")).format(when=ctx.when(parsed.start))
        )
        return Transition.go(Step.PREVIEW, data, note)

"""The questions `/copy` adds to `/newevent`'s: does it repeat and how long, what to change,
and its preview (which publishes one event or every meeting of a series)."""

from __future__ import annotations

from datetime import timedelta

from conversations.core.dates import parse_date
from conversations.core.flow import Answer, FlowContext, Transition
from conversations.core.i18n import N_
from conversations.core.messages import Choice, OutMessage
from conversations.core.questions import Question
from conversations.events.flows.copy_draft import (
    CHANGE,
    CHANGEABLE,
    REPEAT,
    REPEAT_END,
    CopyEventData,
)
from conversations.events.flows.copy_publishing import publish_copy
from conversations.events.flows.new_event.draft import NewEventData, Step, retry, squeezed
from conversations.events.flows.new_event.journey_and_tasks import TasksQuestion
from conversations.events.flows.new_event.preview import EventPreview
from conversations.events.rules.series import MAX_MEETINGS, Repeat, invite_at, meetings
from conversations.feedback.rules.snaps import FeedbackOptions


class RepeatQuestion(Question[CopyEventData]):
    state = REPEAT

    async def ask(self, ctx: FlowContext, data: CopyEventData) -> OutMessage:
        return OutMessage(
            ctx._(N_("Just this once, or again and again?")),
            choices=(
                ctx.choice(Repeat.ONCE, N_("Just this once"), "📌", "en gang", "once"),
                ctx.choice(Repeat.WEEKLY, N_("Every week"), "🔁", "ugentlig", "weekly"),
                ctx.choice(Repeat.FORTNIGHTLY, N_("Every two weeks"), "🔂"),
                ctx.choice(Repeat.MONTHLY, N_("Every month"), "📆", "månedlig", "monthly"),
            ),
        )

    async def take(self, ctx: FlowContext, data: CopyEventData, answer: Answer) -> Transition:
        if answer.choice not in tuple(Repeat):
            return Transition.stay(data)
        data.repeat, data.repeat_asked = Repeat(answer.choice), True
        data.times, data.until = None, None
        if data.repeat == Repeat.ONCE:
            return Transition.go(Step.PREVIEW, data)
        return Transition.go(REPEAT_END, data)


class RepeatEndQuestion(Question[CopyEventData]):
    state = REPEAT_END

    async def ask(self, ctx: FlowContext, data: CopyEventData) -> OutMessage:
        return OutMessage(
            ctx.ngettext(
                'How long? Write how many times, for example "8", or the last date, '
                'for example "20/12". At most {n} time.',
                'How long? Write how many times, for example "8", or the last date, '
                'for example "20/12". At most {n} times.',
                MAX_MEETINGS,
            ).format(n=MAX_MEETINGS),
            expects_text=True,
        )

    async def take(self, ctx: FlowContext, data: CopyEventData, answer: Answer) -> Transition:
        text = squeezed(answer)
        if text.isdigit():
            times = int(text)
            if not 2 <= times <= MAX_MEETINGS:
                return retry(ctx, data, N_("Please write a number from 2 to 26, or a last date."))
            data.times = times
            return Transition.go(Step.PREVIEW, data)
        last = (
            parse_date(text, ctx.now(), ctx.config.timezone, ctx.translator.language)
            if text
            else None
        )
        if (
            last is None
            or len(meetings(data.starts, data.end, data.repeat, ctx.config.timezone, until=last))
            < 2
        ):
            return retry(
                ctx,
                data,
                N_('Please write how many times, like "8", or a last date after the second one.'),
            )
        data.until = last
        return Transition.go(Step.PREVIEW, data)


class ChangeQuestion(Question[CopyEventData]):
    """What to change before publishing: one of `/newevent`'s questions, then the preview."""

    state = CHANGE

    async def ask(self, ctx: FlowContext, data: CopyEventData) -> OutMessage:
        return OutMessage(
            ctx._(N_("What should I change?")),
            choices=(
                ctx.choice(Step.TITLE, N_("The title"), "🏷"),
                ctx.choice(Step.TEXT, N_("The text"), "📝"),
                ctx.choice(Step.WHEN, N_("The time"), "🕰"),
                ctx.choice(REPEAT, N_("How it repeats"), "🔁"),
                ctx.choice(Step.PLACE, N_("The place"), "📍"),
                ctx.choice(Step.CAPACITY, N_("How many can come"), "👥"),
                ctx.choice(Step.TASKS, N_("The tasks"), "🙋"),
                ctx.choice(Step.AUDIENCE, N_("Who is invited"), "📣"),
                ctx.choice(Step.PHOTO, N_("The photo"), "🖼"),
                ctx.choice(Step.PREVIEW, N_("Nothing, back to the preview"), "↩️"),
            ),
        )

    async def take(self, ctx: FlowContext, data: CopyEventData, answer: Answer) -> Transition:
        if answer.choice not in CHANGEABLE:
            return Transition.stay(data)
        return Transition.go(answer.choice, data)


class CopyTasks(TasksQuestion):
    """The copied tasks are listed; they can be kept, added to, or the list started afresh."""

    async def ask(self, ctx: FlowContext, data: NewEventData) -> OutMessage:
        question = await super().ask(ctx, data)
        afresh = ctx.choice("afresh", N_("Start the list afresh"), "🧹", "forfra")
        return OutMessage(
            question.text, choices=(*question.choices, afresh), expects_text=question.expects_text
        )

    async def take(self, ctx: FlowContext, data: NewEventData, answer: Answer) -> Transition:
        if answer.choice == "afresh":
            data.tasks = []
            return Transition.stay(data)
        return await super().take(ctx, data, answer)


def series_lines(ctx: FlowContext, data: CopyEventData, lead: timedelta) -> list[str]:
    found = data.meetings(ctx.config.timezone)
    if len(found) < 2:
        return []
    how = {
        Repeat.WEEKLY: N_("every week"),
        Repeat.FORTNIGHTLY: N_("every two weeks"),
        Repeat.MONTHLY: N_("every month"),
    }[data.repeat]
    days = max(1, round(lead / timedelta(days=1)))
    return [
        "",
        "🔁 "
        + ctx.ngettext(
            "A series, {how}: {n} time, the last {when}.",
            "A series, {how}: {n} times, the last {when}.",
            len(found),
        ).format(how=ctx._(how), n=len(found), when=ctx.when(found[-1].start)),
        ctx.ngettext(
            "Each one's invitations go out {n} day before it.",
            "Each one's invitations go out {n} days before it.",
            days,
        ).format(n=days),
    ]


class CopyPreview(EventPreview):
    """The new event as `/newevent` previews it, with the series and a "change" choice."""

    def __init__(
        self, bot_username: str | None, invite_lead: timedelta, photos: FeedbackOptions
    ) -> None:
        super().__init__(bot_username)
        self.invite_lead = invite_lead
        self.photos = photos

    def more_choices(self, ctx: FlowContext, data: NewEventData) -> tuple[Choice, ...]:
        # one way into every question, instead of the new event's shortcuts
        return (ctx.choice(CHANGE, N_("Change something"), "✏️", "ret", "change"),)

    async def take_more(
        self, ctx: FlowContext, data: NewEventData, choice: str | None
    ) -> Transition:
        if choice == CHANGE:
            return Transition.go(CHANGE, data)
        return Transition.stay(data)

    async def describe(self, ctx: FlowContext, data: NewEventData) -> str:
        assert isinstance(data, CopyEventData)
        found = data.meetings(ctx.config.timezone)
        if len(found) > 1:  # "sent" tells when the first meeting's invitations go out
            first = invite_at(found[0].start, ctx.now(), self.invite_lead)
            data = data.model_copy(update={"send_at": first})
        text = await super().describe(ctx, data)
        return "\n".join([text, *series_lines(ctx, data, self.invite_lead)])

    async def publish(self, ctx: FlowContext, data: NewEventData) -> Transition:
        assert isinstance(data, CopyEventData)
        return await publish_copy(ctx, data, self._bot_username, self.invite_lead, self.photos)

"""Journey feedback after an event: the person tells us whether they came, how each step of
the journey was, what matters to them and what we should do next time (the questions are in
`journey_questions`), and may send photos and voice notes for the event's log on the way.

Who may answer: people who said yes (they are asked by the job in `rules/requests.py`) and
anyone who opens the event's feedback link `/start fb_<link_code>` once the event is over.
Both leave a `FeedbackRequest` row; every answer checks that row on the server.

Leaving half-way loses nothing: every answer is saved as it is given, and opening the
feedback again (the invitation's button, the link, `/feedback`) continues at the first
unanswered question."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from conversations.core.commands import CommandSpec
from conversations.core.flow import FlowContext, Transition
from conversations.core.i18n import N_
from conversations.core.messages import OutMessage
from conversations.core.questions import Question, QuestionFlow, by_state
from conversations.feedback.flows.journey_questions import (
    AgainOrDone,
    DidYouCome,
    FeedbackData,
    FeedbackSnapConsent,
    HowWasTheStep,
    NextTime,
    SignOrNot,
    Step,
    WhatMatters,
    WhyWasIt,
    closed,
    not_yours,
)
from conversations.feedback.flows.keeping_snaps import SNAP_CONSENT, SnapKeeper
from conversations.feedback.rules.snaps import FeedbackOptions
from conversations.feedback.rules.windows import FEEDBACK_FLOW, feedback_open, steps_of
from storage.models import Event, FeedbackRequest, Prompt, RsvpAnswer
from storage.unit_of_work import UnitOfWork


async def resume_state(uow: UnitOfWork, event: Event, request: FeedbackRequest) -> Transition:
    """Where to go on: the first unanswered question, or 'again?' when all is done."""
    data = FeedbackData(event_id=event.id)
    checked_in = request.came is None and request.person_id is not None
    if checked_in and await uow.check_ins.is_checked_in(event.id, request.person_id or 0):
        request.came = True  # no need to ask whether they came
    if request.came is None:
        return Transition.go(Step.CAME, data)
    if request.came:
        answers = await uow.feedback.answers(request.id)
        for index in range(len(steps_of(event))):
            if index not in answers:
                return Transition.go(Step.STEP, data.at_step(index))
    if request.completed_at is not None:
        return Transition.go(Step.AGAIN, data)
    if request.stage in (Step.MATTERS, Step.NEXT, Step.SIGN):
        return Transition.go(request.stage, data)
    return Transition.go(Step.MATTERS, data)


class JourneyFeedback(QuestionFlow[FeedbackData]):
    name = FEEDBACK_FLOW
    data_model = FeedbackData
    commands = (
        CommandSpec("feedback", "mening", N_("Tell us how an event was"), button=N_("How was it?")),
    )
    link_prefix = "fb"

    def __init__(self, options: FeedbackOptions | None = None) -> None:
        # read afresh at every answer, here and by the snap-log, so a change reaches both
        self.options = options or FeedbackOptions()
        self._questions = by_state(
            DidYouCome(self),
            HowWasTheStep(self),
            WhyWasIt(self),
            WhatMatters(self),
            NextTime(self),
            SignOrNot(self),
            FeedbackSnapConsent(SnapKeeper(self)),
            AgainOrDone(self),
        )

    @property
    def questions(self) -> Mapping[str, Question[FeedbackData]]:
        return self._questions

    def takes_media(self, state: str) -> bool:
        # a photo sent at any question goes to the event's log; a voice note after a
        # verdict says why. Only the yes/no about keeping them needs a tap.
        return state != SNAP_CONSENT

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        code = args.strip()
        if code:
            event = await ctx.uow.events.by_link(code)
            if event is None or not feedback_open(event, ctx.now(), self.options):
                return closed(ctx, event)
            request = await ctx.uow.feedback.ensure_request(event.id, ctx.person.id, "link")
            return await resume_state(ctx.uow, event, request)
        # `/feedback` without a link: the most recent event the person may answer about
        for recent in reversed(await self._recent(ctx)):
            found = await ctx.uow.feedback.request(recent.id, ctx.person.id)
            rsvp = await ctx.uow.events.rsvp(recent.id, ctx.person.id)
            if found is None and rsvp is not None and rsvp.answer == RsvpAnswer.YES:
                found = await ctx.uow.feedback.ensure_request(recent.id, ctx.person.id, "rsvp")
            if found is not None:
                return await resume_state(ctx.uow, recent, found)
        return Transition.end(
            OutMessage(
                ctx._(
                    N_(
                        "There is no event to give feedback on right now. I'll ask after "
                        "the next one you join."
                    )
                )
            )
        )

    async def _recent(self, ctx: FlowContext) -> list[Event]:
        now = ctx.now()
        since = now - self.options.window - timedelta(days=2)
        events = await ctx.uow.feedback.started_between(since, now)
        return [e for e in events if feedback_open(e, now, self.options)]

    async def detached(self, ctx: FlowContext, prompt: Prompt, choice_id: str) -> Transition | None:
        """The "how was it?" invitation's buttons (see `rules/requests.py`)."""
        event_id = prompt.context.get("event_id")
        if not isinstance(event_id, int) or prompt.person_id != ctx.person.id:
            return not_yours(ctx)
        event = await ctx.uow.events.get(event_id)
        request = await ctx.uow.feedback.request(event_id, ctx.person.id)
        if event is None or request is None:
            return not_yours(ctx)
        if choice_id == "later":
            return Transition.end(
                OutMessage(
                    ctx._(
                        N_(
                            "That's fine. You can still answer later, or write /feedback "
                            "when it suits you."
                        )
                    )
                )
            )
        if choice_id != "start":
            return None
        if not feedback_open(event, ctx.now(), self.options):
            return closed(ctx, event)
        return await resume_state(ctx.uow, event, request)

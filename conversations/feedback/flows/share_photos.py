"""`/snap`: the person sends photos and voice notes to the log of an event they joined, for a
few days after it, and taps Done when they have finished."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from conversations.core.commands import CommandSpec
from conversations.core.flow import Answer, FlowContext, Transition
from conversations.core.i18n import N_
from conversations.core.messages import OutMessage
from conversations.core.questions import Question, QuestionFlow, by_state
from conversations.feedback.flows.keeping_snaps import (
    SNAP_CONSENT,
    FeedbackOptionsSource,
    KeepingSnapsData,
    SnapConsentQuestion,
    SnapKeeper,
    not_shared_note,
)
from conversations.feedback.rules.snaps import FeedbackOptions
from conversations.feedback.rules.windows import snaps_open
from storage.models import Event, RsvpAnswer

SNAP_FLOW = "snaplog"


COLLECT = "collect"  # the snap-log's one question: send photos, tap Done


class SnapLogData(KeepingSnapsData):
    """The event whose log the snaps go to (and a snap waiting for the photo question)."""


async def open_log(
    ctx: FlowContext, data: SnapLogData, options: FeedbackOptions
) -> Event | Transition:
    """The event, while its log takes snaps; otherwise the word that it is closed."""
    event = await ctx.uow.events.get(data.event_id)
    if event is None or not snaps_open(event, ctx.now(), options):
        return Transition.end(
            OutMessage(ctx._(N_("The log for that event is closed now. Thank you!")))
        )
    return event


class SendSnaps(Question[SnapLogData]):
    state = COLLECT

    def __init__(self, keeper: SnapKeeper) -> None:
        self.keeper = keeper

    async def ask(self, ctx: FlowContext, data: SnapLogData) -> OutMessage:
        event = await ctx.uow.events.get(data.event_id)
        assert event is not None
        return OutMessage(
            ctx._(
                N_("Send photos or voice notes for {title}. Tap Done when you have finished.")
            ).format(title=event.title),
            choices=(ctx.choice("done", N_("Done"), "👍", "ok", "færdig", "done"),),
            expects_text=True,
        )

    async def take(self, ctx: FlowContext, data: SnapLogData, answer: Answer) -> Transition:
        event = await open_log(ctx, data, self.keeper.options)
        if isinstance(event, Transition):
            return event
        if answer.choice == "done":
            return Transition.end(OutMessage(ctx._(N_("Thank you for sharing! 🌿"))))
        if answer.media is None:
            return Transition.stay(data)
        if not await ctx.uow.feedback.snap_consent(ctx.person.id):
            return Transition.end(OutMessage(not_shared_note(ctx)))
        # the question stays on screen: more photos may follow without asking again
        return Transition.stay(
            data, await self.keeper.keep_in_log(ctx, event, answer.media), ask=False
        )


class SnapLogConsent(SnapConsentQuestion[SnapLogData]):
    """The photo question, asked at `/snap` by someone who hasn't answered it yet."""

    default_back_to = COLLECT
    refusal_ends = True

    async def open_event(self, ctx: FlowContext, data: SnapLogData) -> Event | Transition:
        return await open_log(ctx, data, self.keeper.options)


class SnapLog(QuestionFlow[SnapLogData]):
    """`/snap`: send photos and voice notes to the log of an event you joined, for a few
    days after it."""

    name = SNAP_FLOW
    data_model = SnapLogData
    commands = (
        CommandSpec(
            "snap", "billede", N_("Send photos or voice notes from an event"), in_menu=False
        ),
    )

    def __init__(self, feedback: FeedbackOptionsSource) -> None:
        # the feedback flow's options, read at every use: both keep snaps alike
        self._keeper = SnapKeeper(feedback)
        self._questions = by_state(SendSnaps(self._keeper), SnapLogConsent(self._keeper))

    @property
    def questions(self) -> Mapping[str, Question[SnapLogData]]:
        return self._questions

    def takes_media(self, state: str) -> bool:
        return state == COLLECT

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        now = ctx.now()
        options = self._keeper.options
        since = now - options.snap_days - timedelta(days=2)
        for event in reversed(await ctx.uow.feedback.started_between(since, now)):
            if not snaps_open(event, now, options):
                continue
            rsvp = await ctx.uow.events.rsvp(event.id, ctx.person.id)
            request = await ctx.uow.feedback.request(event.id, ctx.person.id)
            if request is not None or (rsvp is not None and rsvp.answer == RsvpAnswer.YES):
                return await self._open(ctx, event)
        return Transition.end(
            OutMessage(
                ctx._(N_("There is no event to send photos to right now. Thank you though!"))
            )
        )

    async def _open(self, ctx: FlowContext, event: Event) -> Transition:
        """The log of `event`, after the photo question if it hasn't been answered yet."""
        data = SnapLogData(event_id=event.id)
        consent = await ctx.uow.feedback.snap_consent(ctx.person.id)
        if consent is False:
            note = ctx._(
                N_(
                    "You chose not to share photos and voice notes with the organisers. "
                    "If you have changed your mind, /settings lets you switch it on."
                )
            )
            return Transition.end(OutMessage(note))
        if consent is None:
            return Transition.go(SNAP_CONSENT, data.model_copy(update={"back_to": COLLECT}))
        return Transition.go(COLLECT, data)

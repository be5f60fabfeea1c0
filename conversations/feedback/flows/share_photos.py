"""`/snap`: photos and voice notes for the log of an event I joined, for a few days after it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from conversations.core.commands import CommandSpec
from conversations.core.flow import Answer, Flow, FlowContext, Transition
from conversations.core.i18n import N_
from conversations.core.messages import OutMessage
from conversations.feedback.flows.give_feedback import JourneyFeedback, Step, not_shared_note
from conversations.feedback.rules.windows import snaps_open
from storage.models import (
    RsvpAnswer,
)

SNAP_FLOW = "snaplog"


COLLECT = "collect"  # the snap-log's one question: send photos, tap Done


class SnapLog(Flow):
    """`/snap`: send photos and voice notes to the log of an event you joined, for a few
    days after it."""

    name = SNAP_FLOW
    commands = (
        CommandSpec(
            "snap", "billede", N_("Send photos or voice notes from an event"), in_menu=False
        ),
    )

    def __init__(self, feedback: JourneyFeedback) -> None:
        self._feedback = feedback

    def takes_media(self, state: str) -> bool:
        return state == COLLECT

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        now = ctx.now()
        options = self._feedback.options
        since = now - options.snap_days - timedelta(days=2)
        for event in reversed(await ctx.uow.feedback.started_between(since, now)):
            if not snaps_open(event, now, options):
                continue
            rsvp = await ctx.uow.events.rsvp(event.id, ctx.person.id)
            request = await ctx.uow.feedback.request(event.id, ctx.person.id)
            if request is not None or (rsvp is not None and rsvp.answer == RsvpAnswer.YES):
                data: dict[str, Any] = {"event_id": event.id}
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
                    return Transition.go(Step.SNAP_CONSENT, {**data, "back_to": COLLECT})
                return Transition.go(COLLECT, data)
        return Transition.end(
            OutMessage(
                ctx._(N_("There is no event to send photos to right now. Thank you though!"))
            )
        )

    async def prompt(self, ctx: FlowContext, state: str, data: dict[str, Any]) -> OutMessage:
        if state == Step.SNAP_CONSENT:
            return await self._feedback.prompt(ctx, state, data)
        event = await ctx.uow.events.get(int(data["event_id"]))
        assert event is not None
        return OutMessage(
            ctx._(
                N_("Send photos or voice notes for {title}. Tap Done when you have finished.")
            ).format(title=event.title),
            choices=(ctx.choice("done", N_("Done"), "👍", "ok", "færdig", "done"),),
            expects_text=True,
        )

    async def handle(
        self, ctx: FlowContext, state: str, data: dict[str, Any], answer: Answer
    ) -> Transition:
        event = await ctx.uow.events.get(int(data["event_id"]))
        if event is None or not snaps_open(event, ctx.now(), self._feedback.options):
            return Transition.end(
                OutMessage(ctx._(N_("The log for that event is closed now. Thank you!")))
            )
        if state == Step.SNAP_CONSENT:
            if answer.choice == "no":
                await ctx.uow.feedback.set_snap_consent(ctx.person.id, False)
                return Transition.end(
                    OutMessage(ctx._(N_("OK, I won't keep photos or voice notes from you.")))
                )
            return await self._feedback._consent(ctx, event, data, answer)
        if answer.choice == "done":
            return Transition.end(OutMessage(ctx._(N_("Thank you for sharing! 🌿"))))
        if answer.media is None:
            return Transition.stay(data)
        if not await ctx.uow.feedback.snap_consent(ctx.person.id):
            note = not_shared_note(ctx)
            return Transition.end(OutMessage(note))
        return Transition.stay(
            data, await self._feedback._keep(ctx, event, answer.media), ask=False
        )

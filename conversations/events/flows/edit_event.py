"""`/editevent`: change the time or the place of an event, and tell everyone concerned."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from conversations.core.commands import CommandSpec
from conversations.core.dates import parse_end, parse_when
from conversations.core.flow import Answer, Flow, FlowContext, Transition
from conversations.core.i18n import N_, Translator
from conversations.core.messages import OutMessage
from conversations.core.words import NO_WORDS, YES_WORDS
from conversations.events.flows.new_event import only_coordinators
from conversations.events.flows.pick_event import (
    CHOOSE,
    can_manage,
    choose_event_question,
    picked_event,
    start_choosing,
)
from conversations.events.rules.changes import apply_change, change_text
from storage.models import EventStatus, Prompt, Role


class EditStep(StrEnum):
    CHOOSE = CHOOSE
    WHAT = "what"
    TIME = "time"
    END = "end"
    PLACE = "place"
    CONFIRM = "confirm"


class EditEvent(Flow):
    name = "editevent"
    commands = (
        CommandSpec(
            "editevent",
            "retarrangement",
            N_("Change the time or place of an event"),
            role=Role.COORDINATOR,
        ),
    )

    def takes_location(self, state: str) -> bool:
        return state == EditStep.PLACE

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        return await start_choosing(ctx)

    async def prompt(self, ctx: FlowContext, state: str, data: dict[str, Any]) -> OutMessage:
        match EditStep(state):
            case EditStep.CHOOSE:
                return await choose_event_question(ctx, ctx._(N_("Which event should change?")))
            case EditStep.WHAT:
                return OutMessage(
                    ctx._(N_("What should change?")),
                    choices=(
                        ctx.choice("time", N_("The time"), "🕰"),
                        ctx.choice("place", N_("The place"), "📍"),
                    ),
                )
            case EditStep.TIME:
                return OutMessage(
                    ctx._(N_('When is it now? For example "søndag kl 11" or "6/12 10-13".')),
                    expects_text=True,
                )
            case EditStep.END:
                return OutMessage(
                    ctx._(N_('And when does it end? For example "13" or "kl 15:30".')),
                    choices=(ctx.choice("skip", N_("Skip"), "⏭"),),
                    expects_text=True,
                )
            case EditStep.PLACE:
                return OutMessage(
                    ctx._(N_("Where is it now? Write the place, or share a location.")),
                    expects_text=True,
                )
            case EditStep.CONFIRM:
                return OutMessage(
                    ctx._(N_("{change}\n\nShall I save it and tell everyone concerned?")).format(
                        change=await self._change_text(ctx, ctx.translator, data)
                    ),
                    choices=(
                        ctx.choice("yes", N_("Yes, save and tell them"), "✅", *YES_WORDS),
                        ctx.choice("no", N_("No, leave it"), "✋", *NO_WORDS),
                    ),
                )

    async def _change_text(self, ctx: FlowContext, tr: Translator, data: dict[str, Any]) -> str:
        event = await ctx.uow.events.get(int(data["event_id"]))
        assert event is not None
        return change_text(tr, ctx.config.timezone, event, data)

    async def handle(
        self, ctx: FlowContext, state: str, data: dict[str, Any], answer: Answer
    ) -> Transition:
        if not ctx.is_coordinator:
            return only_coordinators(ctx)
        step = EditStep(state)
        if step == EditStep.CHOOSE:
            event = await picked_event(ctx, answer)
            if event is None or event.status != EventStatus.PUBLISHED:
                return Transition.stay(data)
            return Transition.go(EditStep.WHAT, {"event_id": event.id})
        event = await ctx.uow.events.get(int(data["event_id"]))
        if not can_manage(ctx, event):
            return only_coordinators(ctx)
        assert event is not None
        text = " ".join((answer.text or "").split())
        match step:
            case EditStep.WHAT:
                if answer.choice == "time":
                    return Transition.go(EditStep.TIME, data)
                if answer.choice == "place":
                    return Transition.go(EditStep.PLACE, data)
                return Transition.stay(data)
            case EditStep.TIME:
                parsed = parse_when(text, ctx.now(), ctx.config.timezone) if text else None
                if parsed is None or parsed.start <= ctx.now():
                    return Transition.stay(
                        data,
                        OutMessage(
                            ctx._(N_('I need a date and time in the future, like "søndag kl 11".'))
                        ),
                    )
                data["start"] = parsed.start.isoformat()
                data["end"] = parsed.end.isoformat() if parsed.end else None
                return Transition.go(EditStep.CONFIRM if parsed.end else EditStep.END, data)
            case EditStep.END:
                if answer.choice == "skip":
                    data["end"] = None
                    return Transition.go(EditStep.CONFIRM, data)
                start = datetime.fromisoformat(data["start"])
                end = parse_end(text, start, ctx.now(), ctx.config.timezone) if text else None
                if end is None or end <= start:
                    return Transition.stay(
                        data,
                        OutMessage(
                            ctx._(N_('Please write a time after the start, like "13", or skip.'))
                        ),
                    )
                data["end"] = end.isoformat()
                return Transition.go(EditStep.CONFIRM, data)
            case EditStep.PLACE:
                if answer.location is not None:
                    data["lat"], data["lon"] = answer.location.latitude, answer.location.longitude
                    data["place"] = answer.location.title or event.place
                elif text:
                    data["place"] = text[:200]
                else:
                    return Transition.stay(data)
                return Transition.go(EditStep.CONFIRM, data)
            case EditStep.CONFIRM:
                if answer.choice == "no":
                    return Transition.end(OutMessage(ctx._(N_("Left as it was."))))
                if answer.choice != "yes":
                    return Transition.stay(data)
                if event.status != EventStatus.PUBLISHED:
                    return Transition.end(OutMessage(ctx._(N_("That event is cancelled."))))
                count = await apply_change(ctx.services, event, data)
                return Transition.end(
                    OutMessage(
                        ctx.ngettext(
                            "Saved. I'm telling {n} person about the change.",
                            "Saved. I'm telling {n} people about the change.",
                            count,
                        ).format(n=count)
                    )
                )
        return Transition.stay(data)

    async def detached(self, ctx: FlowContext, prompt: Prompt, choice_id: str) -> Transition | None:
        return None

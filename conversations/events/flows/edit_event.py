"""`/editevent`: change the time or the place of an event, and tell everyone concerned."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum

from conversations.core.commands import CommandSpec
from conversations.core.dates import parse_end, parse_when
from conversations.core.flow import Answer, FlowContext, Transition
from conversations.core.i18n import N_
from conversations.core.messages import OutMessage
from conversations.core.questions import Question, by_state
from conversations.core.words import NO_WORDS, YES_WORDS
from conversations.events.flows.new_event.draft import squeezed
from conversations.events.flows.pick_event import (
    CHOOSE,
    ChooseEvent,
    ChosenEventData,
    ManageEventFlow,
    chosen_event,
)
from conversations.events.rules.changes import EventChange, apply_change, change_text
from storage.models import AuditAction, Event, EventStatus, Role

MAX_PLACE = 200


class EditStep(StrEnum):
    CHOOSE = CHOOSE
    WHAT = "what"
    TIME = "time"
    END = "end"
    PLACE = "place"
    CONFIRM = "confirm"


class EditEventData(ChosenEventData):
    """The new time or the new place, as answered so far."""

    start: datetime | None = None
    end: datetime | None = None
    place: str = ""
    lat: float | None = None
    lon: float | None = None

    @property
    def change(self) -> EventChange:
        return EventChange(self.start, self.end, self.place, self.lat, self.lon)


class ChooseEventToEdit(ChooseEvent[EditEventData]):
    question = N_("Which event should change?")
    published_only = True

    async def chosen(self, ctx: FlowContext, event: Event) -> Transition:
        return Transition.go(EditStep.WHAT, EditEventData(event_id=event.id))


class WhatChanges(Question[EditEventData]):
    state = EditStep.WHAT

    async def ask(self, ctx: FlowContext, data: EditEventData) -> OutMessage:
        return OutMessage(
            ctx._(N_("What should change?")),
            choices=(
                ctx.choice("time", N_("The time"), "🕰"),
                ctx.choice("place", N_("The place"), "📍"),
            ),
        )

    async def take(self, ctx: FlowContext, data: EditEventData, answer: Answer) -> Transition:
        if answer.choice == "time":
            return Transition.go(EditStep.TIME, data)
        if answer.choice == "place":
            return Transition.go(EditStep.PLACE, data)
        return Transition.stay(data)


class NewTime(Question[EditEventData]):
    state = EditStep.TIME

    async def ask(self, ctx: FlowContext, data: EditEventData) -> OutMessage:
        return OutMessage(
            ctx._(N_('When is it now? For example "søndag kl 11" or "6/12 10-13".')),
            expects_text=True,
        )

    async def take(self, ctx: FlowContext, data: EditEventData, answer: Answer) -> Transition:
        text = squeezed(answer)
        parsed = parse_when(text, ctx.now(), ctx.config.timezone) if text else None
        if parsed is None or parsed.start <= ctx.now():
            return Transition.stay(
                data,
                OutMessage(ctx._(N_('I need a date and time in the future, like "søndag kl 11".'))),
            )
        data.start, data.end = parsed.start, parsed.end
        return Transition.go(EditStep.CONFIRM if parsed.end else EditStep.END, data)


class NewEnd(Question[EditEventData]):
    state = EditStep.END

    async def ask(self, ctx: FlowContext, data: EditEventData) -> OutMessage:
        return OutMessage(
            ctx._(N_('And when does it end? For example "13" or "kl 15:30".')),
            choices=(ctx.choice("skip", N_("Skip"), "⏭"),),
            expects_text=True,
        )

    async def take(self, ctx: FlowContext, data: EditEventData, answer: Answer) -> Transition:
        if answer.choice == "skip":
            data.end = None
            return Transition.go(EditStep.CONFIRM, data)
        text = squeezed(answer)
        start = data.start
        assert start is not None  # the time question comes first
        end = parse_end(text, start, ctx.now(), ctx.config.timezone) if text else None
        if end is None or end <= start:
            return Transition.stay(
                data,
                OutMessage(ctx._(N_('Please write a time after the start, like "13", or skip.'))),
            )
        data.end = end
        return Transition.go(EditStep.CONFIRM, data)


class NewPlace(Question[EditEventData]):
    state = EditStep.PLACE

    async def ask(self, ctx: FlowContext, data: EditEventData) -> OutMessage:
        return OutMessage(
            ctx._(N_("Where is it now? Write the place, or share a location.")),
            expects_text=True,
        )

    async def take(self, ctx: FlowContext, data: EditEventData, answer: Answer) -> Transition:
        text = squeezed(answer)
        if answer.location is not None:
            event = await chosen_event(ctx, data)
            data.lat, data.lon = answer.location.latitude, answer.location.longitude
            data.place = answer.location.title or event.place
        elif text:
            data.place = text[:MAX_PLACE]
        else:
            return Transition.stay(data)
        return Transition.go(EditStep.CONFIRM, data)


class ConfirmChange(Question[EditEventData]):
    state = EditStep.CONFIRM

    async def ask(self, ctx: FlowContext, data: EditEventData) -> OutMessage:
        event = await chosen_event(ctx, data)
        change = change_text(ctx.translator, ctx.config.timezone, event, data.change)
        return OutMessage(
            ctx._(N_("{change}\n\nShall I save it and tell everyone concerned?")).format(
                change=change
            ),
            choices=(
                ctx.choice("yes", N_("Yes, save and tell them"), "✅", *YES_WORDS),
                ctx.choice("no", N_("No, leave it"), "✋", *NO_WORDS),
            ),
        )

    async def take(self, ctx: FlowContext, data: EditEventData, answer: Answer) -> Transition:
        if answer.choice == "no":
            return Transition.end(OutMessage(ctx._(N_("Left as it was."))))
        if answer.choice != "yes":
            return Transition.stay(data)
        event = await chosen_event(ctx, data)
        if event.status != EventStatus.PUBLISHED:
            return Transition.end(OutMessage(ctx._(N_("That event is cancelled."))))
        count = await apply_change(ctx.services, event, data.change)
        await ctx.uow.audit.record(
            AuditAction.EVENT_CHANGED, actor_id=ctx.person.id, event_id=event.id
        )
        return Transition.end(
            OutMessage(
                ctx.ngettext(
                    "Saved. I'm telling {n} person about the change.",
                    "Saved. I'm telling {n} people about the change.",
                    count,
                ).format(n=count)
            )
        )


class EditEvent(ManageEventFlow[EditEventData]):
    name = "editevent"
    data_model = EditEventData
    commands = (
        CommandSpec(
            "editevent",
            "retarrangement",
            N_("Change the time or place of an event"),
            role=Role.COORDINATOR,
        ),
    )

    _questions = by_state(
        ChooseEventToEdit(), WhatChanges(), NewTime(), NewEnd(), NewPlace(), ConfirmChange()
    )

    @property
    def questions(self) -> Mapping[str, Question[EditEventData]]:
        return self._questions

    def takes_location(self, state: str) -> bool:
        return state == EditStep.PLACE

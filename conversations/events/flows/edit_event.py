"""`/editevent`: change the time or the place of an event, and tell everyone concerned; or
its invitation's photo (add, replace, remove), for the invitations not yet sent."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum

from conversations.core.commands import CommandSpec
from conversations.core.dates import parse_end, parse_when
from conversations.core.flow import Answer, FlowContext, Transition
from conversations.core.i18n import N_
from conversations.core.media import TooLarge, file_to_fetch
from conversations.core.messages import Choice, OutMessage
from conversations.core.questions import Question, by_state
from conversations.core.words import NO_WORDS, YES_WORDS
from conversations.events.flows.new_event.draft import DraftPhoto, skip_choice, squeezed
from conversations.events.flows.new_event.photo import PHOTO_TEXT_LENGTH, photo_answer
from conversations.events.flows.pick_event import (
    CHOOSE,
    ChooseEvent,
    ChosenEventData,
    ManageEventFlow,
    chosen_event,
)
from conversations.events.rules.changes import EventChange, apply_change, change_text
from conversations.events.rules.photo_change import change_invitation_photo
from conversations.events.rules.photos import COVER, invitation_photo
from conversations.feedback.rules.snaps import FeedbackOptions, make_snap
from storage.models import AuditAction, Event, EventStatus, Role

MAX_PLACE = 200


class EditStep(StrEnum):
    CHOOSE = CHOOSE
    WHAT = "what"
    TIME = "time"
    END = "end"
    PLACE = "place"
    PHOTO = "photo"
    PHOTO_TEXT = "photo_text"
    CONFIRM = "confirm"


class EditEventData(ChosenEventData):
    """The new time or the new place, as answered so far."""

    start: datetime | None = None
    end: datetime | None = None
    place: str = ""
    lat: float | None = None
    lon: float | None = None
    # the invitation's photo changes instead: a new one (with its text alternative), or
    # `remove_photo`
    photo: DraftPhoto | None = None
    photo_text: str = ""
    remove_photo: bool = False

    @property
    def changes_photo(self) -> bool:
        return self.photo is not None or self.remove_photo

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

    def __init__(self, *, photos: bool) -> None:
        self._photos = photos

    async def ask(self, ctx: FlowContext, data: EditEventData) -> OutMessage:
        photo = (ctx.choice("photo", N_("The photo"), "🖼"),) if self._photos else ()
        return OutMessage(
            ctx._(N_("What should change?")),
            choices=(
                ctx.choice("time", N_("The time"), "🕰"),
                ctx.choice("place", N_("The place"), "📍"),
                *photo,
            ),
        )

    async def take(self, ctx: FlowContext, data: EditEventData, answer: Answer) -> Transition:
        if answer.choice == "time":
            return Transition.go(EditStep.TIME, data)
        if answer.choice == "place":
            return Transition.go(EditStep.PLACE, data)
        if answer.choice == "photo" and self._photos:
            return Transition.go(EditStep.PHOTO, data)
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
        parsed = (
            parse_when(text, ctx.now(), ctx.config.timezone, ctx.translator.language)
            if text
            else None
        )
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
        end = (
            parse_end(text, start, ctx.now(), ctx.config.timezone, ctx.translator.language)
            if text
            else None
        )
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


class NewPhoto(Question[EditEventData]):
    state = EditStep.PHOTO

    def __init__(self, max_bytes: int) -> None:
        self._max_bytes = max_bytes

    async def ask(self, ctx: FlowContext, data: EditEventData) -> OutMessage:
        has_one = await invitation_photo(ctx.uow, (await chosen_event(ctx, data)).id)
        remove = (ctx.choice("nophoto", N_("Remove the photo"), "🚫"),) if has_one else ()
        return OutMessage(
            ctx._(N_("Send a photo to show with the invitation, or tap Skip.")),
            choices=(skip_choice(ctx), *remove),
        )

    async def take(self, ctx: FlowContext, data: EditEventData, answer: Answer) -> Transition:
        if answer.choice == "skip":
            return Transition.end(OutMessage(ctx._(N_("Left as it was."))))
        if answer.choice == "nophoto":
            if await invitation_photo(ctx.uow, data.event_id or 0) is None:
                return Transition.stay(data)  # an old button: there is none to remove
            data.photo, data.photo_text, data.remove_photo = None, "", True
            return Transition.go(EditStep.CONFIRM, data)
        taken = photo_answer(ctx, answer, self._max_bytes)
        if taken.problem is not None:
            return _again(ctx, data, taken.problem)
        data.remove_photo = False
        data.photo = taken.photo
        if taken.caption:  # a caption says what it shows
            data.photo_text = taken.caption
            return Transition.go(EditStep.CONFIRM, data)
        return Transition.go(EditStep.PHOTO_TEXT, data)


class NewPhotoText(Question[EditEventData]):
    state = EditStep.PHOTO_TEXT

    async def ask(self, ctx: FlowContext, data: EditEventData) -> OutMessage:
        event = await chosen_event(ctx, data)
        return OutMessage(
            ctx._(
                N_(
                    "In a few words, what does the photo show? It is read out to those who "
                    "cannot see it. Or tap to use the title."
                )
            ),
            choices=(Choice("default", _title_text(ctx, event), "🖼"),),
            expects_text=True,
        )

    async def take(self, ctx: FlowContext, data: EditEventData, answer: Answer) -> Transition:
        if answer.choice == "default":
            data.photo_text = _title_text(ctx, await chosen_event(ctx, data))
        elif squeezed(answer):
            data.photo_text = squeezed(answer)[:PHOTO_TEXT_LENGTH]
        else:
            return _again(ctx, data, N_("A few words, please, or tap the button."))
        return Transition.go(EditStep.CONFIRM, data)


def _title_text(ctx: FlowContext, event: Event) -> str:
    return ctx._(N_("Photo: {title}")).format(title=event.title)


def _again(ctx: FlowContext, data: EditEventData, text: str) -> Transition:
    return Transition.stay(data, OutMessage(ctx._(text)))


class ConfirmChange(Question[EditEventData]):
    state = EditStep.CONFIRM

    def __init__(self, photos: FeedbackOptions) -> None:
        self._photos = photos

    async def ask(self, ctx: FlowContext, data: EditEventData) -> OutMessage:
        if data.changes_photo:
            return self._ask_photo(ctx, data)
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
        if data.changes_photo:
            return await self._save_photo(ctx, data, event)
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

    def _ask_photo(self, ctx: FlowContext, data: EditEventData) -> OutMessage:
        if data.remove_photo:
            change = ctx._(N_("The invitation goes without a photo from now on."))
            kept = N_(
                "Invitations already delivered keep the photo they had; "
                "those not yet sent go without it."
            )
        else:
            change = "🖼 " + ctx._(N_("With a photo: {text}")).format(text=data.photo_text)
            kept = N_(
                "Invitations already delivered keep the photo they had; "
                "those not yet sent get the new one."
            )
        ask = ctx._(N_("Shall I save it?"))
        return OutMessage(
            f"{change}\n{ctx._(kept)}\n\n{ask}",
            choices=(
                ctx.choice("yes", N_("Yes, save it"), "✅", *YES_WORDS),
                ctx.choice("no", N_("No, leave it"), "✋", *NO_WORDS),
            ),
        )

    async def _save_photo(self, ctx: FlowContext, data: EditEventData, event: Event) -> Transition:
        new = None
        if data.photo is not None:
            try:
                new = make_snap(
                    self._photos,
                    data.photo.media(),
                    event_id=event.id,
                    person_id=ctx.person.id,
                    platform=data.photo.platform,
                    purpose=COVER,
                )
            except TooLarge:  # its stated size was checked when it came: nothing to keep
                return Transition.end(OutMessage(ctx._(N_("Left as it was."))))
            new.caption = data.photo_text or None
            await ctx.uow.feedback.add_snap(new)
            file_to_fetch()
        await change_invitation_photo(ctx.services, event, new)
        await ctx.uow.audit.record(
            AuditAction.EVENT_CHANGED, actor_id=ctx.person.id, event_id=event.id
        )
        return Transition.end(OutMessage(ctx._(N_("Saved. 👍"))))


class EditEvent(ManageEventFlow[EditEventData]):
    name = "editevent"
    data_model = EditEventData
    commands = (
        CommandSpec(
            "editevent",
            "retarrangement",
            N_("Change the time, place or photo of an event"),
            role=Role.COORDINATOR,
        ),
    )

    def __init__(self, *, photos: FeedbackOptions | None = None) -> None:
        """`photos`: where an invitation's photo is kept and how large it may be (as for
        /newevent); without them the photo is not offered."""
        options = photos or FeedbackOptions()
        self._questions = by_state(
            ChooseEventToEdit(),
            WhatChanges(photos=photos is not None),
            NewTime(),
            NewEnd(),
            NewPlace(),
            NewPhoto(options.max_snap_bytes),
            NewPhotoText(),
            ConfirmChange(options),
        )

    @property
    def questions(self) -> Mapping[str, Question[EditEventData]]:
        return self._questions

    def takes_location(self, state: str) -> bool:
        return state == EditStep.PLACE

    def takes_media(self, state: str) -> bool:
        return state == EditStep.PHOTO

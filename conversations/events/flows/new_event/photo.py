"""A photo for the invitation, asked from the preview: the photo (or skip), then a few
words saying what it shows, for those who cannot see it (or the title as a default)."""

from __future__ import annotations

from dataclasses import dataclass

from conversations.core.flow import Answer, FlowContext, Transition
from conversations.core.i18n import N_
from conversations.core.messages import Choice, MediaKind, OutMessage
from conversations.core.questions import Question
from conversations.events.flows.new_event.draft import (
    DraftPhoto,
    NewEventData,
    Step,
    retry,
    skip_choice,
    squeezed,
)

PHOTO_TEXT_LENGTH = 200  # a text alternative is a sentence, not a story


@dataclass(frozen=True, slots=True)
class PhotoAnswer:
    """What an answer to "send a photo" brings: the photo and its caption (the text
    alternative, when the person wrote one), or the problem to tell them (a msgid)."""

    photo: DraftPhoto | None = None
    caption: str = ""
    problem: str | None = None


def photo_answer(ctx: FlowContext, answer: Answer, max_bytes: int) -> PhotoAnswer:
    """Used by `/nytarrangement` and `/retarrangement` alike."""
    media = answer.media
    if media is None or media.kind != MediaKind.PHOTO:
        return PhotoAnswer(problem=N_("That was not a photo. Send a photo, or tap Skip."))
    if media.size is not None and media.size > max_bytes:
        return PhotoAnswer(problem=N_("That photo is too large. Send a smaller one, or tap Skip."))
    photo = DraftPhoto(
        platform=ctx.ref.platform,
        file_ref=media.file_ref,
        mime_type=media.mime_type,
        size=media.size,
    )
    caption = squeezed(answer)[:PHOTO_TEXT_LENGTH] if answer.text and answer.text.strip() else ""
    return PhotoAnswer(photo=photo, caption=caption)


def default_photo_text(ctx: FlowContext, data: NewEventData) -> str:
    return ctx._(N_("Photo: {title}")).format(title=data.title)


class PhotoQuestion(Question[NewEventData]):
    state = Step.PHOTO

    def __init__(self, max_bytes: int) -> None:
        self._max_bytes = max_bytes

    async def ask(self, ctx: FlowContext, data: NewEventData) -> OutMessage:
        # a copy comes with its source's photo: skipping keeps it, or it can go
        remove = (
            () if data.photo is None else (ctx.choice("nophoto", N_("Remove the photo"), "🚫"),)
        )
        return OutMessage(
            ctx._(N_("Send a photo to show with the invitation, or tap Skip.")),
            choices=(skip_choice(ctx), *remove),
        )

    async def take(self, ctx: FlowContext, data: NewEventData, answer: Answer) -> Transition:
        if answer.choice == "skip":
            return Transition.go(Step.PREVIEW, data)
        if answer.choice == "nophoto":
            data.photo, data.photo_text = None, ""
            return Transition.go(Step.PREVIEW, data)
        taken = photo_answer(ctx, answer, self._max_bytes)
        if taken.problem is not None:
            return retry(ctx, data, taken.problem)
        data.photo = taken.photo
        if taken.caption:  # a caption says what it shows
            data.photo_text = taken.caption
            return Transition.go(Step.PREVIEW, data)
        return Transition.go(Step.PHOTO_TEXT, data)


class PhotoTextQuestion(Question[NewEventData]):
    state = Step.PHOTO_TEXT

    async def ask(self, ctx: FlowContext, data: NewEventData) -> OutMessage:
        default = default_photo_text(ctx, data)
        return OutMessage(
            ctx._(
                N_(
                    "In a few words, what does the photo show? It is read out to those who "
                    "cannot see it. Or tap to use the title."
                )
            ),
            choices=(Choice("default", default, "🖼"),),
            expects_text=True,
        )

    async def take(self, ctx: FlowContext, data: NewEventData, answer: Answer) -> Transition:
        if answer.choice == "default":
            data.photo_text = default_photo_text(ctx, data)
        elif squeezed(answer):
            data.photo_text = squeezed(answer)[:PHOTO_TEXT_LENGTH]
        else:
            return retry(ctx, data, N_("A few words, please, or tap the button."))
        return Transition.go(Step.PREVIEW, data)

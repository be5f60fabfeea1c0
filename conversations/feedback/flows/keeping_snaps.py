"""Photos and voice notes for an event's log, kept the same way wherever they are sent: the
person says once whether they share them at all, and then each one goes to the log.

Both journey feedback and `/snap` ask the same question (`SnapConsentQuestion`) and keep a
snap the same way (`SnapKeeper`); neither flow reaches into the other.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

from conversations.core.flow import Answer, FlowContext, FlowData, Transition
from conversations.core.i18n import N_
from conversations.core.media import TooLarge, file_to_fetch
from conversations.core.messages import Media, MediaKind, OutMessage
from conversations.core.questions import Question
from conversations.feedback.rules.snaps import FeedbackOptions, make_snap, megabytes
from storage.models import Event, Snap

SNAP_CONSENT = "snapconsent"  # the state of the question whether photos are shared


class FeedbackOptionsSource(Protocol):
    """Where the current feedback options are read: the feedback flow carries them and the
    snap-log reads them from it when it needs them, so a change reaches both alike."""

    options: FeedbackOptions


class PendingSnap(BaseModel):
    """A photo or voice note sent before the person said whether they share them; it waits
    with the conversation until they answer. Stored with all five keys, as before."""

    model_config = ConfigDict(extra="ignore")

    kind: MediaKind
    file_ref: str
    mime_type: str | None
    size: int | None
    caption: str | None

    @classmethod
    def of(cls, media: Media) -> PendingSnap:
        return cls(
            kind=media.kind,
            file_ref=media.file_ref,
            mime_type=media.mime_type,
            size=media.size,
            caption=media.caption,
        )

    def media(self) -> Media:
        return Media(
            kind=self.kind,
            file_ref=self.file_ref,
            mime_type=self.mime_type,
            size=self.size,
            caption=self.caption,
        )


class KeepingSnapsData(FlowData):
    """What a flow that takes snaps keeps for the photo question (each flow extends it)."""

    event_id: int
    pending: PendingSnap | None = None
    # the question the photo came in at, asked again once the photo question is answered
    back_to: str | None = None


SnapDataT = TypeVar("SnapDataT", bound=KeepingSnapsData)


def not_shared_note(ctx: FlowContext) -> str:
    return ctx._(
        N_(
            "You chose not to share photos and voice notes, so I haven't kept it. "
            "/settings lets you change that."
        )
    )


def wont_keep_note(ctx: FlowContext) -> str:
    return ctx._(N_("OK, I won't keep photos or voice notes from you."))


def too_large_note(ctx: FlowContext, error: TooLarge) -> OutMessage:
    return OutMessage(
        ctx._(
            N_(
                "That file is too large: I can keep up to {mb} MB. Could you send a "
                "smaller photo or a shorter voice note?"
            )
        ).format(mb=megabytes(error.limit))
    )


class SnapKeeper:
    """Keeps a person's photo or voice note for an event, within the size cap."""

    def __init__(self, source: FeedbackOptionsSource) -> None:
        self._source = source

    @property
    def options(self) -> FeedbackOptions:
        return self._source.options

    async def snap(self, ctx: FlowContext, event_id: int, media: Media, purpose: str) -> Snap:
        """The stored snap, its file fetched after the commit; raises `TooLarge` past the
        size cap the platform states (a file found larger once fetched is refused then,
        and the person told)."""
        snap = make_snap(
            self.options,
            media,
            event_id=event_id,
            person_id=ctx.person.id,
            platform=ctx.ref.platform,
            purpose=purpose,
        )
        await ctx.uow.feedback.add_snap(snap)
        file_to_fetch()
        return snap

    async def keep_in_log(self, ctx: FlowContext, event: Event, media: Media) -> OutMessage:
        """Keep `media` in the event's log; the thanks, or why it could not be kept."""
        try:
            await self.snap(ctx, event.id, media, "log")
        except TooLarge as too_large:
            return too_large_note(ctx, too_large)
        return OutMessage(
            ctx._(N_("Thank you! It's in the log for {title}.")).format(title=event.title)
        )

    async def to_log(
        self, ctx: FlowContext, event: Event, state: str, data: SnapDataT, media: Media
    ) -> Transition:
        """A snap sent at the question of `state`: kept if the person shares snaps, refused
        if they don't, and held while the photo question is asked if they haven't said."""
        consent = await ctx.uow.feedback.snap_consent(ctx.person.id)
        if consent is None:
            waiting = data.model_copy(update={"pending": PendingSnap.of(media), "back_to": state})
            return Transition.go(SNAP_CONSENT, waiting)
        if not consent:
            return Transition.stay(data, OutMessage(not_shared_note(ctx)))
        return Transition.stay(data, await self.keep_in_log(ctx, event, media))


class SnapConsentQuestion(Question[SnapDataT]):
    """Whether the person shares photos and voice notes with the organisers; asked once.

    A yes keeps the snap that was waiting and goes back to the question it came in at.
    Each flow says how it checks that the event still takes snaps (`open_event`).
    """

    state = SNAP_CONSENT
    # where to go on when the conversation names no question to go back to
    default_back_to: ClassVar[str]
    # a flow that is only there to collect snaps has nothing left to do after a no
    refusal_ends: ClassVar[bool] = False

    def __init__(self, keeper: SnapKeeper) -> None:
        self.keeper = keeper

    @abstractmethod
    async def open_event(self, ctx: FlowContext, data: SnapDataT) -> Event | Transition:
        """The event the snaps are for, or how the conversation ends when it is closed."""

    async def ask(self, ctx: FlowContext, data: SnapDataT) -> OutMessage:
        return OutMessage(
            ctx._(
                N_(
                    "Would you like to share photos and voice notes with the "
                    "organisers? They are kept in the event's log, and /forget deletes "
                    "them. I only ask this once; /settings can change it later."
                )
            ),
            choices=(
                ctx.choice("yes", N_("Yes, share them"), "📷", "ja", "yes"),
                ctx.choice("no", N_("No, don't keep them"), "🚫", "nej", "no"),
            ),
        )

    async def take(self, ctx: FlowContext, data: SnapDataT, answer: Answer) -> Transition:
        event = await self.open_event(ctx, data)
        if isinstance(event, Transition):
            return event
        if answer.choice not in ("yes", "no"):
            return Transition.stay(data)
        given = answer.choice == "yes"
        await ctx.uow.feedback.set_snap_consent(ctx.person.id, given)
        if not given and self.refusal_ends:
            return Transition.end(OutMessage(wont_keep_note(ctx)))
        said: tuple[OutMessage, ...] = ()
        if given and data.pending is not None:
            said = (await self.keeper.keep_in_log(ctx, event, data.pending.media()),)
        elif not given:
            said = (OutMessage(wont_keep_note(ctx)),)
        rest = data.model_copy(update={"pending": None, "back_to": None})
        return Transition.go(data.back_to or self.default_back_to, rest, *said)

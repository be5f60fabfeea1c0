"""A coordinator's look at one initiative, opened from `/initiatives`: where it stands, with
buttons to let its first push go out, back it, hide it or show it again; backing asks for a
note and whether to send it wider, hiding asks for the reason.
"""

from __future__ import annotations

from conversations.core.flow import Answer, Flow, FlowContext, FlowData, Transition
from conversations.core.i18n import N_
from conversations.core.messages import OutMessage
from conversations.core.prompts import offer
from conversations.core.questions import Question
from conversations.core.words import NO_WORDS, SKIP_WORDS, YES_WORDS
from conversations.events.flows.new_event.draft import skip_choice
from conversations.initiatives.flows.new_initiative import push_limits
from conversations.initiatives.rules import moderation
from conversations.initiatives.rules.pushes import moderator_status
from storage.models import Event, EventOrigin, EventStatus, PushState

MODERATE = "moderate"  # the state of the buttons under an initiative's status
BACK_NOTE = "back_note"
BACK_WIDER = "back_wider"
HIDE_REASON = "hide_reason"
MAX_NOTE = 1000


class ModerationData(FlowData):
    """The initiative a coordinator is backing or hiding, and what they wrote so far."""

    event_id: int | None = None
    note: str = ""  # what the municipality brings, once asked


async def initiative(ctx: FlowContext, event_id: object) -> Event | None:
    """The initiative with this id (from a button's context or the data), if it is one."""
    event = await ctx.uow.events.get(event_id) if isinstance(event_id, int) else None
    return event if event is not None and event.origin == EventOrigin.INITIATIVE else None


async def moderated(ctx: FlowContext, data: ModerationData) -> Event:
    """The initiative being moderated, which the flow has just checked is one."""
    event = await initiative(ctx, data.event_id)
    assert event is not None
    return event


async def moderation_card(ctx: FlowContext, flow: Flow, event: Event) -> OutMessage:
    """Where the initiative stands, with what a coordinator can do about it now."""
    status = moderator_status(ctx.translator, event, ctx.config.timezone)
    choices = []
    if event.push_state == PushState.AWAITING_APPROVAL:
        choices.append(ctx.choice("approve", N_("Looks fine: send it out"), "👍"))
    if event.status == EventStatus.PUBLISHED:
        choices.append(ctx.choice("back", N_("Back it"), "🏛"))
        choices.append(ctx.choice("hide", N_("Hide it"), "🙈"))
    elif event.status == EventStatus.HIDDEN:
        choices.append(ctx.choice("unhide", N_("Show it again"), "👀"))
    card = OutMessage(status, choices=tuple(choices))
    if not choices:
        return card
    return await offer(ctx, flow, card, state=MODERATE, context={"event_id": event.id})


async def moderate(ctx: FlowContext, flow: Flow, event: Event, choice_id: str) -> Transition | None:
    """A button on the card (the caller has checked the person is a coordinator)."""
    match choice_id:
        case "approve":
            if event.push_state != PushState.AWAITING_APPROVAL:
                return Transition.end(OutMessage(ctx._(N_("Someone has already looked at it."))))
            await moderation.approve(ctx.services, event, ctx.person.id, push_limits(ctx))
            return Transition.end(OutMessage(ctx._(N_("Thank you! It is on its way to people."))))
        case "back":
            return Transition.go(BACK_NOTE, ModerationData(event_id=event.id))
        case "hide":
            if event.status == EventStatus.HIDDEN:
                return Transition.end(OutMessage(ctx._(N_("It is already hidden."))))
            return Transition.go(HIDE_REASON, ModerationData(event_id=event.id))
        case "unhide":
            if event.status != EventStatus.HIDDEN:
                return Transition.end(OutMessage(ctx._(N_("It is already shown."))))
            await moderation.unhide(ctx.services, event, ctx.person.id, push_limits(ctx))
            done = OutMessage(ctx._(N_("Shown again. The author is told. 👀")))
            return Transition.end(done, await moderation_card(ctx, flow, event))
    return None


class BackingNote(Question[ModerationData]):
    state = BACK_NOTE

    async def ask(self, ctx: FlowContext, data: ModerationData) -> OutMessage:
        return OutMessage(
            ctx._(
                N_(
                    "What does the municipality bring? For example materials, a place "
                    "or a permit. It is shown with the initiative. Or skip."
                )
            ),
            choices=(skip_choice(ctx),),
            expects_text=True,
        )

    async def take(self, ctx: FlowContext, data: ModerationData, answer: Answer) -> Transition:
        text = (answer.text or "").strip()
        if answer.choice == "skip" or text.lower() in SKIP_WORDS:
            data.note = ""
        elif not text or len(text) > MAX_NOTE:
            return Transition.stay(data)
        else:
            data.note = text
        return Transition.go(BACK_WIDER, data)


class BackingWider(Question[ModerationData]):
    state = BACK_WIDER

    async def ask(self, ctx: FlowContext, data: ModerationData) -> OutMessage:
        return OutMessage(
            ctx._(
                N_("Shall I also send it wider, to everyone who wants to hear about initiatives?")
            ),
            choices=(
                ctx.choice("yes", N_("Yes, send it wider"), "📣", *YES_WORDS),
                ctx.choice("no", N_("No, just the mark"), "🏛", *NO_WORDS),
            ),
        )

    async def take(self, ctx: FlowContext, data: ModerationData, answer: Answer) -> Transition:
        if answer.choice not in ("yes", "no"):
            return Transition.stay(data)
        event = await moderated(ctx, data)
        if event.status != EventStatus.PUBLISHED:
            return Transition.end(OutMessage(ctx._(N_("That initiative is no longer open."))))
        await moderation.back(
            ctx.services,
            event,
            ctx.person.id,
            push_limits(ctx),
            note=data.note,
            wider=answer.choice == "yes",
        )
        return Transition.end(OutMessage(ctx._(N_("Backed. The author is told. 🏛"))))


class HidingReason(Question[ModerationData]):
    state = HIDE_REASON

    async def ask(self, ctx: FlowContext, data: ModerationData) -> OutMessage:
        return OutMessage(
            ctx._(
                N_(
                    "Why should it be hidden? The author is told your reason, so write "
                    "it kindly and plainly."
                )
            ),
            expects_text=True,
        )

    async def take(self, ctx: FlowContext, data: ModerationData, answer: Answer) -> Transition:
        reason = (answer.text or "").strip()
        if not reason or len(reason) > MAX_NOTE:
            return Transition.stay(data, OutMessage(ctx._(N_("Please write a short reason."))))
        event = await moderated(ctx, data)
        if event.status == EventStatus.HIDDEN:  # another coordinator was quicker
            return Transition.end(OutMessage(ctx._(N_("It is already hidden."))))
        await moderation.hide(ctx.services, event, ctx.person.id, reason)
        return Transition.end(OutMessage(ctx._(N_("Hidden. The author is told why."))))

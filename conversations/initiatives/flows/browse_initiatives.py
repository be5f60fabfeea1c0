"""`/initiatives`: citizens' own initiatives, listed for everyone; for coordinators also the
moderation view: approve, back (with a note and a wider push), hide with a reason, show again.
Every moderation action is written to `moderation_log`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from conversations.core.commands import CommandSpec
from conversations.core.flow import Answer, Flow, FlowContext, Transition
from conversations.core.i18n import N_, Translator
from conversations.core.messages import Choice, OutMessage
from conversations.core.prompts import offer
from conversations.core.words import NO_WORDS, SKIP_WORDS, YES_WORDS
from conversations.events.flows.answer_invitation import show_invitation
from conversations.events.flows.new_event.draft import skip_choice
from conversations.events.flows.pick_event import only_coordinators
from conversations.events.rules.invitations import (
    batch_invitations,
    is_open,
    publish,
    refresh_pending_invitations,
)
from conversations.events.rules.notifier import Notifier, concerned_answers, person_ids_of
from conversations.events.rules.reminders import sync_reminders
from conversations.initiatives.flows.new_initiative import push_from_flow
from conversations.initiatives.rules.pushes import initiative_status
from storage.models import (
    Event,
    EventOrigin,
    EventStatus,
    Prompt,
    PushState,
)
from storage.repositories.audiences import AUDIENCE_INITIATIVE

MAX_NOTE = 1000


class ModStep(StrEnum):
    BACK_NOTE = "back_note"
    BACK_WIDER = "back_wider"
    HIDE_REASON = "hide_reason"


def event_choice(choice_id: str, prefix: str) -> int | None:
    if choice_id.startswith(prefix) and choice_id[len(prefix) :].isdigit():
        return int(choice_id[len(prefix) :])
    return None


class Initiatives(Flow):
    """`/initiatives`: everyone sees the list and can open one; coordinators also moderate."""

    name = "initiatives"
    commands = (CommandSpec("initiatives", "initiativer", N_("Citizens' own initiatives")),)

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        now = ctx.now()
        shown = list(await ctx.uow.initiatives.initiatives(now))
        lines: list[str] = []
        choices: list[Choice] = []
        hidden: list[Event] = []
        if ctx.is_coordinator:
            queue = await ctx.uow.initiatives.awaiting_approval()
            if queue:
                lines.append(ctx._(N_("Waiting for a coordinator to look:")))
                for event in queue:
                    lines.append(f"⏳ {event.title}")
                    choices.append(Choice(f"i{event.id}", f"⏳ {event.title}"[:60]))
                lines.append("")
                shown = [e for e in shown if e not in queue]
            hidden = list(await ctx.uow.initiatives.hidden_initiatives(now))
        if not shown and not choices and not hidden:
            return Transition.end(
                OutMessage(
                    ctx._(N_("No initiatives right now. /initiative starts one of your own!"))
                )
            )
        if shown:
            lines.append(ctx._(N_("Citizens' initiatives:")))
        for event in shown:
            mark = "🏛 " if event.backed_by_id is not None else ""
            when = ctx._(N_("an idea")) if event.idea else ctx.when(event.starts_at)
            lines.append(f"• {mark}{event.title} – {when}")
            choices.append(Choice(f"i{event.id}", f"{mark}{event.title}"[:60]))
        choices = choices[: 9 if hidden else 10]
        if hidden:  # last, and never cut off by a long list
            hidden_line = ctx.ngettext(
                "🙈 One initiative is hidden by a coordinator.",
                "🙈 {n} initiatives are hidden by a coordinator.",
                len(hidden),
            )
            lines += ["", hidden_line.format(n=len(hidden))]
            choices.append(ctx.choice("hidden", N_("See the hidden ones"), "🙈"))
        message = OutMessage("\n".join(lines).strip(), choices=tuple(choices))
        return Transition.end(await offer(ctx, self, message, state="list", context={}))

    async def _hidden_list(self, ctx: FlowContext) -> Transition:
        hidden = await ctx.uow.initiatives.hidden_initiatives(ctx.now())
        if not hidden:
            return Transition.end(OutMessage(ctx._(N_("No initiatives are hidden right now."))))
        lines = [ctx._(N_("Hidden initiatives. Open one to show it again:"))]
        for event in hidden:
            lines.append(f"🙈 {event.title} – {event.hidden_reason or '–'}")
        message = OutMessage(
            "\n".join(lines),
            choices=tuple(Choice(f"i{event.id}", f"🙈 {event.title}"[:60]) for event in hidden),
        )
        return Transition.end(await offer(ctx, self, message, state="list", context={}))

    async def detached(self, ctx: FlowContext, prompt: Prompt, choice_id: str) -> Transition | None:
        if prompt.person_id != ctx.person.id:
            return Transition.end(OutMessage(ctx._(N_("That button wasn't for you."))))
        if prompt.state == "list":
            if choice_id == "hidden":
                if not ctx.is_coordinator:
                    return only_coordinators(ctx)
                return await self._hidden_list(ctx)
            event_id = event_choice(choice_id, "i")
            event = await ctx.uow.events.get(event_id) if event_id else None
            if event is None or event.origin != EventOrigin.INITIATIVE:
                return None
            return await self._open(ctx, event)
        if prompt.state != "moderate":
            return None
        if not ctx.is_coordinator:  # a role can be taken away; buttons prove nothing
            return only_coordinators(ctx)
        event_id = prompt.context.get("event_id")
        event = await ctx.uow.events.get(event_id) if isinstance(event_id, int) else None
        if event is None or event.origin != EventOrigin.INITIATIVE:
            return None
        match choice_id:
            case "approve":
                return await self._approve(ctx, event)
            case "back":
                return Transition.go(ModStep.BACK_NOTE, {"event_id": event.id})
            case "hide":
                if event.status == EventStatus.HIDDEN:
                    return Transition.end(OutMessage(ctx._(N_("It is already hidden."))))
                return Transition.go(ModStep.HIDE_REASON, {"event_id": event.id})
            case "unhide":
                return await self._unhide(ctx, event)
        return None

    async def _open(self, ctx: FlowContext, event: Event) -> Transition:
        if event.status != EventStatus.PUBLISHED and not ctx.is_coordinator:
            return Transition.end(OutMessage(ctx._(N_("That initiative is no longer open."))))
        if is_open(event, ctx.now()) and event.created_by_id != ctx.person.id:
            await ctx.uow.events.invite(event.id, ctx.person.id, "list")
        said: list[OutMessage] = []
        if is_open(event, ctx.now()):
            said.append(await show_invitation(ctx, event))
        if ctx.is_coordinator:
            said.append(await self._moderation(ctx, event))
        return Transition.end(*said)

    async def _moderation(self, ctx: FlowContext, event: Event) -> OutMessage:
        """Where the initiative stands, with what a coordinator can do about it now."""
        status = initiative_status(ctx.translator, event, ctx.config.timezone)
        choices = []
        if event.push_state == PushState.AWAITING_APPROVAL:
            choices.append(ctx.choice("approve", N_("Looks fine: send it out"), "👍"))
        if event.status == EventStatus.PUBLISHED:
            choices.append(ctx.choice("back", N_("Back it"), "🏛"))
            choices.append(ctx.choice("hide", N_("Hide it"), "🙈"))
        elif event.status == EventStatus.HIDDEN:
            choices.append(ctx.choice("unhide", N_("Show it again"), "👀"))
        moderation = OutMessage(status, choices=tuple(choices))
        if not choices:
            return moderation
        return await offer(ctx, self, moderation, state="moderate", context={"event_id": event.id})

    async def _approve(self, ctx: FlowContext, event: Event) -> Transition:
        if event.push_state != PushState.AWAITING_APPROVAL:
            return Transition.end(OutMessage(ctx._(N_("Someone has already looked at it."))))
        await ctx.uow.moderation.log(ctx.person.id, "approve", event.id)
        await push_from_flow(ctx, event, approved=True)
        return Transition.end(OutMessage(ctx._(N_("Thank you! It is on its way to people."))))

    async def _unhide(self, ctx: FlowContext, event: Event) -> Transition:
        if event.status != EventStatus.HIDDEN:
            return Transition.end(OutMessage(ctx._(N_("It is already shown."))))
        now = ctx.now()
        event.status = EventStatus.PUBLISHED
        event.hidden_reason = None
        ctx.uow.events.touch(event)
        entry = await ctx.uow.moderation.log(ctx.person.id, "unhide", event.id)
        coming = await concerned_answers(ctx.uow, event)
        for rsvp in coming:  # hiding cancelled their reminders
            assert rsvp.person_id is not None
            await sync_reminders(ctx.uow, event, rsvp.person_id, rsvp.answer, now)
        if event.pushed_at is not None:
            event.push_state = PushState.PUSHED  # it went out before it was hidden: not again
        else:  # as when it was posted: within the author's limits, or to a coordinator first
            await push_from_flow(ctx, event)

        def render(tr: Translator) -> str:
            return tr.gettext(
                N_(
                    "Good news: a coordinator has made your initiative {title} visible again. "
                    "It is back on the list of initiatives."
                )
            ).format(title=event.title)

        await self._tell_author(ctx, event, render, f"shown:{event.id}:{entry.id}")
        # those who joined were told it was off
        notifier = Notifier(ctx.services)
        await notifier.tell(
            [pid for pid in person_ids_of(coming) if pid != event.created_by_id],
            lambda tr: tr.gettext(
                N_(
                    "Good news: {title} is back on the list of initiatives, so it is on again. "
                    "Your answer from before still stands."
                )
            ).format(title=event.title),
            key=lambda person: f"shownjoined:{event.id}:{entry.id}:{person.id}",
            kind="initiative",
            batch=f"ini:{event.id}",
            event=event,
        )
        done = OutMessage(ctx._(N_("Shown again. The author is told. 👀")))
        return Transition.end(done, await self._moderation(ctx, event))

    async def prompt(self, ctx: FlowContext, state: str, data: dict[str, Any]) -> OutMessage:
        match ModStep(state):
            case ModStep.BACK_NOTE:
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
            case ModStep.BACK_WIDER:
                return OutMessage(
                    ctx._(
                        N_(
                            "Shall I also send it wider, to everyone who wants to hear about "
                            "initiatives?"
                        )
                    ),
                    choices=(
                        ctx.choice("yes", N_("Yes, send it wider"), "📣", *YES_WORDS),
                        ctx.choice("no", N_("No, just the mark"), "🏛", *NO_WORDS),
                    ),
                )
            case ModStep.HIDE_REASON:
                return OutMessage(
                    ctx._(
                        N_(
                            "Why should it be hidden? The author is told your reason, so write "
                            "it kindly and plainly."
                        )
                    ),
                    expects_text=True,
                )

    async def handle(
        self, ctx: FlowContext, state: str, data: dict[str, Any], answer: Answer
    ) -> Transition:
        if not ctx.is_coordinator:
            return only_coordinators(ctx)
        event = await ctx.uow.events.get(int(data["event_id"]))
        if event is None or event.origin != EventOrigin.INITIATIVE:
            return only_coordinators(ctx)
        text = (answer.text or "").strip()
        match ModStep(state):
            case ModStep.BACK_NOTE:
                if answer.choice == "skip" or text.lower() in SKIP_WORDS:
                    data["note"] = ""
                elif not text or len(text) > MAX_NOTE:
                    return Transition.stay(data)
                else:
                    data["note"] = text
                return Transition.go(ModStep.BACK_WIDER, data)
            case ModStep.BACK_WIDER:
                if answer.choice not in ("yes", "no"):
                    return Transition.stay(data)
                return await self._back(ctx, event, data.get("note", ""), answer.choice == "yes")
            case ModStep.HIDE_REASON:
                if not text or len(text) > MAX_NOTE:
                    return Transition.stay(
                        data, OutMessage(ctx._(N_("Please write a short reason.")))
                    )
                return await self._hide(ctx, event, text)
        return Transition.stay(data)

    async def _back(self, ctx: FlowContext, event: Event, note: str, wider: bool) -> Transition:
        now = ctx.now()
        if event.status != EventStatus.PUBLISHED:
            return Transition.end(OutMessage(ctx._(N_("That initiative is no longer open."))))
        event.backed_by_id = ctx.person.id
        event.backing_note = note
        ctx.uow.events.touch(event)
        await ctx.uow.moderation.log(ctx.person.id, "back", event.id, note)
        if event.push_state == PushState.AWAITING_APPROVAL:
            await ctx.uow.moderation.log(ctx.person.id, "approve", event.id)
            await push_from_flow(ctx, event, approved=True)
        if wider:
            event.audience = {**event.audience, "kind": AUDIENCE_INITIATIVE, "wider": True}
            await ctx.uow.moderation.log(ctx.person.id, "push_wider", event.id)
            await publish(ctx.services, event)
            event.pushed_at = event.pushed_at or now
            event.push_state = PushState.PUSHED
        await refresh_pending_invitations(ctx.services, event)

        def render(tr: Translator) -> str:
            text = tr.gettext(
                N_("Good news: the municipality backs your initiative {title}! 🏛")
            ).format(title=event.title)
            if note:
                text += "\n" + tr.gettext(N_("What they bring: {note}")).format(note=note)
            return text

        await self._tell_author(ctx, event, render, f"backed:{event.id}")
        return Transition.end(OutMessage(ctx._(N_("Backed. The author is told. 🏛"))))

    async def _hide(self, ctx: FlowContext, event: Event, reason: str) -> Transition:
        if event.status == EventStatus.HIDDEN:  # another coordinator was quicker
            return Transition.end(OutMessage(ctx._(N_("It is already hidden."))))
        event.status = EventStatus.HIDDEN
        event.hidden_reason = reason
        event.push_state = PushState.NONE
        ctx.uow.events.touch(event)
        await ctx.uow.events.cancel_reminders(event.id)
        await ctx.uow.broadcasts.cancel_pending_outbox(
            [batch_invitations(event.id), f"wl:{event.id}", f"rem:{event.id}"]
        )
        entry = await ctx.uow.moderation.log(ctx.person.id, "hide", event.id, reason)

        def render(tr: Translator) -> str:
            return tr.gettext(
                N_(
                    "A coordinator has hidden your initiative {title}, so it is no longer shown. "
                    "The reason: {reason}"
                )
            ).format(title=event.title, reason=reason)

        # keyed by the log entry: hidden again after being shown again is news again
        await self._tell_author(ctx, event, render, f"hidden:{event.id}:{entry.id}")
        # those who joined hear it is off (the reason is for the author only)
        joined = [
            pid
            for pid in person_ids_of(await concerned_answers(ctx.uow, event))
            if pid != event.created_by_id
        ]
        notifier = Notifier(ctx.services)
        await notifier.tell(
            joined,
            lambda tr: tr.gettext(
                N_("Sorry: {title} has been taken off the list of initiatives, so it is off.")
            ).format(title=event.title),
            key=lambda person: f"hiddenjoined:{event.id}:{entry.id}:{person.id}",
            kind="initiative",
            batch=f"ini:{event.id}",
            event=event,
        )
        return Transition.end(OutMessage(ctx._(N_("Hidden. The author is told why."))))

    async def _tell_author(self, ctx: FlowContext, event: Event, render: Any, key: str) -> None:
        if event.created_by_id is None:
            return
        notifier = Notifier(ctx.services)
        await notifier.tell(
            [event.created_by_id],
            render,
            key=lambda person: f"{key}:{person.id}",
            kind="initiative",
            batch=f"ini:{event.id}",
            event=event,
        )

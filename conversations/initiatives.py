"""Initiatives by everyday activists: any citizen who has consented posts an event or an idea
of their own (`/initiative`), listed at once in `/initiatives` and pushed to people who want
to hear about citizens' initiatives in its interests or areas.

Limits that stop spam: at most `initiative_pushes_per_day` pushes per author (a later one
waits, and goes when the day has passed), and an author's first push waits until a
coordinator has looked (approve, back or hide). Coordinators can back an initiative (a
visible mark, a note on what they bring, and an offer to push it wider), hide it with a
reason the author is told, and show a hidden one again. Every moderation action is written
to `moderation_log`.

An initiative is an `Event` with `origin="initiative"`: joining it, its tasks, pledges and
reminders work exactly as for events. The author is down as coming (so gets the reminders),
and sees who is coming with `/myinitiatives`.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from conversations import events as ev
from conversations.create_event import NewEvent, Step, only_coordinators, skip_choice
from conversations.engine import offer
from conversations.event_admin import Attendees, write_to_attendees
from conversations.flow import (
    NO_WORDS,
    SKIP_WORDS,
    YES_WORDS,
    Answer,
    Flow,
    FlowContext,
    Transition,
)
from conversations.i18n import N_, Translations, Translator
from conversations.messages import Choice, OutMessage
from conversations.rsvp import show_invitation
from storage.models import (
    Event,
    EventOrigin,
    EventStatus,
    Prompt,
    PushState,
    RsvpAnswer,
)
from storage.repositories.audiences import AUDIENCE_INITIATIVE
from storage.unit_of_work import UnitOfWork

IDEA_OPEN_FOR = timedelta(days=60)
MAX_NOTE = 1000
DAY = timedelta(days=1)


# -- pushing, within limits ---------------------------------------------------------------------


async def request_push(
    uow: UnitOfWork,
    translations: Translations,
    timezone: str,
    event: Event,
    now: datetime,
    *,
    per_day: int,
    approved: bool = False,
    named_coordinators: Collection[str] = (),
) -> str:
    """Push the initiative now, or say why it waits. Returns the new `push_state`.

    `named_coordinators`: the coordinators named in the settings ("platform:user"), told
    with the others when a new author's first push waits for a look."""
    author = event.created_by_id
    if event.status != EventStatus.PUBLISHED or author is None:
        event.push_state = PushState.NONE
        return event.push_state
    if not approved and not await uow.pledges.ever_pushed(author):
        if event.push_state != PushState.AWAITING_APPROVAL:
            event.push_state = PushState.AWAITING_APPROVAL
            await tell_coordinators(
                uow, translations, timezone, event, now, named_coordinators=named_coordinators
            )
        return event.push_state
    earlier = await uow.pledges.pushes_since(author, now - DAY)
    if len(earlier) >= per_day:
        event.push_state = PushState.DEFERRED
        # the day counts from the push that would fall out of the window first
        event.push_after = (earlier[len(earlier) - per_day] if per_day else now) + DAY
        return event.push_state
    await ev.publish(uow, translations, timezone, event, now)
    event.push_state = PushState.PUSHED
    event.pushed_at = now
    event.push_after = None
    return event.push_state


async def tell_coordinators(
    uow: UnitOfWork,
    translations: Translations,
    timezone: str,
    event: Event,
    now: datetime,
    *,
    named_coordinators: Collection[str] = (),
) -> int:
    """A word to every coordinator, however they became one (named in the settings, granted
    on the command line, or by a code), that a new author's initiative waits for a look."""
    ids = [person.id for person in await uow.persons.coordinators(named_coordinators)]
    notifier = ev.Notifier(uow, translations, timezone)
    return await notifier.tell(
        [pid for pid in ids if pid != event.created_by_id],
        lambda tr: tr.gettext(
            N_("A new initiative waits for a coordinator to look: {title}. See /initiatives.")
        ).format(title=event.title),
        key=lambda person: f"queue:{event.id}:{person.id}",
        kind="initiative",
        batch=f"ini:{event.id}",
        now=now,
        event=event,
    )


async def push_deferred(
    uow: UnitOfWork, translations: Translations, timezone: str, now: datetime, per_day: int
) -> int:
    """Deferred pushes whose day has come (EventJobs runs this every minute)."""
    pushed = 0
    for event in await uow.pledges.deferred_due(now):
        state = await request_push(
            uow, translations, timezone, event, now, per_day=per_day, approved=True
        )
        pushed += state == PushState.PUSHED
    return pushed


async def _push(ctx: FlowContext, event: Event, now: datetime, *, approved: bool = False) -> str:
    """`request_push` with what a flow knows: its unit of work, languages and settings."""
    return await request_push(
        ctx.uow,
        ctx.translations,
        ctx.config.timezone,
        event,
        now,
        per_day=ctx.config.initiative_pushes_per_day,
        approved=approved,
        named_coordinators=ctx.config.named_coordinators,
    )


def initiative_status(tr: Translator, event: Event, timezone: str) -> str:
    if event.status == EventStatus.HIDDEN:
        return tr.gettext(N_("Hidden by a coordinator: {reason}")).format(
            reason=event.hidden_reason or "–"
        )
    match event.push_state:
        case PushState.AWAITING_APPROVAL:
            return tr.gettext(
                N_(
                    "It is on the list of initiatives. As it is your first, a coordinator takes "
                    "a look before I send it to people who want to hear about initiatives."
                )
            )
        case PushState.DEFERRED:
            assert event.push_after is not None
            return tr.gettext(
                N_(
                    "It is on the list of initiatives. You have already sent one today, so I "
                    "send this one to people {when}."
                )
            ).format(when=tr.format_datetime(event.push_after, timezone))
        case PushState.PUSHED:
            return tr.gettext(
                N_("It is on the list of initiatives and has been sent to people who want to hear.")
            )
    return tr.gettext(N_("It is on the list of initiatives."))


# -- /initiative: posting one, with the event flow's questions ------------------------------------


class NewInitiative(NewEvent):
    """The event questions minus capacity, guests, journey, reminders, audience and sending."""

    name = "initiative"
    skipped = frozenset(
        {
            Step.CAPACITY,
            Step.GUESTS,
            Step.JOURNEY,
            Step.REMINDERS,
            Step.AUDIENCE,
            Step.EARLIER,
            Step.SEND,
            Step.SEND_AT,
        }
    )

    def allowed(self, ctx: FlowContext) -> bool:
        return True  # any citizen who has consented (the command checks consent)

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        intro = ctx._(
            N_(
                "Let's start your initiative! 🌱 Something you'd like to do with others, or an "
                "idea. I'll ask a few things; /back goes back, /cancel stops."
            )
        )
        data: dict[str, Any] = {
            "journey": list(ev.DEFAULT_JOURNEY),
            "reminders": list(ev.DEFAULT_REMINDERS),
            "capacity": None,
            "guests": False,
            "tasks": [],
            "topic_ids": [],
        }
        return Transition.go(Step.TITLE, data, OutMessage(intro))

    async def prompt(self, ctx: FlowContext, state: str, data: dict[str, Any]) -> OutMessage:
        question = await super().prompt(ctx, state, data)
        match Step(state):
            case Step.WHEN:
                idea = ctx.choice("idea", N_("It's an idea, no date yet"), "💡", "idé", "idea")
                return OutMessage(question.text, choices=(idea,), expects_text=True)
            case Step.PLACE:
                return OutMessage(question.text, choices=(skip_choice(ctx),), expects_text=True)
            case Step.TASKS:
                text = ctx._(
                    N_(
                        "What could others help with? One per line, with how many hands, for "
                        'example "medbring kage x2". Tap Done when the list is complete, or '
                        "right away if you need no help."
                    )
                )
                listed = question.text.split("\n\n", 1)
                if len(listed) == 2:
                    text += "\n\n" + listed[1]
                return OutMessage(text, choices=question.choices, expects_text=True)
            case Step.TOPICS:
                return OutMessage(
                    ctx._(
                        N_(
                            "Which interests or areas does it belong to? People who chose them "
                            "and want to hear about initiatives get a message. Tap them, then "
                            "Done."
                        )
                    ),
                    choices=question.choices,
                )
        return question

    async def handle(
        self, ctx: FlowContext, state: str, data: dict[str, Any], answer: Answer
    ) -> Transition:
        match Step(state):
            case Step.WHEN:
                if answer.choice == "idea":
                    data["idea"] = True
                    data["start"] = (ctx.now() + IDEA_OPEN_FOR).isoformat()
                    data["end"] = None
                    return self._go(Step.PLACE, data)
                data["idea"] = False
            case Step.PLACE:
                if answer.choice == "skip":
                    data["place"] = ""
                    return self._go(Step.CAPACITY, data)
            case Step.TOPICS:
                if answer.choice == "done":
                    chosen = [int(t) for t in data.get("topic_ids", [])]
                    data["audience"] = {"kind": AUDIENCE_INITIATIVE, "topic_ids": chosen}
                    return self._go(Step.PREVIEW, data)
            case Step.CONFIRM_WHEN:
                if data.get("idea"):
                    return self._go(Step.PLACE, data)
        return await super().handle(ctx, state, data, answer)

    async def _preview(self, ctx: FlowContext, data: dict[str, Any]) -> str:
        lines = [ctx._(N_("This is how it will look:")), "", f"🌱 {data['title']}"]
        if data.get("text"):
            lines += ["", data["text"]]
        if data.get("idea"):
            lines += ["", "💡 " + ctx._(N_("An idea: no date yet."))]
        else:
            lines += ["", "🗓 " + self._when(ctx, data)]
        if data.get("place"):
            lines.append("📍 " + data["place"])
        for title, hands in data.get("tasks", []):
            lines.append(ctx._(N_("• {task} ×{hands}")).format(task=title, hands=hands))
        names = []
        for topic_id in data.get("topic_ids", []):
            topic = await ctx.uow.topics.get(int(topic_id))
            if topic is not None:
                names.append(topic.name(ctx.translator.language))
        lines.append(
            ctx._(N_("Sent to people who want to hear about initiatives in: {topics}")).format(
                topics=", ".join(names) or ctx._(N_("any interest or area"))
            )
        )
        return "\n".join(lines)

    def _event_fields(self, ctx: FlowContext, data: dict[str, Any]) -> dict[str, Any]:
        fields = super()._event_fields(ctx, data)
        fields.update(
            origin=EventOrigin.INITIATIVE,
            idea=bool(data.get("idea")),
            send_at=None,
            reminder_offsets=[] if data.get("idea") else list(ev.DEFAULT_REMINDERS),
            audience=dict(data.get("audience", {"kind": AUDIENCE_INITIATIVE, "topic_ids": []})),
        )
        return fields

    async def _after_create(
        self, ctx: FlowContext, event: Event, data: dict[str, Any]
    ) -> Transition:
        now = ctx.now()
        event.status = EventStatus.PUBLISHED
        event.published_at = now
        await ctx.uow.events.set_rsvp(event.id, ctx.person.id, RsvpAnswer.YES, 0)
        await ev.sync_reminders(ctx.uow, event, ctx.person.id, RsvpAnswer.YES, now)
        await _push(ctx, event, now)
        text = ctx._(N_("Your initiative is posted! 🎉")) + "\n"
        text += initiative_status(ctx.translator, event, ctx.config.timezone)
        text += "\n\n" + ctx._(
            N_(
                "Anyone can open it with: /start {payload}\n"
                "/myinitiatives shows who joins; /tasks changes the tasks."
            )
        ).format(payload=ev.link_payload(event))
        return Transition.end(OutMessage(text))


# -- /initiatives: the list, and coordinators' moderation -------------------------------------


class ModStep(StrEnum):
    BACK_NOTE = "back_note"
    BACK_WIDER = "back_wider"
    HIDE_REASON = "hide_reason"


def _event_choice(choice_id: str, prefix: str) -> int | None:
    if choice_id.startswith(prefix) and choice_id[len(prefix) :].isdigit():
        return int(choice_id[len(prefix) :])
    return None


class Initiatives(Flow):
    """`/initiatives`: everyone sees the list and can open one; coordinators also moderate."""

    name = "initiatives"

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        now = ctx.now()
        shown = list(await ctx.uow.pledges.initiatives(now))
        lines: list[str] = []
        choices: list[Choice] = []
        hidden: list[Event] = []
        if ctx.is_coordinator:
            queue = await ctx.uow.pledges.awaiting_approval()
            if queue:
                lines.append(ctx._(N_("Waiting for a coordinator to look:")))
                for event in queue:
                    lines.append(f"⏳ {event.title}")
                    choices.append(Choice(f"i{event.id}", f"⏳ {event.title}"[:60]))
                lines.append("")
                shown = [e for e in shown if e not in queue]
            hidden = list(await ctx.uow.pledges.hidden_initiatives(now))
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
        hidden = await ctx.uow.pledges.hidden_initiatives(ctx.now())
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
            event_id = _event_choice(choice_id, "i")
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
        if ev.is_open(event, ctx.now()) and event.created_by_id != ctx.person.id:
            await ctx.uow.events.invite(event.id, ctx.person.id, "list")
        said: list[OutMessage] = []
        if ev.is_open(event, ctx.now()):
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
        await ctx.uow.pledges.log(ctx.person.id, "approve", event.id)
        await _push(ctx, event, ctx.now(), approved=True)
        return Transition.end(OutMessage(ctx._(N_("Thank you! It is on its way to people."))))

    async def _unhide(self, ctx: FlowContext, event: Event) -> Transition:
        if event.status != EventStatus.HIDDEN:
            return Transition.end(OutMessage(ctx._(N_("It is already shown."))))
        now = ctx.now()
        event.status = EventStatus.PUBLISHED
        event.hidden_reason = None
        ctx.uow.events.touch(event)
        entry = await ctx.uow.pledges.log(ctx.person.id, "unhide", event.id)
        coming = await ev.concerned(ctx.uow, event)
        for rsvp in coming:  # hiding cancelled their reminders
            assert rsvp.person_id is not None
            await ev.sync_reminders(ctx.uow, event, rsvp.person_id, rsvp.answer, now)
        if event.pushed_at is not None:
            event.push_state = PushState.PUSHED  # it went out before it was hidden: not again
        else:  # as when it was posted: within the author's limits, or to a coordinator first
            await _push(ctx, event, now)

        def render(tr: Translator) -> str:
            return tr.gettext(
                N_(
                    "Good news: a coordinator has made your initiative {title} visible again. "
                    "It is back on the list of initiatives."
                )
            ).format(title=event.title)

        await self._tell_author(ctx, event, render, f"shown:{event.id}:{entry.id}")
        # those who joined were told it was off
        notifier = ev.Notifier(ctx.uow, ctx.translations, ctx.config.timezone)
        await notifier.tell(
            [pid for pid in ev.known(coming) if pid != event.created_by_id],
            lambda tr: tr.gettext(
                N_(
                    "Good news: {title} is back on the list of initiatives, so it is on again. "
                    "Your answer from before still stands."
                )
            ).format(title=event.title),
            key=lambda person: f"shownjoined:{event.id}:{entry.id}:{person.id}",
            kind="initiative",
            batch=f"ini:{event.id}",
            now=now,
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
        await ctx.uow.pledges.log(ctx.person.id, "back", event.id, note)
        if event.push_state == PushState.AWAITING_APPROVAL:
            await ctx.uow.pledges.log(ctx.person.id, "approve", event.id)
            await _push(ctx, event, now, approved=True)
        if wider:
            event.audience = {**event.audience, "kind": AUDIENCE_INITIATIVE, "wider": True}
            await ctx.uow.pledges.log(ctx.person.id, "push_wider", event.id)
            await ev.publish(ctx.uow, ctx.translations, ctx.config.timezone, event, now)
            event.pushed_at = event.pushed_at or now
            event.push_state = PushState.PUSHED
        await ev.refresh_pending_invitations(ctx.uow, ctx.translations, ctx.config.timezone, event)

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
        await ctx.uow.events.cancel_pending_outbox(
            [ev.batch_invitations(event.id), f"wl:{event.id}", f"rem:{event.id}"]
        )
        entry = await ctx.uow.pledges.log(ctx.person.id, "hide", event.id, reason)

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
            for pid in ev.known(await ev.concerned(ctx.uow, event))
            if pid != event.created_by_id
        ]
        notifier = ev.Notifier(ctx.uow, ctx.translations, ctx.config.timezone)
        await notifier.tell(
            joined,
            lambda tr: tr.gettext(
                N_("Sorry: {title} has been taken off the list of initiatives, so it is off.")
            ).format(title=event.title),
            key=lambda person: f"hiddenjoined:{event.id}:{entry.id}:{person.id}",
            kind="initiative",
            batch=f"ini:{event.id}",
            now=ctx.now(),
            event=event,
        )
        return Transition.end(OutMessage(ctx._(N_("Hidden. The author is told why."))))

    async def _tell_author(self, ctx: FlowContext, event: Event, render: Any, key: str) -> None:
        if event.created_by_id is None:
            return
        notifier = ev.Notifier(ctx.uow, ctx.translations, ctx.config.timezone)
        await notifier.tell(
            [event.created_by_id],
            render,
            key=lambda person: f"{key}:{person.id}",
            kind="initiative",
            batch=f"ini:{event.id}",
            now=ctx.now(),
            event=event,
        )


# -- /myinitiatives: the author's own view -----------------------------------------------------


class MyStep(StrEnum):
    CHOOSE = "choose"
    VIEW = "view"
    WRITE = "write"


class MyInitiatives(Flow):
    name = "myinitiatives"

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        if not await ctx.uow.pledges.initiatives_by(ctx.person.id):
            return Transition.end(
                OutMessage(ctx._(N_("You have no initiatives yet. /initiative starts one.")))
            )
        return Transition.go(MyStep.CHOOSE, {})

    async def prompt(self, ctx: FlowContext, state: str, data: dict[str, Any]) -> OutMessage:
        match MyStep(state):
            case MyStep.CHOOSE:
                mine = await ctx.uow.pledges.initiatives_by(ctx.person.id)
                return OutMessage(
                    ctx._(N_("Which initiative?")),
                    choices=tuple(Choice(f"e{e.id}", e.title[:60]) for e in mine),
                )
            case MyStep.VIEW:
                event = await self._mine(ctx, data)
                assert event is not None
                lines = [initiative_status(ctx.translator, event, ctx.config.timezone)]
                if event.backed_by_id is not None:
                    lines.append("🏛 " + ctx._(N_("Backed by the municipality")))
                lines += ["", await Attendees().overview(ctx, event)]
                return OutMessage(
                    "\n".join(lines),
                    choices=(
                        ctx.choice("write", N_("Write to those coming"), "✉️"),
                        ctx.choice("done", N_("Done"), "👍", "ok"),
                    ),
                )
            case MyStep.WRITE:
                return OutMessage(
                    ctx._(
                        N_(
                            "Write your message. It goes to everyone who said yes, "
                            "with the event's name on top."
                        )
                    ),
                    expects_text=True,
                )

    async def _mine(self, ctx: FlowContext, data: dict[str, Any]) -> Event | None:
        event = await ctx.uow.events.get(int(data.get("event_id", 0)))
        if event is None or event.origin != EventOrigin.INITIATIVE:
            return None
        return event if event.created_by_id == ctx.person.id else None

    async def handle(
        self, ctx: FlowContext, state: str, data: dict[str, Any], answer: Answer
    ) -> Transition:
        step = MyStep(state)
        if step == MyStep.CHOOSE:
            event_id = _event_choice(answer.choice or "", "e")
            if event_id is None or await self._mine(ctx, {"event_id": event_id}) is None:
                return Transition.stay(data)
            return Transition.go(MyStep.VIEW, {"event_id": event_id})
        event = await self._mine(ctx, data)
        if event is None:
            return Transition.end(
                OutMessage(ctx._(N_("Only the organiser can change that, and this isn't yours.")))
            )
        if step == MyStep.VIEW:
            if answer.choice == "write":
                return Transition.go(MyStep.WRITE, data)
            return Transition.end(OutMessage(ctx._(N_("All right. 👍"))))
        note = (answer.text or "").strip()
        if not note or len(note) > MAX_NOTE:
            return Transition.stay(data, OutMessage(ctx._(N_("Please write a short message."))))
        count = await write_to_attendees(ctx, event, note)
        return Transition.end(
            OutMessage(
                ctx.ngettext("Sent to {n} person. ✉️", "On its way to {n} people. ✉️", count).format(
                    n=count
                )
            )
        )

"""Coordinators' tools for a published event: `/attendees` (and writing to them), `/qr`,
`/editevent` (time or place) and `/cancelevent`.

Coordinators manage their own events; admins manage all. Checked on every step, because a
role can be taken away in the middle of a conversation.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select

from conversations import events as ev
from conversations.create_event import deep_link_url, only_coordinators
from conversations.dates import parse_end, parse_when
from conversations.flow import NO_WORDS, YES_WORDS, Answer, Flow, FlowContext, Transition
from conversations.i18n import N_, Translator
from conversations.messages import Choice, OutMessage
from storage.models import Event, EventStatus, OutboxMessage, Prompt, RsvpAnswer

CHOOSE = "choose"
MAX_NOTE = 1500


def can_manage(ctx: FlowContext, event: Event | None) -> bool:
    if event is None or not ctx.is_coordinator:
        return False
    return ctx.is_admin or event.created_by_id == ctx.person.id


async def manageable(ctx: FlowContext) -> list[Event]:
    owner = None if ctx.is_admin else ctx.person.id
    events = await ctx.uow.events.managed_by(owner)
    recent = ctx.now() - timedelta(days=2)
    return [e for e in events if e.starts_at > recent][:9]


async def choose_event_question(ctx: FlowContext, text: str) -> OutMessage:
    events = await manageable(ctx)
    if not events:
        return OutMessage(ctx._(N_("You have no published events yet. /newevent creates one.")))
    choices = tuple(Choice(f"e{e.id}", f"{e.title} · {ctx.when(e.starts_at)}") for e in events)
    return OutMessage(text, choices=choices)


async def picked_event(ctx: FlowContext, answer: Answer) -> Event | None:
    choice = answer.choice or ""
    if not (choice.startswith("e") and choice[1:].isdigit()):
        return None
    event = await ctx.uow.events.get(int(choice[1:]))
    return event if can_manage(ctx, event) else None


def qr_message(ctx: FlowContext, event: Event, bot_username: str | None) -> OutMessage:
    payload = ev.link_payload(event)
    url = deep_link_url(bot_username, payload)
    if url is None:
        return OutMessage(
            ctx._(
                N_(
                    "The bot's Telegram name is not set up (TMM_TELEGRAM_BOT_USERNAME), so I "
                    "can't make a QR code. People can write: /start {payload}"
                )
            ).format(payload=payload)
        )
    return OutMessage(
        ctx._(
            N_(
                "A QR code for {title}. Print it on a poster; scanning it opens the "
                "invitation.\n{url}"
            )
        ).format(title=event.title, url=url),
        attachment=ev.qr_attachment(url),
    )


async def _start_choosing(ctx: FlowContext, empty_ok: bool = False) -> Transition:
    if not ctx.is_coordinator:
        return only_coordinators(ctx)
    if not await manageable(ctx):
        return Transition.end(
            OutMessage(ctx._(N_("You have no published events yet. /newevent creates one.")))
        )
    return Transition.go(CHOOSE, {})


# -- /attendees ------------------------------------------------------------------------------------


class AttendeesStep(StrEnum):
    CHOOSE = CHOOSE
    LIST = "list"
    WRITE = "write"


class Attendees(Flow):
    name = "attendees"

    def __init__(self, *, bot_username: str | None = None) -> None:
        self._bot_username = bot_username

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        return await _start_choosing(ctx)

    async def prompt(self, ctx: FlowContext, state: str, data: dict[str, Any]) -> OutMessage:
        match AttendeesStep(state):
            case AttendeesStep.CHOOSE:
                return await choose_event_question(ctx, ctx._(N_("Which event?")))
            case AttendeesStep.LIST:
                event = await ctx.uow.events.get(int(data["event_id"]))
                assert event is not None
                return OutMessage(
                    await self.overview(ctx, event),
                    choices=(
                        ctx.choice("write", N_("Write to those coming"), "✉️"),
                        ctx.choice("qr", N_("QR code for a poster"), "🔳", "qr"),
                        ctx.choice("done", N_("Done"), "👍", "ok"),
                    ),
                )
            case AttendeesStep.WRITE:
                return OutMessage(
                    ctx._(
                        N_(
                            "Write your message. It goes to everyone who said yes, "
                            "with the event's name on top."
                        )
                    ),
                    expects_text=True,
                )

    async def overview(self, ctx: FlowContext, event: Event) -> str:
        """Who is coming, maybe, waiting or not (also shown to an initiative's author)."""
        lines = [f"🌿 {event.title} · {ctx.when(event.starts_at)}"]
        if event.status == EventStatus.CANCELLED:
            lines.append(ctx._(N_("(cancelled)")))
        coming = await ctx.uow.events.places_taken(event.id)
        invited = await ctx.uow.events.invited_count(event.id)
        capacity = str(event.capacity) if event.capacity is not None else "∞"
        lines.append(
            ctx._(N_("Invited: {invited} · Places taken: {coming} of {capacity}")).format(
                invited=invited, coming=coming, capacity=capacity
            )
        )
        headings = (
            (RsvpAnswer.YES, N_("Coming")),
            (RsvpAnswer.MAYBE, N_("Maybe")),
            (RsvpAnswer.WAITLISTED, N_("Waiting list")),
            (RsvpAnswer.NO, N_("Can't come")),
        )
        counts = await ctx.uow.events.answer_counts(event.id)
        for answer, heading in headings:
            rows = await ctx.uow.events.rsvps(event.id, answer)
            if answer == RsvpAnswer.WAITLISTED:
                rows = await ctx.uow.events.waitlist(event.id)
            anonymous = counts.get(answer, 0) - len(rows)
            names = []
            for row in rows:
                person = await ctx.uow.persons.get(row.person_id) if row.person_id else None
                name = (person.display_name if person else None) or ctx._(N_("(no name)"))
                names.append(name + (" +1" if row.guests else ""))
            if anonymous > 0 and answer != RsvpAnswer.WAITLISTED:
                names.append(
                    ctx.ngettext("{n} without a name", "{n} without a name", anonymous).format(
                        n=anonymous
                    )
                )
            total = len(rows) + max(anonymous, 0)
            lines.append(f"{ctx._(heading)} ({total}): " + (", ".join(names) or "–"))
        return "\n".join(lines)

    async def handle(
        self, ctx: FlowContext, state: str, data: dict[str, Any], answer: Answer
    ) -> Transition:
        if not ctx.is_coordinator:
            return only_coordinators(ctx)
        step = AttendeesStep(state)
        if step == AttendeesStep.CHOOSE:
            event = await picked_event(ctx, answer)
            if event is None:
                return Transition.stay(data)
            return Transition.go(AttendeesStep.LIST, {"event_id": event.id})
        event = await ctx.uow.events.get(int(data["event_id"]))
        if not can_manage(ctx, event):
            return only_coordinators(ctx)
        assert event is not None
        if step == AttendeesStep.LIST:
            if answer.choice == "write":
                return Transition.go(AttendeesStep.WRITE, data)
            if answer.choice == "qr":
                return Transition.stay(data, qr_message(ctx, event, self._bot_username), ask=False)
            return Transition.end(OutMessage(ctx._(N_("All right. 👍"))))
        note = (answer.text or "").strip()
        if not note or len(note) > MAX_NOTE:
            return Transition.stay(data, OutMessage(ctx._(N_("Please write a short message."))))
        count = await write_to_attendees(ctx, event, note)
        text = ctx.ngettext("Sent to {n} person. ✉️", "On its way to {n} people. ✉️", count).format(
            n=count
        )
        return Transition.end(OutMessage(text))

    async def detached(self, ctx: FlowContext, prompt: Prompt, choice_id: str) -> Transition | None:
        return None


async def next_batch(ctx: FlowContext, prefix: str) -> str:
    """`prefix` + the next number: msg:<event>:1, msg:<event>:2, ..."""
    existing = await ctx.uow.session.execute(
        select(func.count(func.distinct(OutboxMessage.batch))).where(
            OutboxMessage.batch.like(prefix + "%")
        )
    )
    return f"{prefix}{int(existing.scalar_one()) + 1}"


async def write_to_attendees(ctx: FlowContext, event: Event, note: str) -> int:
    batch = await next_batch(ctx, f"msg:{event.id}:")
    rows = await ctx.uow.events.rsvps(event.id, RsvpAnswer.YES)
    notifier = ev.Notifier(ctx.uow, ctx.translations, ctx.config.timezone)
    sender = ctx.person.display_name or ctx._(N_("the organiser"))

    def render(tr: Translator) -> str:
        heading = tr.gettext(N_("A message about {title} from {sender}:")).format(
            title=event.title, sender=sender
        )
        return f"{heading}\n\n{note}"

    count = await notifier.tell(
        [pid for pid in ev.known(rows) if pid != ctx.person.id],  # not back to the writer
        render,
        key=lambda person: f"{batch}:{person.id}",
        kind="message",
        batch=batch,
        now=ctx.now(),
        event=event,
    )
    if count:
        await ctx.uow.batches.create(
            batch, kind="message", reporter=ctx.ref, reporter_person_id=ctx.person.id, total=count
        )
    return count


# -- /qr -------------------------------------------------------------------------------------------


class EventQr(Flow):
    name = "eventqr"

    def __init__(self, *, bot_username: str | None = None) -> None:
        self._bot_username = bot_username

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        return await _start_choosing(ctx)

    async def prompt(self, ctx: FlowContext, state: str, data: dict[str, Any]) -> OutMessage:
        return await choose_event_question(ctx, ctx._(N_("A QR code for which event?")))

    async def handle(
        self, ctx: FlowContext, state: str, data: dict[str, Any], answer: Answer
    ) -> Transition:
        event = await picked_event(ctx, answer)
        if event is None:
            return Transition.stay(data)
        return Transition.end(qr_message(ctx, event, self._bot_username))

    async def detached(self, ctx: FlowContext, prompt: Prompt, choice_id: str) -> Transition | None:
        return await qr_for_prompt(ctx, prompt, self._bot_username)


async def qr_for_prompt(
    ctx: FlowContext, prompt: Prompt, bot_username: str | None
) -> Transition | None:
    event_id = prompt.context.get("event_id")
    event = await ctx.uow.events.get(event_id) if isinstance(event_id, int) else None
    if not can_manage(ctx, event):
        return only_coordinators(ctx)
    assert event is not None
    return Transition.end(qr_message(ctx, event, bot_username))


# -- /editevent ------------------------------------------------------------------------------------


class EditStep(StrEnum):
    CHOOSE = CHOOSE
    WHAT = "what"
    TIME = "time"
    END = "end"
    PLACE = "place"
    CONFIRM = "confirm"


class EditEvent(Flow):
    name = "editevent"

    def takes_location(self, state: str) -> bool:
        return state == EditStep.PLACE

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        return await _start_choosing(ctx)

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
                count = await apply_change(ctx, event, data)
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


def change_text(tr: Translator, timezone: str, event: Event, data: dict[str, Any]) -> str:
    """The change spelled out: old -> new, in the reader's language."""
    lines = [tr.gettext(N_("{title} has changed:")).format(title=event.title)]
    if data.get("start"):
        start = datetime.fromisoformat(data["start"])
        end = datetime.fromisoformat(data["end"]) if data.get("end") else None
        lines.append(
            tr.gettext(N_("Time: {old} → {new}")).format(
                old=ev.event_when(tr, event, timezone),
                new=ev.format_span(tr, start, end, timezone),
            )
        )
    if data.get("place"):
        lines.append(
            tr.gettext(N_("Place: {old} → {new}")).format(old=event.place or "–", new=data["place"])
        )
    return "\n".join(lines)


async def apply_change(ctx: FlowContext, event: Event, data: dict[str, Any]) -> int:
    now = ctx.now()
    tz = ctx.config.timezone
    notifier = ev.Notifier(ctx.uow, ctx.translations, tz)
    rendered = {
        lang: change_text(ctx.translations.get(lang), tz, event, data)
        for lang in ctx.translations.languages
    }
    revision = event.revision + 1
    if data.get("start"):
        event.starts_at = datetime.fromisoformat(data["start"])
        event.ends_at = datetime.fromisoformat(data["end"]) if data.get("end") else None
        event.revision = revision
    if data.get("place"):
        event.place = data["place"]
        if data.get("lat") is not None:
            event.latitude, event.longitude = data["lat"], data["lon"]
    ctx.uow.events.touch(event)
    rows = await ev.concerned(ctx.uow, event)
    if data.get("start"):
        for row in rows:
            if row.offered_until is not None and row.offered_until > event.starts_at:
                row.offered_until = event.starts_at  # an offer never runs past the start
            if row.person_id is not None:
                await ev.sync_reminders(ctx.uow, event, row.person_id, row.answer, now)
    await ctx.uow.session.flush()
    await ev.refresh_pending_invitations(ctx.uow, ctx.translations, tz, event)
    batch = await next_batch(ctx, f"chg:{event.id}:")
    return await notifier.tell(
        ev.known(rows),
        lambda tr: rendered.get(tr.language, rendered[ctx.translations.languages[0]]),
        key=lambda person: f"{batch}:{person.id}",
        kind="change",
        batch=batch,
        now=now,
        event=event,
    )


# -- /cancelevent ----------------------------------------------------------------------------------


class CancelStep(StrEnum):
    CHOOSE = CHOOSE
    CONFIRM = "confirm"


class CancelEvent(Flow):
    name = "cancelevent"

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        return await _start_choosing(ctx)

    async def prompt(self, ctx: FlowContext, state: str, data: dict[str, Any]) -> OutMessage:
        if CancelStep(state) == CancelStep.CHOOSE:
            return await choose_event_question(ctx, ctx._(N_("Which event should be cancelled?")))
        event = await ctx.uow.events.get(int(data["event_id"]))
        assert event is not None
        concerned = len(await ev.concerned(ctx.uow, event))
        return OutMessage(
            ctx.ngettext(
                "Cancel {title} ({when})? {n} person who answered yes, maybe or is waiting "
                "will be told at once.",
                "Cancel {title} ({when})? {n} people who answered yes, maybe or are waiting "
                "will be told at once.",
                concerned,
            ).format(title=event.title, when=ctx.when(event.starts_at), n=concerned),
            choices=(
                ctx.choice("yes", N_("Yes, cancel it"), "🛑", *YES_WORDS),
                ctx.choice("no", N_("No, keep it"), "↩️", *NO_WORDS),
            ),
        )

    async def handle(
        self, ctx: FlowContext, state: str, data: dict[str, Any], answer: Answer
    ) -> Transition:
        if not ctx.is_coordinator:
            return only_coordinators(ctx)
        if CancelStep(state) == CancelStep.CHOOSE:
            event = await picked_event(ctx, answer)
            if event is None or event.status != EventStatus.PUBLISHED:
                return Transition.stay(data)
            return Transition.go(CancelStep.CONFIRM, {"event_id": event.id})
        event = await ctx.uow.events.get(int(data["event_id"]))
        if not can_manage(ctx, event):
            return only_coordinators(ctx)
        assert event is not None
        if answer.choice == "no":
            return Transition.end(OutMessage(ctx._(N_("It stays on. 👍"))))
        if answer.choice != "yes":
            return Transition.stay(data)
        if event.status != EventStatus.PUBLISHED:
            return Transition.end(OutMessage(ctx._(N_("That event is already cancelled."))))
        count = await cancel_event(ctx, event)
        return Transition.end(
            OutMessage(
                ctx.ngettext(
                    "Cancelled. I'm telling {n} person.",
                    "Cancelled. I'm telling {n} people.",
                    count,
                ).format(n=count)
            )
        )

    async def detached(self, ctx: FlowContext, prompt: Prompt, choice_id: str) -> Transition | None:
        return None


async def cancel_event(ctx: FlowContext, event: Event) -> int:
    now = ctx.now()
    tz = ctx.config.timezone
    event.status = EventStatus.CANCELLED
    event.cancelled_at = now
    ctx.uow.events.touch(event)
    await ctx.uow.events.cancel_reminders(event.id)
    await ctx.uow.events.cancel_pending_outbox(
        [ev.batch_invitations(event.id), f"wl:{event.id}", f"rem:{event.id}"]
    )
    rows = await ev.concerned(ctx.uow, event)
    for row in rows:
        row.offered_until = None
    notifier = ev.Notifier(ctx.uow, ctx.translations, tz)

    def render(tr: Translator) -> str:
        return tr.gettext(
            N_("Sorry: {title} ({when}) has been cancelled. We hope to see you another time. 🌿")
        ).format(title=event.title, when=ev.event_when(tr, event, tz))

    return await notifier.tell(
        ev.known(rows),
        render,
        key=lambda person: f"cancel:{event.id}:{person.id}",
        kind="cancel",
        batch=f"cancel:{event.id}",
        now=now,
        event=event,
    )

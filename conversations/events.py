"""What happens to events outside any one conversation: invitations, answers, waiting
lists, reminders, notices. Every message to another person is rendered in *their* language
and enqueued in the outbox (never sent from here), in the caller's transaction.
"""

from __future__ import annotations

import io
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import segno
from icalendar import Calendar
from icalendar import Event as CalendarEvent

from conversations.dates import next_allowed_time
from conversations.engine import offer_to
from conversations.flow import translated_choice
from conversations.i18n import N_, Translations, Translator
from conversations.messages import Attachment, ChatRef, Choice, OutMessage, message_to_payload
from storage.models import (
    Event,
    EventStatus,
    EventTask,
    Identity,
    OutboxStatus,
    Person,
    Reminder,
    ReminderKind,
    ReminderStatus,
    Rsvp,
    RsvpAnswer,
)
from storage.unit_of_work import UnitOfWork

RSVP_FLOW = "rsvp"
DEFAULT_REMINDERS = (24 * 60, 2 * 60)
NUDGE_OFFSET = 24 * 60
QUIET_EXEMPT = timedelta(hours=3)  # reminders this close to the start ignore quiet hours
OFFER_WINDOW = timedelta(hours=2)
DEFAULT_JOURNEY = (
    "invitationen",
    "at komme derhen",
    "velkomsten",
    "aktiviteten",
    "maden",
    "hjemturen",
)
CONCERNED = (RsvpAnswer.YES, RsvpAnswer.MAYBE, RsvpAnswer.WAITLISTED)


def batch_invitations(event_id: int) -> str:
    return f"bc:{event_id}"


def link_payload(event: Event) -> str:
    return f"ev_{event.link_code}"


# A choice for a reader other than the person we are talking to (an invitation's recipient).
choice_for = translated_choice


@dataclass
class Notifier:
    """Renders and enqueues messages for other people, in their language."""

    uow: UnitOfWork
    translations: Translations
    timezone: str

    def tr(self, person: Person) -> Translator:
        return self.translations.get(person.language)

    def when(self, tr: Translator, event: Event) -> str:
        return event_when(tr, event, self.timezone)

    async def enqueue(
        self,
        person: Person,
        identity: Identity,
        message: OutMessage,
        *,
        key: str,
        kind: str,
        batch: str | None,
        not_before: datetime | None = None,
        expires_at: datetime | None = None,
    ) -> bool:
        return await self.uow.outbox.enqueue(
            dedupe_key=key,
            person_id=person.id,
            platform=identity.platform,
            chat_id=identity.chat_id,
            user_id=identity.user_id,
            kind=kind,
            payload=message_to_payload(message),
            batch=batch,
            not_before=not_before,
            expires_at=expires_at,
        )

    async def tell(
        self,
        person_ids: Sequence[int],
        render: Callable[[Translator], str],
        *,
        key: Callable[[Person], str],
        kind: str,
        batch: str,
        now: datetime,
        event: Event,
    ) -> int:
        """A plain text to each reachable person; returns how many were enqueued.

        Quiet hours are kept unless the event is only hours away (see `polite_time`).
        """
        count = 0
        for person, identity in await self.uow.events.reachable(list(person_ids)):
            message = OutMessage(render(self.tr(person)))
            if await self.enqueue(
                person,
                identity,
                message,
                key=key(person),
                kind=kind,
                batch=batch,
                not_before=polite_time(person, now, event, self.timezone),
            ):
                count += 1
        return count


# -- how an event reads ------------------------------------------------------------------


def format_span(tr: Translator, start: datetime, end: datetime | None, timezone: str) -> str:
    """ "lørdag 6. juni 2026 kl. 10:00–13:00", or both dates when it ends another day."""
    text = tr.format_datetime(start, timezone)
    if end is not None:
        start_local = start.astimezone(ZoneInfo(timezone))
        end_local = end.astimezone(ZoneInfo(timezone))
        if start_local.date() == end_local.date():
            text += f"–{end_local:%H:%M}"
        else:
            text += " – " + tr.format_datetime(end, timezone)
    return text


def event_when(tr: Translator, event: Event, timezone: str) -> str:
    return format_span(tr, event.starts_at, event.ends_at, timezone)


def map_link(event: Event) -> str | None:
    if event.latitude is None or event.longitude is None:
        return None
    lat, lon = f"{event.latitude:.5f}", f"{event.longitude:.5f}"
    return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=16/{lat}/{lon}"


def missing_hands(task: EventTask, held: int = 0) -> int:
    """Hands still missing on a task, given how many pledges hold one (none once closed)."""
    if task.closed_at is not None:
        return 0
    return max(0, task.hands - held)


async def places_left(uow: UnitOfWork, event: Event) -> int | None:
    if event.capacity is None:
        return None
    return max(0, event.capacity - await uow.events.places_taken(event.id))


async def invitation_text(uow: UnitOfWork, tr: Translator, event: Event, timezone: str) -> str:
    lines = [f"🌿 {event.title}"]
    if event.invitation:
        lines += ["", event.invitation]
    if event.backed_by_id is not None or event.backing_note:
        lines += ["", "🏛 " + tr.gettext(N_("Backed by the municipality"))]
        if event.backing_note:
            lines.append(event.backing_note)
    if event.idea:
        lines += ["", "💡 " + tr.gettext(N_("An idea: no date yet."))]
    else:
        lines += ["", "🗓 " + event_when(tr, event, timezone)]
    if event.place:
        lines.append("📍 " + event.place)
    link = map_link(event)
    if link:
        lines.append("🗺 " + link)
    left = await places_left(uow, event)
    if left is not None:
        if left > 0:
            lines.append(
                "👥 " + tr.ngettext("{n} place left", "{n} places left", left).format(n=left)
            )
        else:
            lines.append("👥 " + tr.gettext(N_("Full: you can join the waiting list.")))
    if event.guests_allowed:
        lines.append("➕ " + tr.gettext(N_("You are welcome to bring a guest.")))
    held = await uow.pledges.counts(event.id)
    missing = [(t, missing_hands(t, held.get(t.id, 0))) for t in await uow.events.tasks(event.id)]
    missing = [(t, n) for t, n in missing if n > 0]
    if missing:
        lines += ["", tr.gettext(N_("Still needs a hand:"))]
        lines += [
            "• "
            + tr.ngettext("{task} ({n} missing)", "{task} ({n} missing)", n).format(
                task=t.title, n=n
            )
            for t, n in missing
        ]
    return "\n".join(lines)


async def has_open_tasks(uow: UnitOfWork, event: Event) -> bool:
    held = await uow.pledges.counts(event.id)
    return any(missing_hands(t, held.get(t.id, 0)) > 0 for t in await uow.events.tasks(event.id))


def invitation_choices(
    tr: Translator, translations: Translations, event: Event, *, tasks: bool = False
) -> tuple[Choice, ...]:
    choices = [
        choice_for(tr, translations, "yes", N_("Count me in"), "✅", "ja", "yes"),
        choice_for(tr, translations, "maybe", N_("Maybe"), "🤔"),
        choice_for(tr, translations, "no", N_("Can't come"), "❌", "nej", "no"),
    ]
    if event.guests_allowed:
        choices.append(choice_for(tr, translations, "guest", N_("+1 guest"), "➕"))
    if tasks:
        choices.append(choice_for(tr, translations, "tasks", N_("Count me in for a task"), "🙋"))
    choices += [
        choice_for(tr, translations, "details", N_("Details"), "ℹ️"),
        choice_for(tr, translations, "calendar", N_("Calendar"), "📅"),
    ]
    return tuple(choices)


async def invitation_message(
    uow: UnitOfWork,
    translations: Translations,
    timezone: str,
    event: Event,
    person: Person,
    recipient: ChatRef,
    *,
    intro: str | None = None,
) -> OutMessage:
    """The invitation for one person, with its buttons stored for that person only."""
    tr = translations.get(person.language)
    text = await invitation_text(uow, tr, event, timezone)
    if intro:
        text = intro + "\n\n" + text
    tasks = await has_open_tasks(uow, event)
    message = OutMessage(text, choices=invitation_choices(tr, translations, event, tasks=tasks))
    return await offer_to(
        uow,
        recipient,
        person.id,
        RSVP_FLOW,
        message,
        state="invite",
        context={"event_id": event.id, "kind": "invite"},
    )


def ics_attachment(event: Event) -> Attachment:
    calendar = Calendar()
    calendar.add("prodid", "-//Tael mig med//taelmigmed//DA")
    calendar.add("version", "2.0")
    entry = CalendarEvent()
    entry.add("uid", f"event-{event.id}-{event.link_code}@taelmigmed")
    entry.add("summary", event.title)
    entry.add("dtstart", event.starts_at)
    entry.add("dtend", event.ends_at or event.starts_at + timedelta(hours=2))
    entry.add("dtstamp", event.updated_at)
    if event.invitation:
        entry.add("description", event.invitation)
    if event.place:
        entry.add("location", event.place)
    if event.latitude is not None and event.longitude is not None:
        entry.add("geo", (event.latitude, event.longitude))
    calendar.add_component(entry)
    filename = re.sub(r"[^A-Za-z0-9]+", "-", event.title).strip("-")[:40] or "event"
    return Attachment(f"{filename}.ics", calendar.to_ical(), "text/calendar")


def qr_attachment(url: str) -> Attachment:
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=10, border=4)
    return Attachment("qr.png", buffer.getvalue(), "image/png")


# -- publishing ----------------------------------------------------------------------------


def new_prompt_id() -> str:
    return secrets.token_urlsafe(6)


async def publish(
    uow: UnitOfWork, translations: Translations, timezone: str, event: Event, now: datetime
) -> int:
    """Mark published and enqueue one invitation per person in the audience.

    Each invitation is rendered once per language; every recipient gets their own stored
    prompt (so only they can answer it) and one outbox row keyed `invite:<event>:<person>`.
    """
    event.status = EventStatus.PUBLISHED
    event.published_at = now
    send_at = max(event.send_at or now, now)
    ids = await uow.events.audience_ids(event.audience)
    if ids is not None and not ids:
        return 0
    rendered: dict[str, tuple[str, tuple[Choice, ...], list[dict[str, Any]]]] = {}
    prompts: list[dict[str, Any]] = []
    outbox: list[dict[str, Any]] = []
    invitations: list[dict[str, Any]] = []
    tasks = await has_open_tasks(uow, event)
    for person, identity in await uow.events.reachable(ids):
        if person.id == event.created_by_id:
            continue
        if person.language not in rendered:
            tr = translations.get(person.language)
            choices = invitation_choices(tr, translations, event, tasks=tasks)
            rendered[person.language] = (
                await invitation_text(uow, tr, event, timezone),
                choices,
                [asdict(choice) for choice in choices],
            )
        text, choices, stored_choices = rendered[person.language]
        prompt_id = new_prompt_id()
        prompts.append(
            {
                "id": prompt_id,
                "platform": identity.platform,
                "chat_id": identity.chat_id,
                "user_id": identity.user_id,
                "person_id": person.id,
                "flow": RSVP_FLOW,
                "state": "invite",
                "choices": stored_choices,
                "context": {"event_id": event.id, "kind": "invite"},
                "bound": False,
                "created_at": now,
            }
        )
        message = OutMessage(text, choices=choices, prompt_id=prompt_id)
        outbox.append(
            {
                "dedupe_key": f"invite:{event.id}:{person.id}",
                "person_id": person.id,
                "platform": identity.platform,
                "chat_id": identity.chat_id,
                "user_id": identity.user_id,
                "kind": "invitation",
                "batch": batch_invitations(event.id),
                "payload": message_to_payload(message),
                "status": OutboxStatus.PENDING,
                "attempts": 0,
                "next_attempt_at": next_allowed_time(person, send_at, timezone),
                "expires_at": event.starts_at,
                "created_at": now,
            }
        )
        invitations.append(
            {"event_id": event.id, "person_id": person.id, "via": "broadcast", "created_at": now}
        )
    return await uow.events.broadcast(prompts=prompts, outbox=outbox, invitations=invitations)


async def refresh_pending_invitations(
    uow: UnitOfWork, translations: Translations, timezone: str, event: Event
) -> int:
    """Invitations not yet delivered get the event's new text (same buttons, same prompt)."""
    rows = await uow.events.pending_outbox(batch_invitations(event.id))
    for row in rows:
        person = await uow.persons.get(row.person_id)
        if person is None:
            continue
        text = await invitation_text(uow, translations.get(person.language), event, timezone)
        row.payload = {**row.payload, "text": text}
        row.expires_at = event.starts_at
    return len(rows)


async def may_answer(uow: UnitOfWork, event: Event, person: Person) -> bool:
    """Whether this person was shown this event (the server's check; buttons prove nothing)."""
    if event.created_by_id == person.id:
        return True
    if await uow.events.is_invited(event.id, person.id):
        return True
    return await uow.events.rsvp(event.id, person.id) is not None


def is_open(event: Event, now: datetime) -> bool:
    return event.status == EventStatus.PUBLISHED and event.starts_at > now


# -- answers -------------------------------------------------------------------------------


class Outcome(StrEnum):
    YES = "yes"
    MAYBE = "maybe"
    NO = "no"
    WAITLISTED = "waitlisted"
    ALREADY_WAITING = "already_waiting"
    GUEST_ADDED = "guest_added"
    GUEST_REMOVED = "guest_removed"
    NO_ROOM_FOR_GUEST = "no_room_for_guest"
    NO_GUESTS = "no_guests"


async def answer(
    uow: UnitOfWork,
    translations: Translations,
    timezone: str,
    event: Event,
    person: Person,
    choice: str,
    now: datetime,
) -> Outcome:
    """Record yes / maybe / no / guest. The caller has checked the event is open to them."""
    await uow.events.lock(event)
    row = await uow.events.rsvp(event.id, person.id)
    before = row.answer if row else None
    held_place = before == RsvpAnswer.YES or (
        before == RsvpAnswer.WAITLISTED and row is not None and row.offered_until is not None
    )
    guests = row.guests if row else 0
    outcome: Outcome
    if choice == "guest":
        if not event.guests_allowed:
            return Outcome.NO_GUESTS
        if before == RsvpAnswer.WAITLISTED:
            assert row is not None
            row.guests = 0 if row.guests else 1
            return Outcome.GUEST_ADDED if row.guests else Outcome.GUEST_REMOVED
        new_guests = 0 if (before == RsvpAnswer.YES and guests) else 1
        if new_guests and event.capacity is not None:
            others = await uow.events.places_taken(event.id, exclude_person=person.id)
            if others + 1 + new_guests > event.capacity:
                if before == RsvpAnswer.YES:
                    return Outcome.NO_ROOM_FOR_GUEST
                await uow.events.set_rsvp(event.id, person.id, RsvpAnswer.WAITLISTED, new_guests)
                await sync_reminders(uow, event, person.id, RsvpAnswer.WAITLISTED, now)
                return Outcome.WAITLISTED
        await uow.events.set_rsvp(event.id, person.id, RsvpAnswer.YES, new_guests)
        await sync_reminders(uow, event, person.id, RsvpAnswer.YES, now)
        if not new_guests:
            await offer_free_places(uow, translations, timezone, event, now)
        return Outcome.GUEST_ADDED if new_guests else Outcome.GUEST_REMOVED

    if choice == "yes":
        if before == RsvpAnswer.YES:
            return Outcome.YES
        if before == RsvpAnswer.WAITLISTED:
            return Outcome.ALREADY_WAITING
        if event.capacity is not None:
            others = await uow.events.places_taken(event.id, exclude_person=person.id)
            if others + 1 + guests > event.capacity:
                await uow.events.set_rsvp(event.id, person.id, RsvpAnswer.WAITLISTED, guests)
                await sync_reminders(uow, event, person.id, RsvpAnswer.WAITLISTED, now)
                return Outcome.WAITLISTED
        new = RsvpAnswer.YES
        outcome = Outcome.YES
    elif choice == "maybe":
        new, outcome = RsvpAnswer.MAYBE, Outcome.MAYBE
    else:
        new, outcome = RsvpAnswer.NO, Outcome.NO
    await uow.events.set_rsvp(event.id, person.id, new, guests if new == RsvpAnswer.YES else 0)
    await sync_reminders(uow, event, person.id, new, now)
    if held_place and new != RsvpAnswer.YES:
        await offer_free_places(uow, translations, timezone, event, now)
    return outcome


async def waitlist_position(uow: UnitOfWork, event: Event, person_id: int) -> int:
    for index, row in enumerate(await uow.events.waitlist(event.id), start=1):
        if row.person_id == person_id:
            return index
    return 0


# -- the waiting list ----------------------------------------------------------------------


def offer_window_end(event: Event, sent_at: datetime) -> datetime:
    """The offer is open for OFFER_WINDOW from when it is sent, never past the start."""
    return min(sent_at + OFFER_WINDOW, event.starts_at)


def polite_time(person: Person, now: datetime, event: Event, timezone: str) -> datetime:
    """Now, or after the person's quiet hours, unless the event is only hours away."""
    if event.starts_at - now <= QUIET_EXEMPT:
        return now
    return min(next_allowed_time(person, now, timezone), event.starts_at - QUIET_EXEMPT)


async def offer_free_places(
    uow: UnitOfWork, translations: Translations, timezone: str, event: Event, now: datetime
) -> int:
    """Offer freed places to the first in line, in order; returns how many were offered."""
    if event.capacity is None or not is_open(event, now):
        return 0
    await uow.events.lock(event)
    free = event.capacity - await uow.events.places_taken(event.id)
    offered = 0
    notifier = Notifier(uow, translations, timezone)
    for row in await uow.events.waitlist(event.id):
        if row.offered_until is not None:
            continue
        need = 1 + row.guests
        if need > free:
            break  # first come, first served: nobody jumps the line
        reach = await uow.events.reachable(known([row]))
        if not reach:
            continue
        person, identity = reach[0]
        send_at = polite_time(person, now, event, timezone)
        row.offered_until = offer_window_end(event, send_at)
        row.offers += 1
        free -= need
        tr = notifier.tr(person)
        text = tr.gettext(
            N_(
                "Good news: a place has opened up at {title} ({when}). "
                "Would you like it? Please answer before {deadline}."
            )
        ).format(
            title=event.title,
            when=notifier.when(tr, event),
            deadline=tr.format_datetime(row.offered_until, timezone),
        )
        message = OutMessage(
            text,
            choices=(
                choice_for(tr, translations, "take", N_("Yes, I'll take it"), "✅", "ja", "yes"),
                choice_for(tr, translations, "decline", N_("No, give it on"), "↪️", "nej", "no"),
            ),
        )
        recipient = ChatRef(identity.platform, identity.chat_id, identity.user_id)
        message = await offer_to(
            uow,
            recipient,
            person.id,
            RSVP_FLOW,
            message,
            state="offer",
            context={"event_id": event.id, "kind": "offer", "round": row.offers},
        )
        await notifier.enqueue(
            person,
            identity,
            message,
            key=f"waitoffer:{event.id}:{person.id}:{row.offers}",
            kind="waitlist",
            batch=f"wl:{event.id}",
            not_before=send_at,
            expires_at=row.offered_until,
        )
        offered += 1
    return offered


async def take_offer(
    uow: UnitOfWork,
    translations: Translations,
    timezone: str,
    event: Event,
    person: Person,
    take: bool,
    now: datetime,
) -> bool:
    """Answer a place offered from the waiting list; False when the offer has run out."""
    await uow.events.lock(event)
    row = await uow.events.rsvp(event.id, person.id)
    if (
        row is None
        or row.answer != RsvpAnswer.WAITLISTED
        or row.offered_until is None
        or row.offered_until <= now
        or not is_open(event, now)
    ):
        return False
    if take:
        await uow.events.set_rsvp(event.id, person.id, RsvpAnswer.YES, row.guests)
        await sync_reminders(uow, event, person.id, RsvpAnswer.YES, now)
    else:
        await uow.events.set_rsvp(event.id, person.id, RsvpAnswer.NO, 0)
        await sync_reminders(uow, event, person.id, RsvpAnswer.NO, now)
        await offer_free_places(uow, translations, timezone, event, now)
    return True


async def expire_offers(
    uow: UnitOfWork, translations: Translations, timezone: str, now: datetime
) -> int:
    """Offers nobody answered in time: the place goes to the next in line."""
    expired = await uow.events.expired_offers(now)
    events: dict[int, Event] = {}
    notifier = Notifier(uow, translations, timezone)
    for row in expired:
        event = await uow.events.get(row.event_id)
        if event is None:
            continue
        row.offered_until = None
        row.answer = RsvpAnswer.NO
        row.waitlisted_at = None
        row.answered_at = now
        events[event.id] = event
        if is_open(event, now):
            await notifier.tell(
                known([row]),
                lambda tr, event=event: tr.gettext(  # type: ignore[misc]
                    N_(
                        "The place at {title} has gone to the next person on the waiting list, "
                        "as we didn't hear from you in time. You are welcome to answer the "
                        "invitation again."
                    )
                ).format(title=event.title),
                key=lambda p, row=row: f"offerlapsed:{row.event_id}:{p.id}:{row.offers}",  # type: ignore[misc]
                kind="waitlist",
                batch=f"wl:{event.id}",
                now=now,
                event=event,
            )
    await uow.session.flush()
    for event in events.values():
        await offer_free_places(uow, translations, timezone, event, now)
    return len(expired)


async def fill_free_places(
    uow: UnitOfWork, translations: Translations, timezone: str, now: datetime
) -> int:
    """A sweep for places freed without an answer (someone asked to be forgotten, say)."""
    offered = 0
    for event in await uow.events.with_waitlist(now):
        offered += await offer_free_places(uow, translations, timezone, event, now)
    return offered


# -- reminders -------------------------------------------------------------------------------


async def sync_reminders(
    uow: UnitOfWork, event: Event, person_id: int, rsvp_answer: str, now: datetime
) -> None:
    """Make the person's reminder rows match their answer and the event's time."""
    desired: dict[int, str] = {}
    if event.status == EventStatus.PUBLISHED:
        if rsvp_answer == RsvpAnswer.YES:
            desired = {int(offset): ReminderKind.REMINDER for offset in event.reminder_offsets}
        elif rsvp_answer == RsvpAnswer.MAYBE and event.reminder_offsets:
            desired = {NUDGE_OFFSET: ReminderKind.NUDGE}
    existing = {r.offset_minutes: r for r in await uow.events.reminders_of(event.id, person_id)}
    for offset, old in existing.items():
        if offset not in desired and old.status == ReminderStatus.SCHEDULED:
            old.status = ReminderStatus.CANCELLED
            old.handled_at = now
    for offset, kind in desired.items():
        due = event.starts_at - timedelta(minutes=offset)
        row = existing.get(offset)
        if row is None:
            if due <= now:
                continue  # a "the day before" reminder makes no sense an hour before
            uow.events.add_reminder(
                Reminder(
                    event_id=event.id,
                    person_id=person_id,
                    offset_minutes=offset,
                    kind=kind,
                    due_at=due,
                    status=ReminderStatus.SCHEDULED,
                    revision=event.revision,
                )
            )
            continue
        unchanged = row.revision == event.revision and row.kind == kind
        if unchanged and row.status != ReminderStatus.CANCELLED:
            continue  # as it was: scheduled (perhaps overdue, then sent late), or done
        if due <= now:
            # a new time or a new answer makes this one pointless ("tomorrow" an hour before)
            if row.status == ReminderStatus.SCHEDULED:
                row.status, row.handled_at = ReminderStatus.CANCELLED, now
            continue
        row.kind, row.due_at, row.revision = kind, due, event.revision
        row.status, row.handled_at = ReminderStatus.SCHEDULED, None
    await uow.session.flush()


async def reminder_extras(
    uow: UnitOfWork, tr: Translator, event: Event, person_id: int
) -> list[str]:
    """Extra lines for a reminder: the tasks the person has said they'll do."""
    return [
        "🙋 " + tr.gettext(N_("Your task: {task}. Thank you!")).format(task=task.title)
        for task in await uow.pledges.of_person(event.id, person_id)
    ]


async def reminder_message(
    uow: UnitOfWork,
    translations: Translations,
    timezone: str,
    event: Event,
    person: Person,
    identity: Identity,
    kind: str,
) -> OutMessage:
    tr = translations.get(person.language)
    when = event_when(tr, event, timezone)
    if kind == ReminderKind.NUDGE:
        intro = tr.gettext(
            N_("You said maybe to {title}. It is {when}, and you would be very welcome.")
        ).format(title=event.title, when=when)
        recipient = ChatRef(identity.platform, identity.chat_id, identity.user_id)
        return await invitation_message(
            uow, translations, timezone, event, person, recipient, intro=intro
        )
    lines = [
        tr.gettext(N_("A little reminder: {title} is {when}.")).format(title=event.title, when=when)
    ]
    if event.place:
        lines.append("📍 " + event.place)
    link = map_link(event)
    if link:
        lines.append("🗺 " + link)
    lines += await reminder_extras(uow, tr, event, person.id)
    lines.append(tr.gettext(N_("See you there! 🌿 If you can't come after all, write /events.")))
    return OutMessage("\n".join(lines))


def reminder_key(reminder: Reminder) -> str:
    prefix = "nudge" if reminder.kind == ReminderKind.NUDGE else "reminder"
    key = f"{prefix}:{reminder.event_id}:{reminder.person_id}:{reminder.offset_minutes}"
    return key if reminder.revision == 0 else f"{key}:r{reminder.revision}"


async def run_due_reminders(
    uow: UnitOfWork, translations: Translations, timezone: str, now: datetime
) -> dict[str, int]:
    """Turn due reminder rows into outbox rows; late ones are sent if the event hasn't begun."""
    counts = {"sent": 0, "missed": 0, "cancelled": 0}
    notifier = Notifier(uow, translations, timezone)
    due = await uow.events.due_reminders(now)
    # after downtime several may be due at once: only the one closest to the start goes
    closest: dict[tuple[int, int], int] = {}
    for reminder in due:
        key = (reminder.event_id, reminder.person_id)
        closest[key] = min(closest.get(key, reminder.offset_minutes), reminder.offset_minutes)
    for reminder in due:
        event = await uow.events.get(reminder.event_id)
        reminder.handled_at = now
        if reminder.offset_minutes > closest[(reminder.event_id, reminder.person_id)]:
            reminder.status = ReminderStatus.MISSED
            counts["missed"] += 1
            continue
        if event is None or event.status != EventStatus.PUBLISHED:
            reminder.status = ReminderStatus.CANCELLED
            counts["cancelled"] += 1
            continue
        if event.starts_at <= now:
            reminder.status = ReminderStatus.MISSED
            counts["missed"] += 1
            continue
        rsvp = await uow.events.rsvp(event.id, reminder.person_id)
        wanted = RsvpAnswer.MAYBE if reminder.kind == ReminderKind.NUDGE else RsvpAnswer.YES
        reach = await uow.events.reachable([reminder.person_id])
        if rsvp is None or rsvp.answer != wanted or not reach:
            reminder.status = ReminderStatus.CANCELLED
            counts["cancelled"] += 1
            continue
        person, identity = reach[0]
        not_before = polite_time(person, now, event, timezone)
        message = await reminder_message(
            uow, translations, timezone, event, person, identity, reminder.kind
        )
        await notifier.enqueue(
            person,
            identity,
            message,
            key=reminder_key(reminder),
            kind=str(reminder.kind),
            batch=f"rem:{event.id}",
            not_before=not_before,
            expires_at=event.starts_at,
        )
        reminder.status = ReminderStatus.SENT
        counts["sent"] += 1
    return counts


# -- telling everyone concerned -------------------------------------------------------------


def known(rows: Sequence[Rsvp]) -> list[int]:
    """The people behind answers, leaving out those who asked to be forgotten."""
    return [row.person_id for row in rows if row.person_id is not None]


async def concerned(uow: UnitOfWork, event: Event) -> list[Rsvp]:
    return list(await uow.events.rsvps(event.id, *CONCERNED))


def parse_task(line: str) -> tuple[str, int] | None:
    """ "medbring suppe x3" -> ("medbring suppe", 3); "tænde bål" -> ("tænde bål", 1)."""
    text = " ".join(line.strip().lstrip("-•*").split())
    if not text:
        return None
    match = re.fullmatch(r"(.+?)\s*(?:[x×*]\s*(\d{1,2})|\((\d{1,2})\))", text, re.IGNORECASE)
    if match is None:
        return (text[:120], 1)
    hands = int(match.group(2) or match.group(3))
    return (match.group(1).strip()[:120], max(1, min(hands, 50)))

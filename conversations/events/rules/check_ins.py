"""Checking in at an event: by "I'm here" in chat, by scanning the event's check-in QR
code (a code of its own, not the invitation's), or ticked by an organiser. Check-ins open
a while before the start and close a while after the end (settings); organisers may tick
names until a day after that, for the one who forgot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from conversations.core.flow import FlowConfig
from conversations.core.i18n import N_, Translator
from conversations.core.services import Services
from storage.models import Event, EventStatus, Person, RsvpAnswer
from storage.unit_of_work import UnitOfWork

DEFAULT_LENGTH = timedelta(hours=2)  # an event without an end, as feedback takes it
TICKS_AFTER = timedelta(days=1)
CHECK_IN_PREFIX = "in"  # `/start in_<code>`
EXPECTED = (RsvpAnswer.YES, RsvpAnswer.MAYBE, RsvpAnswer.WAITLISTED)


@dataclass(frozen=True, slots=True)
class CheckInWindow:
    """When checking in is open: `opens` before the start until `closes` after the end
    (TMM_CHECK_IN_OPENS_MINUTES, TMM_CHECK_IN_CLOSES_MINUTES)."""

    opens: timedelta = timedelta(hours=1)
    closes: timedelta = timedelta(0)

    @classmethod
    def of(cls, config: FlowConfig) -> CheckInWindow:
        return cls(
            opens=timedelta(minutes=config.check_in_opens_minutes),
            closes=timedelta(minutes=config.check_in_closes_minutes),
        )

    def open_at(self, event: Event, now: datetime) -> bool:
        return (
            event.status == EventStatus.PUBLISHED
            and event.starts_at - self.opens <= now < ends(event) + self.closes
        )

    def ticks_open_at(self, event: Event, now: datetime) -> bool:
        """Whether an organiser may tick names now: also until a day after it closed."""
        return (
            event.status == EventStatus.PUBLISHED
            and event.starts_at - self.opens <= now < ends(event) + self.closes + TICKS_AFTER
        )

    def words(self, tr: Translator) -> str:
        """The window in a sentence, in the reader's language."""
        if not self.closes:
            return tr.gettext(
                N_("Checking in opens {before} before the start and closes at the end.")
            ).format(before=_duration(tr, self.opens))
        return tr.gettext(
            N_("Checking in opens {before} before the start and closes {after} after the end.")
        ).format(before=_duration(tr, self.opens), after=_duration(tr, self.closes))


def _duration(tr: Translator, span: timedelta) -> str:
    minutes = round(span.total_seconds() / 60)
    if minutes % 60 == 0:
        hours = minutes // 60
        return tr.ngettext("{n} hour", "{n} hours", hours).format(n=hours)
    return tr.ngettext("{n} minute", "{n} minutes", minutes).format(n=minutes)


def ends(event: Event) -> datetime:
    return event.ends_at or event.starts_at + DEFAULT_LENGTH


async def open_for(
    uow: UnitOfWork, person: Person, now: datetime, window: CheckInWindow
) -> list[Event]:
    """The events this person is expected at whose check-in is open now."""
    since = now - timedelta(days=2) - window.closes  # one begun long ago may still go on
    events = await uow.check_ins.answered_events(person.id, EXPECTED, since, now + window.opens)
    return [e for e in events if window.open_at(e, now)]


def check_in_payload(code: str) -> str:
    return f"{CHECK_IN_PREFIX}_{code}"


async def check_in(
    services: Services, event: Event, person: Person, via: str, by: Person | None = None
) -> bool:
    """Whether this checked the person in now (False: they already were)."""
    return await services.uow.check_ins.check_in(
        event.id, person.id, via, by.id if by is not None else None
    )

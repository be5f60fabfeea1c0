"""Before an event starts: who is coming (with their guests), maybe, on the waiting list,
checked in, and for each task who took it and how many hands are still missing. Names as
people gave them; those who asked to be forgotten are counted, not named."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from conversations.core.i18n import N_, Translator
from conversations.core.services import Services
from conversations.events.rules.capacity import missing_hands
from storage.models import Event, EventTask, Person, Rsvp, RsvpAnswer
from storage.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class TaskPeople:
    task: EventTask
    people: list[Person]
    missing: int


def name_of(tr: Translator, person: Person | None) -> str:
    return (person.display_name if person else None) or tr.gettext(N_("(no name)"))


async def task_people(uow: UnitOfWork, event: Event) -> list[TaskPeople]:
    """Each open task with the people holding a hand on it, in the order they took it."""
    held = await uow.pledges.counts(event.id)
    found = []
    for task in await uow.events.tasks(event.id):
        if task.closed_at is not None:
            continue
        people = [
            p for pid in await uow.pledges.pledgers(task.id) if (p := await uow.persons.get(pid))
        ]
        found.append(TaskPeople(task, people, missing_hands(task, held.get(task.id, 0))))
    return found


async def _names(uow: UnitOfWork, tr: Translator, rows: Sequence[Rsvp]) -> str:
    names = []
    for row in rows:
        person = await uow.persons.get(row.person_id) if row.person_id else None
        names.append(name_of(tr, person) + (f" +{row.guests}" if row.guests else ""))
    return ", ".join(names) or "–"


async def live_view(services: Services, tr: Translator, event: Event) -> str:
    uow = services.uow
    when = tr.format_datetime(event.starts_at, services.timezone)
    coming = await uow.events.rsvps(event.id, RsvpAnswer.YES)
    maybe = await uow.events.rsvps(event.id, RsvpAnswer.MAYBE)
    waiting = await uow.events.waitlist(event.id)
    taken = await uow.events.places_taken(event.id)
    capacity = str(event.capacity) if event.capacity is not None else "∞"
    lines = [
        tr.gettext(N_("Before {title}, {when}: how it looks now")).format(
            title=event.title, when=when
        ),
        "",
        tr.gettext(N_("Invited: {invited} · Places taken: {coming} of {capacity}")).format(
            invited=await uow.events.invited_count(event.id), coming=taken, capacity=capacity
        ),
        tr.gettext(N_("Coming ({n}): {names}")).format(
            n=len(coming), names=await _names(uow, tr, coming)
        ),
        tr.gettext(N_("Maybe ({n}): {names}")).format(
            n=len(maybe), names=await _names(uow, tr, maybe)
        ),
        tr.gettext(N_("Waiting list ({n}): {names}")).format(
            n=len(waiting), names=await _names(uow, tr, waiting)
        ),
    ]
    checked_in = await uow.check_ins.count(event.id)
    if checked_in:
        lines.append(tr.gettext(N_("Checked in: {n}")).format(n=checked_in))
    tasks = await task_people(uow, event)
    if tasks:
        lines += ["", tr.gettext(N_("Tasks:"))]
        lines += [task_line(tr, entry) for entry in tasks]
        short = sum(entry.missing for entry in tasks)
        if short:
            lines.append(
                tr.ngettext("Still {n} hand missing.", "Still {n} hands missing.", short).format(
                    n=short
                )
            )
    return "\n".join(lines)


def task_line(tr: Translator, entry: TaskPeople) -> str:
    """ "• medbring suppe ×3: Anna, Bo (1 missing)"."""
    names = ", ".join(name_of(tr, p) for p in entry.people) or "–"
    line = f"• {entry.task.title} ×{entry.task.hands}: {names}"
    if entry.missing:
        line += " " + tr.ngettext("({n} missing)", "({n} missing)", entry.missing).format(
            n=entry.missing
        )
    return line

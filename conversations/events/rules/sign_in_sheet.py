"""The attendee list for the coordinator, in the coordinator's language: a CSV file and a
printable sign-in sheet (A4 PDF: a box to tick, the name, guests and task), with a few
empty lines for those who come without having answered.

The PDF is drawn with matplotlib's own PDF backend (already used for the report's
pictures), so no other library is needed; DejaVu Sans has every letter of Danish and the
usual names of newcomers.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.text import Text

from conversations.core.i18n import N_, Translator, without_direction_marks
from conversations.core.services import Services
from conversations.events.rules.live_view import name_of, task_people
from conversations.events.rules.wording import event_when
from storage.models import Event, RsvpAnswer

A4 = (8.27, 11.69)  # inches, portrait
ROWS_A_PAGE = 24
EMPTY_LINES = 4
TOP, BOTTOM, LEFT = 0.86, 0.06, 0.07
COLUMNS = (0.07, 0.13, 0.55, 0.66)  # box, name, guests, task (fractions of the width)


@dataclass(frozen=True, slots=True)
class SheetRow:
    name: str
    guests: int
    tasks: str
    checked_in: bool


async def sheet_rows(services: Services, tr: Translator, event: Event) -> list[SheetRow]:
    """Those coming, in the order they said yes, with their tasks."""
    uow = services.uow
    tasks_of: dict[int, list[str]] = {}
    for entry in await task_people(uow, event):
        for person in entry.people:
            tasks_of.setdefault(person.id, []).append(entry.task.title)
    here = await uow.check_ins.checked_in(event.id)
    rows = []
    for rsvp in await uow.events.rsvps(event.id, RsvpAnswer.YES):
        guest = await uow.persons.get(rsvp.person_id) if rsvp.person_id else None
        if guest is None:
            continue
        tasks = ", ".join(tasks_of.get(guest.id, []))
        rows.append(SheetRow(name_of(tr, guest), rsvp.guests, tasks, guest.id in here))
    return rows


def file_name(tr: Translator, event: Event, what: str, extension: str) -> str:
    """`<title>-<what>.<extension>`, `what` in the coordinator's language; letters of every
    script are kept, everything else becomes a dash."""
    base = re.sub(r"[\W_]+", "-", event.title).strip("-")[:40] or tr.gettext(N_("event"))
    kind = re.sub(r"[\W_]+", "-", tr.gettext(what)).strip("-")
    return f"{base}-{kind}.{extension}"


def attendees_csv(tr: Translator, rows: list[SheetRow]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def word(text: str) -> str:  # a chat's right-to-left marks mean nothing in a table
        return without_direction_marks(tr.gettext(text))

    writer.writerow(
        [word(N_("Name")), word(N_("Guests")), word(N_("Task")), word(N_("Checked in"))]
    )
    for row in rows:
        yes = word(N_("yes")) if row.checked_in else ""
        writer.writerow([row.name, row.guests, row.tasks, yes])
    return buffer.getvalue().encode("utf-8-sig")  # the BOM lets spreadsheets read æøå


def _page(
    tr: Translator, heading: tuple[str, str], rows: list[SheetRow | None], page: str
) -> Figure:
    figure = Figure(figsize=A4)
    title, details = heading
    figure.text(LEFT, 0.955, title[:60], fontsize=15, weight="bold", family="DejaVu Sans")
    figure.text(LEFT, 0.93, details[:100], fontsize=10, family="DejaVu Sans")
    figure.text(LEFT, 0.91, page, fontsize=8, color="#555555", family="DejaVu Sans")
    titles = ("", N_("Name"), N_("Guests"), N_("Task"))
    for x, title in zip(COLUMNS, titles, strict=True):
        if title:
            figure.text(x, TOP + 0.02, tr.gettext(title), fontsize=10, weight="bold")
    step = (TOP - BOTTOM) / ROWS_A_PAGE
    for index, row in enumerate(rows):
        y = TOP - (index + 1) * step
        box = Rectangle((COLUMNS[0], y - 0.004), 0.025, 0.018, fill=False, linewidth=1.2)
        figure.add_artist(box)
        if row is not None:
            if row.checked_in:
                figure.text(COLUMNS[0] + 0.003, y - 0.002, "✓", fontsize=12)
            figure.text(COLUMNS[1], y, row.name[:40], fontsize=11)
            figure.text(COLUMNS[2], y, f"+{row.guests}" if row.guests else "", fontsize=11)
            figure.text(COLUMNS[3], y, row.tasks[:34], fontsize=10)
        figure.add_artist(
            Rectangle((COLUMNS[1], y - 0.008), 0.86 - COLUMNS[1] + 0.07, 0.0004, color="#bbbbbb")
        )
    return figure


def sign_in_pdf(tr: Translator, heading: tuple[str, str], rows: list[SheetRow]) -> bytes:
    """`heading` (the title; when and where) on every page, then a line a person and
    `EMPTY_LINES` more for those who come without having answered."""
    lines: list[SheetRow | None] = [*rows, *([None] * EMPTY_LINES)]
    pages = [lines[i : i + ROWS_A_PAGE] for i in range(0, len(lines), ROWS_A_PAGE)]
    buffer = io.BytesIO()
    with PdfPages(buffer, metadata={"Title": heading[0], "Creator": "Tæl mig med"}) as pdf:
        for number, chunk in enumerate(pages, start=1):
            label = tr.gettext(N_("Page {n} of {total}")).format(n=number, total=len(pages))
            page = _page(tr, heading, chunk, label)
            for text in page.findobj(Text):  # the marks have no glyph in the PDF's font
                text.set_text(without_direction_marks(text.get_text()))
            pdf.savefig(page)
    return buffer.getvalue()


async def sheet_files(
    services: Services, tr: Translator, event: Event
) -> tuple[str, list[tuple[str, bytes, str]]]:
    """The heading and the two files: (file name, content, mime type)."""
    rows = await sheet_rows(services, tr, event)
    details = event_when(tr, event, services.timezone)
    if event.place:
        details += f" · {event.place}"
    pdf = sign_in_pdf(tr, (event.title, details), rows)
    return f"{event.title}, {details}", [
        (file_name(tr, event, N_("sign-in"), "pdf"), pdf, "application/pdf"),
        (file_name(tr, event, N_("attendees"), "csv"), attendees_csv(tr, rows), "text/csv"),
    ]

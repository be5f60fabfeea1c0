"""A report for an event, as messages: a funnel (invited, said yes, reminded, came, gave
feedback), the journey map picture, a series comparison, the words people wrote grouped by
step (anonymous unless they chose to sign), the ideas for next time, the newest photos and
voice notes, and the CSV file.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from pathlib import Path

from conversations.core.i18n import N_, Translator
from conversations.core.messages import Attachment, OutMessage
from conversations.core.services import Services
from conversations.events.rules.journey import step_names
from conversations.feedback.rules.report_charts import journey_map_png, series_png
from conversations.feedback.rules.report_data import answers_csv, gather, task_coverage
from conversations.feedback.rules.windows import steps_of
from storage.models import Event, FeedbackRequest, IdeaKind, Person, RsvpAnswer, Snap, SnapFetch
from storage.unit_of_work import UnitOfWork

MIN_ANSWERS = 3  # fewer respondents than this: no bars, they would mislead


MAX_TEXT = 3500


SERIES_MAX = 4
SERIES_LINES = 8


MAX_LOG_FILES = 10  # the newest photos and voice notes go along with the report


def _filename(tr: Translator, event: Event, what: str, extension: str) -> str:
    """`<title>-<what>.<extension>`, `what` in the reader's language (letters of any
    script are kept, everything else becomes a dash)."""
    base = re.sub(r"[\W_]+", "-", event.title).strip("-")[:40] or tr.gettext(N_("event"))
    kind = re.sub(r"[\W_]+", "-", tr.gettext(what)).strip("-")
    return f"{base}-{kind}.{extension}"


async def _words(uow: UnitOfWork, tr: Translator, event: Event) -> list[str]:
    """What people wrote or said, by step, then what matters to them and their ideas."""
    return await _step_words(uow, tr, event) + await _idea_words(uow, tr, event)


def _signed(text: str, request: FeedbackRequest, person: Person | None) -> str:
    """A name goes with the words only when the person chose to sign them."""
    if request.signed and person is not None and person.display_name:
        return f"{text} ({person.display_name})"
    return text


async def _step_words(uow: UnitOfWork, tr: Translator, event: Event) -> list[str]:
    steps = await step_names(uow, tr, steps_of(event))
    by_step: dict[int, list[str]] = {}
    for comment, request, person, snap in await uow.feedback.event_comments(event.id):
        said = comment.text or ""
        if snap is not None and snap.fetch_state != SnapFetch.TOO_LARGE:
            said = ("🎙 " + tr.gettext(N_("a voice note")) + (f": {said}" if said else "")).strip()
        if said:
            by_step.setdefault(comment.step_index, []).append(_signed(said, request, person))
    if not by_step:
        return []
    lines = ["", tr.gettext(N_("In their own words:"))]
    for index in sorted(by_step):
        name = steps[index] if 0 <= index < len(steps) else str(index + 1)
        lines.append(f"{index + 1}. {name}")
        lines += [f"   • {text}" for text in by_step[index]]
    return lines


async def _idea_words(uow: UnitOfWork, tr: Translator, event: Event) -> list[str]:
    ideas: dict[str, list[str]] = {}
    for idea, request, person in await uow.feedback.event_ideas(event.id):
        ideas.setdefault(idea.kind, []).append(_signed(idea.text, request, person))
    headings = {
        IdeaKind.MATTERS: N_("What matters to people:"),
        IdeaKind.NEXT_TIME: N_("Ideas for next time:"),
    }
    lines: list[str] = []
    for kind, heading in headings.items():
        if ideas.get(kind):
            lines += ["", tr.gettext(heading)]
            lines += [f"• {text}" for text in ideas[kind]]
    return lines


def _chunks(text: str) -> list[str]:
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        if current and len(current) + len(line) + 1 > MAX_TEXT:
            parts.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
    if current:
        parts.append(current)
    return parts


async def build_report(services: Services, tr: Translator, event: Event) -> list[OutMessage]:
    """The report on `event` in the reader's language (`tr`)."""
    uow, timezone = services.uow, services.timezone
    data = await gather(uow, event, tr)
    invited = await uow.events.invited_count(event.id)
    said_yes = (await uow.events.answer_counts(event.id)).get(RsvpAnswer.YES, 0)
    reminded = await uow.feedback.reminded_count(event.id)
    # who checked in is what really happened; what people said afterwards is the fallback
    checked_in = await uow.check_ins.count(event.id)
    came = (
        tr.gettext(N_("Came (checked in): {n}")).format(n=tr.format_number(checked_in))
        if checked_in
        else tr.gettext(N_("Came: {n}")).format(n=tr.format_number(data.came))
    )
    when = tr.format_datetime(event.starts_at, timezone)
    lines = [
        tr.gettext(N_("Report: {title}, {when}")).format(title=event.title, when=when),
        "",
        tr.gettext(N_("From invitation to feedback:")),
        tr.gettext(N_("Invited: {n}")).format(n=tr.format_number(max(invited, said_yes))),
        tr.gettext(N_("Said yes: {n}")).format(n=tr.format_number(said_yes)),
        tr.gettext(N_("Reminded: {n}")).format(n=tr.format_number(reminded)),
        came,
        tr.gettext(N_("Gave feedback: {n}")).format(n=tr.format_number(data.gave_feedback)),
    ]
    few = data.respondents < MIN_ANSWERS
    if few:
        lines += [
            "",
            tr.ngettext(
                "Only {n} person has answered the journey questions so far: too few for a "
                "fair picture, so there is no chart yet.",
                "Only {n} people have answered the journey questions so far: too few for a "
                "fair picture, so there is no chart yet.",
                data.respondents,
            ).format(n=data.respondents),
        ]
    elif data.steps:
        lines += ["", tr.gettext(N_("Good and bad, step by step:"))]
        good_word, bad_word = tr.gettext(N_("good")), tr.gettext(N_("bad"))
        lines += [
            f"{i + 1}. {s.step}: 👍 {s.good} {good_word} · 👎 {s.bad} {bad_word}"
            for i, s in enumerate(data.steps)
        ]
    lines += await _words(uow, tr, event)
    snaps = await uow.feedback.event_snaps(event.id, "log")
    photos = sum(1 for s in snaps if s.kind == "photo")
    voices = len(snaps) - photos
    if snaps:
        lines += [
            "",
            tr.gettext(N_("In the event's log: {photos} and {voices}.")).format(
                photos=tr.ngettext("{n} photo", "{n} photos", photos).format(n=photos),
                voices=tr.ngettext("{n} voice note", "{n} voice notes", voices).format(n=voices),
            ),
        ]
    coverage = task_coverage(tr, event)
    if coverage:
        lines += ["", *coverage]
    lines += await _series_lines(uow, tr, event, timezone)
    messages = [OutMessage(part) for part in _chunks("\n".join(lines))]
    if not few and data.steps:
        messages.append(
            OutMessage(
                tr.gettext(N_("The journey map for {title}.")).format(title=event.title),
                attachment=Attachment(
                    _filename(tr, event, N_("journey"), "png"),
                    journey_map_png(tr, data, when),
                    "image/png",
                ),
            )
        )
    series = [
        other
        for other in [await gather(uow, e, tr) for e in await uow.feedback.events_alike(event)]
        if other.respondents >= MIN_ANSWERS and other.steps
    ][-SERIES_MAX:]
    if len(series) >= 2:
        messages.append(
            OutMessage(
                tr.ngettext(
                    "The same steps across {n} event.",
                    "The same steps across {n} events.",
                    len(series),
                ).format(n=len(series)),
                attachment=Attachment(
                    _filename(tr, event, N_("series"), "png"),
                    series_png(tr, series, timezone),
                    "image/png",
                ),
            )
        )
    messages += await _log_files(tr, snaps)
    if data.rows:
        messages.append(
            OutMessage(
                tr.gettext(N_("Every answer as a table (CSV), without names.")),
                attachment=Attachment(
                    _filename(tr, event, N_("answers"), "csv"),
                    answers_csv(data, timezone, tr),
                    "text/csv",
                ),
            )
        )
    return messages


async def _series_lines(uow: UnitOfWork, tr: Translator, event: Event, timezone: str) -> list[str]:
    """A series' meetings so far side by side: who said yes, who came (checked in, or as
    they said afterwards)."""
    if not event.series:
        return []
    meetings = list(await uow.feedback.events_alike(event))[-SERIES_LINES:]
    if len(meetings) < 2:
        return []
    lines = ["", tr.gettext(N_("The series so far:"))]
    for meeting in meetings:
        said_yes = (await uow.events.answer_counts(meeting.id)).get(RsvpAnswer.YES, 0)
        came = await uow.check_ins.count(meeting.id) or (await gather(uow, meeting)).came
        lines.append(
            tr.gettext(N_("• {when}: {yes} said yes, {came} came")).format(
                when=tr.format_datetime(meeting.starts_at, timezone), yes=said_yes, came=came
            )
        )
    return lines


async def _log_files(tr: Translator, snaps: Sequence[Snap]) -> list[OutMessage]:
    """The newest photos and voice notes whose files are stored, sent on to the coordinator.

    Snaps whose file is still on its way (or could not be fetched) are counted above but
    can't be attached here; a file missing from disk is left out the same way.
    """
    stored = [s for s in snaps if s.fetch_state == SnapFetch.STORED and s.path]
    messages: list[OutMessage] = []
    for snap in stored[-MAX_LOG_FILES:]:
        assert snap.path is not None
        try:
            content = await asyncio.to_thread(Path(snap.path).read_bytes)
        except OSError:
            continue
        is_photo = snap.kind == "photo"
        mime = snap.mime_type or ("image/jpeg" if is_photo else "audio/ogg")
        caption = snap.caption or (
            tr.gettext(N_("A photo from the log."))
            if is_photo
            else tr.gettext(N_("A voice note from the log."))
        )
        messages.append(
            OutMessage(caption, attachment=Attachment(Path(snap.path).name, content, mime))
        )
    return messages

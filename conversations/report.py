"""`/report`: what people said about an event, for its coordinators.

A funnel (invited → said yes → reminded → came → gave feedback), a journey map picture
(good and bad per step), a second picture comparing the steps across a series, the words
people wrote grouped by step (anonymous unless they chose to sign), the ideas for next
time, and a CSV file with one row per answer for the municipality's own analysis.

Only the event's own coordinator (its creator) and admins get a report; checked on the
server at every step. The CSV never holds person ids: each respondent is a hash salted
afresh for every report, so two reports can't be joined to follow a person.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from conversations.create_event import only_coordinators
from conversations.event_admin import can_manage
from conversations.flow import Answer, Flow, FlowContext, Transition
from conversations.i18n import N_, Translator
from conversations.journey_feedback import steps_of
from conversations.messages import Attachment, Choice, OutMessage
from storage.models import Event, IdeaKind, RsvpAnswer, Snap, Verdict
from storage.unit_of_work import UnitOfWork

MIN_ANSWERS = 3  # fewer respondents than this: no bars, they would mislead
WIDTH_PX = 1080
DPI = 100
GREEN = "#2e7d32"
RED = "#c62828"
MAX_TEXT = 3500
SERIES_MAX = 4
MAX_LOG_FILES = 10  # the newest photos and voice notes go along with the report


@dataclass
class StepCounts:
    step: str
    good: int = 0
    bad: int = 0
    skip: int = 0


@dataclass
class EventFeedback:
    event: Event
    steps: list[StepCounts]
    respondents: int  # people who answered at least one step
    came: int
    gave_feedback: int
    rows: list[dict[str, Any]] = field(default_factory=list)


async def gather(uow: UnitOfWork, event: Event) -> EventFeedback:
    """Counts for one event; anonymised answers (of forgotten people) count too."""
    steps = [StepCounts(step) for step in steps_of(event)]
    requests = {r.id: r for r in await uow.feedback.requests(event.id)}
    answers = await uow.feedback.event_answers(event.id)
    answered: set[int] = set()
    rows: list[dict[str, Any]] = []
    for row in answers:
        answered.add(row.request_id)
        if 0 <= row.step_index < len(steps):
            counts = steps[row.step_index]
            if row.verdict == Verdict.GOOD:
                counts.good += 1
            elif row.verdict == Verdict.BAD:
                counts.bad += 1
            else:
                counts.skip += 1
        request = requests.get(row.request_id)
        rows.append(
            {
                "request_id": row.request_id,
                "step_index": row.step_index,
                "step": row.step,
                "verdict": row.verdict,
                "came": "" if request is None or request.came is None else int(request.came),
            }
        )
    gave = {
        r.id for r in requests.values() if r.completed_at is not None or r.came is not None
    } | answered
    return EventFeedback(
        event=event,
        steps=steps,
        respondents=len(answered),
        came=sum(1 for r in requests.values() if r.came),
        gave_feedback=len(gave),
        rows=rows,
    )


def task_coverage(tr: Translator, event: Event) -> list[str]:
    """Lines on how the event's tasks were covered. The pledges issue fills this in."""
    return []


# -- pictures ------------------------------------------------------------------------------


def _png(figure: Figure) -> bytes:
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _height(steps: int) -> float:
    return max(6.0, 2.8 + 1.1 * steps)


def _diverging(axes: Any, steps: Sequence[StepCounts], *, labels: bool, font: int) -> None:
    positions = list(range(len(steps)))
    good = [s.good for s in steps]
    bad = [-s.bad for s in steps]
    axes.barh(positions, good, color=GREEN, height=0.6)
    axes.barh(positions, bad, color=RED, height=0.6)
    top = max([1, *[s.good for s in steps], *[s.bad for s in steps]])
    axes.set_xlim(-top * 1.35, top * 1.35)
    for y, s in zip(positions, steps, strict=True):
        if s.good:
            axes.text(s.good + top * 0.04, y, str(s.good), va="center", fontsize=font)
        if s.bad:
            axes.text(-s.bad - top * 0.04, y, str(s.bad), va="center", ha="right", fontsize=font)
    axes.axvline(0, color="#444444", linewidth=1.5)
    axes.set_yticks(positions)
    axes.set_yticklabels([_short(s.step) for s in steps] if labels else [], fontsize=font)
    axes.invert_yaxis()  # the journey reads from the top down
    axes.set_xticks([])
    axes.tick_params(axis="y", length=0)
    for side in ("top", "right", "bottom", "left"):
        axes.spines[side].set_visible(False)


def _short(text: str, limit: int = 22) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def journey_map_png(tr: Translator, data: EventFeedback, when: str) -> bytes:
    """Good (green, right) and bad (red, left) per step, readable on a phone: 1080 px wide."""
    figure = Figure(figsize=(WIDTH_PX / DPI, _height(len(data.steps))), dpi=DPI)
    axes = figure.add_subplot(1, 1, 1)
    _diverging(axes, data.steps, labels=True, font=20)
    figure.suptitle(_short(data.event.title, 40), fontsize=30, fontweight="bold")
    axes.set_title(
        tr.ngettext("{when} · {n} answer", "{when} · {n} answers", data.respondents).format(
            when=when, n=data.respondents
        ),
        fontsize=20,
        pad=16,
    )
    _legend(tr, figure)
    figure.subplots_adjust(left=0.32, right=0.97, top=0.86, bottom=0.1)
    return _png(figure)


def _legend(tr: Translator, figure: Figure) -> None:
    handles = [
        Patch(color=RED, label=tr.gettext(N_("Bad"))),
        Patch(color=GREEN, label=tr.gettext(N_("Good"))),
    ]
    figure.legend(handles=handles, loc="lower center", ncol=2, fontsize=20, frameon=False)


def series_png(tr: Translator, series: Sequence[EventFeedback], timezone: str) -> bytes:
    """The same steps side by side for up to four events of a series (by step name)."""
    names: list[str] = []
    for data in series:
        for counts in data.steps:
            if counts.step.lower() not in [n.lower() for n in names]:
                names.append(counts.step)
    figure = Figure(figsize=(WIDTH_PX / DPI, _height(len(names))), dpi=DPI)
    columns = len(series)
    for column, data in enumerate(series):
        by_name = {c.step.lower(): c for c in data.steps}
        aligned = [by_name.get(n.lower(), StepCounts(n)) for n in names]
        axes = figure.add_subplot(1, columns, column + 1)
        _diverging(axes, aligned, labels=column == 0, font=16)
        local = data.event.starts_at.astimezone(ZoneInfo(timezone))
        axes.set_title(
            f"{local:%d.%m.%Y}\n"
            + tr.ngettext("{n} answer", "{n} answers", data.respondents).format(n=data.respondents),
            fontsize=16,
        )
    figure.suptitle(
        tr.gettext(N_("{title}: the events side by side")).format(
            title=_short(series[-1].event.title, 30)
        ),
        fontsize=24,
        fontweight="bold",
    )
    _legend(tr, figure)
    figure.subplots_adjust(left=0.3, right=0.98, top=0.84, bottom=0.1, wspace=0.15)
    return _png(figure)


# -- CSV -----------------------------------------------------------------------------------

CSV_COLUMNS = ("respondent", "event_id", "event", "date", "step_number", "step", "verdict", "came")


def answers_csv(data: EventFeedback, timezone: str, salt: str | None = None) -> bytes:
    """One row per answer; respondents are hashes salted for this report only."""
    salt = salt or secrets.token_hex(16)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    date = data.event.starts_at.astimezone(ZoneInfo(timezone)).date().isoformat()
    for row in data.rows:
        respondent = hashlib.sha256(f"{salt}:{row['request_id']}".encode()).hexdigest()[:12]
        writer.writerow(
            (
                respondent,
                data.event.id,
                data.event.title,
                date,
                row["step_index"] + 1,
                row["step"],
                row["verdict"],
                row["came"],
            )
        )
    return buffer.getvalue().encode("utf-8")


# -- the report ----------------------------------------------------------------------------


def _filename(event: Event, suffix: str) -> str:
    base = re.sub(r"[^A-Za-z0-9]+", "-", event.title).strip("-")[:40] or "event"
    return f"{base}-{suffix}"


async def _words(uow: UnitOfWork, tr: Translator, event: Event) -> list[str]:
    lines: list[str] = []
    steps = steps_of(event)
    by_step: dict[int, list[str]] = {}
    for comment, request, person, snap in await uow.feedback.event_comments(event.id):
        said = comment.text or ""
        if snap is not None:
            said = ("🎙 " + tr.gettext(N_("a voice note")) + (f": {said}" if said else "")).strip()
        if not said:
            continue
        if request.signed and person is not None and person.display_name:
            said += f" ({person.display_name})"
        by_step.setdefault(comment.step_index, []).append(said)
    if by_step:
        lines += ["", tr.gettext(N_("In their own words:"))]
        for index in sorted(by_step):
            name = steps[index] if 0 <= index < len(steps) else str(index + 1)
            lines.append(f"{index + 1}. {name}")
            lines += [f"   • {text}" for text in by_step[index]]
    ideas: dict[str, list[str]] = {}
    for idea, request, person in await uow.feedback.event_ideas(event.id):
        text = idea.text
        if request.signed and person is not None and person.display_name:
            text += f" ({person.display_name})"
        ideas.setdefault(idea.kind, []).append(text)
    headings = {
        IdeaKind.MATTERS: N_("What matters to people:"),
        IdeaKind.NEXT_TIME: N_("Ideas for next time:"),
    }
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


async def build_report(
    uow: UnitOfWork, tr: Translator, event: Event, timezone: str
) -> list[OutMessage]:
    data = await gather(uow, event)
    invited = await uow.events.invited_count(event.id)
    said_yes = (await uow.events.answer_counts(event.id)).get(RsvpAnswer.YES, 0)
    reminded = await uow.feedback.reminded_count(event.id)
    when = tr.format_datetime(event.starts_at, timezone)
    lines = [
        tr.gettext(N_("Report: {title}, {when}")).format(title=event.title, when=when),
        "",
        tr.gettext(N_("From invitation to feedback:")),
        tr.gettext(N_("Invited: {n}")).format(n=max(invited, said_yes)),
        tr.gettext(N_("Said yes: {n}")).format(n=said_yes),
        tr.gettext(N_("Reminded: {n}")).format(n=reminded),
        tr.gettext(N_("Came: {n}")).format(n=data.came),
        tr.gettext(N_("Gave feedback: {n}")).format(n=data.gave_feedback),
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
            tr.gettext(N_("In the event's log: {photos} photos and {voices} voice notes.")).format(
                photos=photos, voices=voices
            ),
        ]
    coverage = task_coverage(tr, event)
    if coverage:
        lines += ["", *coverage]
    messages = [OutMessage(part) for part in _chunks("\n".join(lines))]
    if not few and data.steps:
        messages.append(
            OutMessage(
                tr.gettext(N_("The journey map for {title}.")).format(title=event.title),
                attachment=Attachment(
                    _filename(event, "journey.png"),
                    journey_map_png(tr, data, when),
                    "image/png",
                ),
            )
        )
    series = [
        other
        for other in [await gather(uow, e) for e in await uow.feedback.events_alike(event)]
        if other.respondents >= MIN_ANSWERS and other.steps
    ][-SERIES_MAX:]
    if len(series) >= 2:
        messages.append(
            OutMessage(
                tr.gettext(N_("The same steps across {n} events.")).format(n=len(series)),
                attachment=Attachment(
                    _filename(event, "series.png"),
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
                    _filename(event, "answers.csv"), answers_csv(data, timezone), "text/csv"
                ),
            )
        )
    return messages


async def _log_files(tr: Translator, snaps: Sequence[Snap]) -> list[OutMessage]:
    """The newest photos and voice notes whose files are stored, sent on to the coordinator.

    Snaps kept only as a platform's file reference (no fetcher yet) are counted above but
    can't be attached here.
    """
    stored = [s for s in snaps if s.path][-MAX_LOG_FILES:]
    messages: list[OutMessage] = []
    for snap in stored:
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


class ReportStep(StrEnum):
    CHOOSE = "choose"


async def reportable(ctx: FlowContext) -> list[Event]:
    owner = None if ctx.is_admin else ctx.person.id
    now = ctx.now()
    return [e for e in await ctx.uow.events.managed_by(owner) if e.starts_at <= now][:9]


class Report(Flow):
    name = "report"

    async def begin(self, ctx: FlowContext, args: str) -> Transition:
        if not ctx.is_coordinator:
            return only_coordinators(ctx)
        if not await reportable(ctx):
            return Transition.end(OutMessage(ctx._(N_("None of your events has taken place yet."))))
        return Transition.go(ReportStep.CHOOSE, {})

    async def prompt(self, ctx: FlowContext, state: str, data: dict[str, Any]) -> OutMessage:
        events = await reportable(ctx)
        choices = tuple(Choice(f"e{e.id}", f"{e.title} · {ctx.when(e.starts_at)}") for e in events)
        return OutMessage(ctx._(N_("Which event would you like a report on?")), choices=choices)

    async def handle(
        self, ctx: FlowContext, state: str, data: dict[str, Any], answer: Answer
    ) -> Transition:
        if not ctx.is_coordinator:
            return only_coordinators(ctx)
        choice = answer.choice or ""
        event = (
            await ctx.uow.events.get(int(choice[1:]))
            if choice.startswith("e") and choice[1:].isdigit()
            else None
        )
        if event is None or not can_manage(ctx, event) or event.starts_at > ctx.now():
            return Transition.end(
                OutMessage(ctx._(N_("You can only see reports on your own events.")))
            )
        messages = await build_report(ctx.uow, ctx.translator, event, ctx.config.timezone)
        return Transition.end(*messages)

"""The numbers behind a report: answers per step, the funnel, and the CSV file.

The CSV never holds person ids: each respondent is a hash salted afresh for every report,
so two reports can't be joined to follow a person.
"""

from __future__ import annotations

import csv
import hashlib
import io
import secrets
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from conversations.core.i18n import N_, Translator, without_direction_marks
from conversations.events.rules.journey import step_names
from conversations.feedback.rules.windows import steps_of
from storage.models import Event, Verdict
from storage.unit_of_work import UnitOfWork


@dataclass
class StepCounts:
    step: str
    good: int = 0
    bad: int = 0
    skip: int = 0


@dataclass(frozen=True, slots=True)
class AnswerRow:
    """One answer to one step, as the CSV shows it (the request id is hashed there)."""

    request_id: int
    step_index: int
    step: str
    verdict: str
    came: int | str  # 1 or 0, or "" when the person didn't say


@dataclass
class EventFeedback:
    event: Event
    steps: list[StepCounts]
    respondents: int  # people who answered at least one step
    came: int
    gave_feedback: int
    rows: list[AnswerRow] = field(default_factory=list)


async def gather(uow: UnitOfWork, event: Event, tr: Translator | None = None) -> EventFeedback:
    """Counts for one event; anonymised answers (of forgotten people) count too. With `tr`,
    the steps are named in its language."""
    names = steps_of(event)
    if tr is not None:
        names = await step_names(uow, tr, names)
    steps = [StepCounts(step) for step in names]
    requests = {r.id: r for r in await uow.feedback.requests(event.id)}
    answers = await uow.feedback.event_answers(event.id)
    answered: set[int] = set()
    rows: list[AnswerRow] = []
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
            AnswerRow(
                request_id=row.request_id,
                step_index=row.step_index,
                step=names[row.step_index] if 0 <= row.step_index < len(names) else row.step,
                verdict=row.verdict,
                came="" if request is None or request.came is None else int(request.came),
            )
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


# The file is for the coordinator: its headings and words are in their language.
CSV_COLUMNS = (
    N_("respondent"),
    N_("event number"),
    N_("event"),
    N_("date"),
    N_("step number"),
    N_("step"),
    N_("answer"),
    N_("came"),
)
CSV_VERDICTS = {Verdict.GOOD: N_("good"), Verdict.BAD: N_("bad"), Verdict.SKIP: N_("skipped")}
CSV_CAME = {1: N_("yes"), 0: N_("no")}


def answers_csv(
    data: EventFeedback, timezone: str, tr: Translator, salt: str | None = None
) -> bytes:
    """One row per answer; respondents are hashes salted for this report only."""
    salt = salt or secrets.token_hex(16)
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def word(text: str) -> str:
        return without_direction_marks(tr.gettext(text))

    writer.writerow([word(column) for column in CSV_COLUMNS])
    date = data.event.starts_at.astimezone(ZoneInfo(timezone)).date().isoformat()
    for row in data.rows:
        respondent = hashlib.sha256(f"{salt}:{row.request_id}".encode()).hexdigest()[:12]
        writer.writerow(
            (
                respondent,
                data.event.id,
                data.event.title,
                date,
                row.step_index + 1,
                without_direction_marks(row.step),
                word(CSV_VERDICTS[Verdict(row.verdict)])
                if row.verdict in CSV_VERDICTS
                else row.verdict,
                word(CSV_CAME[row.came]) if isinstance(row.came, int) else "",
            )
        )
    return buffer.getvalue().encode("utf-8")

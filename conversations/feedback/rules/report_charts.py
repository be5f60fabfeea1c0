"""The report's pictures: the journey map (good and bad per step) and the series comparison."""

from __future__ import annotations

import io
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.text import Text

from conversations.core.i18n import N_, Translator, without_direction_marks
from conversations.feedback.rules.report_data import EventFeedback, StepCounts

WIDTH_PX = 1080


DPI = 100


GREEN = "#2e7d32"


RED = "#c62828"


def _png(figure: Figure) -> bytes:
    # A chat's right-to-left marks have no glyph in a picture's font
    for text in figure.findobj(Text):
        text.set_text(without_direction_marks(text.get_text()))
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _height(steps: int) -> float:
    return max(6.0, 2.8 + 1.1 * steps)


def _diverging(axes: Axes, steps: Sequence[StepCounts], *, labels: bool, font: int) -> None:
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

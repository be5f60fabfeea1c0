"""What an invitation tells about access: step-free, a toilet, places to sit, and a note on
getting there by bus or train and what to bring. Shown the same way on every platform."""

from __future__ import annotations

from conversations.core.i18n import N_, Translator

# key -> (label, emoji), in the order they are shown
ACCESS_FEATURES: dict[str, tuple[str, str]] = {
    "step_free": (N_("Step-free access"), "♿"),
    "toilet": (N_("Toilet"), "🚻"),
    "seating": (N_("Places to sit"), "🪑"),
}
MAX_PRACTICAL_NOTE = 600


def access_lines(tr: Translator, features: list[str] | list[object], note: str) -> list[str]:
    """The invitation's lines about access (none when nothing was said)."""
    lines = []
    known = [key for key in ACCESS_FEATURES if key in features]
    if known:
        lines.append(
            " · ".join(
                f"{ACCESS_FEATURES[key][1]} {tr.gettext(ACCESS_FEATURES[key][0])}" for key in known
            )
        )
    if note.strip():
        lines.append("🚌 " + note.strip())
    return lines

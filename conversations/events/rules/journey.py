"""The steps of an event's journey, which journey feedback asks about one by one, and their
names in the reader's language.

A step is stored with the event as its text (the Danish defaults, or what the organiser
wrote). Shown to someone, a step takes the name a coordinator gave it in their language
(the translations table, keyed by the step's Danish text), else a default step its
catalog's name, else the text as it was written.
"""

from __future__ import annotations

from collections.abc import Sequence

from conversations.core.i18n import N_, Translator
from conversations.core.matching import normalise
from storage.models import NamedSubject
from storage.unit_of_work import UnitOfWork

DEFAULT_JOURNEY = (
    "invitationen",
    "turen derhen",
    "velkomsten",
    "aktiviteten",
    "maden",
    "hjemturen",
)

# The default steps in the catalogs (the English text is the key, as for every text).
DEFAULT_STEP_TEXTS = {
    "invitationen": N_("the invitation"),
    "turen derhen": N_("getting there"),
    "at komme derhen": N_("getting there"),  # its name in events made before 2026-12
    "velkomsten": N_("the welcome"),
    "aktiviteten": N_("the activity"),
    "maden": N_("the food"),
    "hjemturen": N_("going home"),
}

MAX_STEP_KEY = 64


def step_key(step: str) -> str:
    """How a step is found in the translations table: its text, without case or accents."""
    return (normalise(step) or step.strip().casefold())[:MAX_STEP_KEY]


async def step_names(uow: UnitOfWork, tr: Translator, steps: Sequence[str]) -> list[str]:
    """Each step's name in the reader's language (see the module's doc)."""
    if not steps:
        return []
    own = await uow.translations.names(
        NamedSubject.STEP, [step_key(step) for step in steps], tr.language
    )
    names = []
    for step in steps:
        named = own.get(step_key(step))
        default = DEFAULT_STEP_TEXTS.get(step.strip().casefold())
        if named:
            names.append(named)
        elif default is not None:
            names.append(tr.gettext(default))
        else:
            names.append(step)
    return names

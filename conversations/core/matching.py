"""Tolerant matching of typed answers to the choices of a prompt.

People type "2", "ja", "Tæl mig med", "tael mig med", "tæl mig", "👍" or "engelsk".
A match is only taken when it points at one choice; when two choices fit equally, we ask
again rather than guess.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

_DANISH_LETTERS = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa"})
_NOT_WORD = re.compile(r"[^\w]+", re.UNICODE)
_NUMBER = re.compile(r"^\s*(?:nr\.?|no\.?|#)?\s*(\d{1,3})\s*[.)]?\s*$", re.IGNORECASE)

FUZZY_CUTOFF = 0.78


@lru_cache(maxsize=4096)  # choice labels are the same for everyone: worth remembering
def normalise(text: str) -> str:
    lowered = text.casefold().translate(_DANISH_LETTERS)
    decomposed = unicodedata.normalize("NFKD", lowered)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NOT_WORD.sub(" ", stripped).strip()


def _strip_emoji_variation(text: str) -> str:
    return text.replace("\ufe0f", "").strip()


def match_choice(
    text: str, choices: Sequence[Mapping[str, Any]], *, exact_only: bool = False
) -> str | None:
    """The id of the one choice that `text` names, or None.

    With `exact_only` (a question that also takes free text, like a name), only a number,
    an emoji or the exact words count: "Anna B" must not be read as the choice "Anna".
    """
    if not choices or not text.strip():
        return None
    number = _NUMBER.match(text)
    if number is not None:
        index = int(number.group(1))
        return str(choices[index - 1]["id"]) if 1 <= index <= len(choices) else None

    bare = _strip_emoji_variation(text)
    by_emoji = [c for c in choices if c.get("emoji") and _strip_emoji_variation(c["emoji"]) == bare]
    if len(by_emoji) == 1:
        return str(by_emoji[0]["id"])

    wanted = normalise(text)
    if not wanted:
        return None
    names: list[tuple[str, str]] = []
    for choice in choices:
        for name in (choice["label"], str(choice["id"]), *choice.get("aliases", ())):
            normalised = normalise(str(name))
            if normalised:
                names.append((normalised, str(choice["id"])))

    exact = {cid for name, cid in names if name == wanted}
    if len(exact) == 1:
        return exact.pop()
    if len(exact) > 1 or exact_only:
        return None

    if len(wanted) >= 3:
        prefixed = {cid for name, cid in names if name.startswith(wanted)}
        if len(prefixed) == 1:
            return prefixed.pop()
        if len(prefixed) > 1:
            return None

    scored: dict[str, float] = {}
    for name, cid in names:
        ratio = difflib.SequenceMatcher(None, wanted, name).ratio()
        scored[cid] = max(scored.get(cid, 0.0), ratio)
    ranked = sorted(scored.items(), key=lambda item: item[1], reverse=True)
    if not ranked:  # no choice has a name made of letters or digits
        return None
    best_id, best = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    if best >= FUZZY_CUTOFF and best - runner_up >= 0.1:
        return best_id
    return None


def closest(word: str, options: Sequence[str]) -> str | None:
    """The option a typo most likely meant (for "/setings" -> "settings")."""
    found = difflib.get_close_matches(
        normalise(word), [normalise(o) for o in options], n=1, cutoff=0.7
    )
    if not found:
        return None
    for option in options:
        if normalise(option) == found[0]:
            return option
    return None

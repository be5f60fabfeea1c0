"""Tasks as coordinators type them: one per line, with how many hands."""

from __future__ import annotations

import re


def parse_task(line: str) -> tuple[str, int] | None:
    """ "medbring suppe x3" -> ("medbring suppe", 3); "tænde bål" -> ("tænde bål", 1)."""
    text = " ".join(line.strip().lstrip("-•*").split())
    if not text:
        return None
    match = re.fullmatch(r"(.+?)\s*(?:[x×*]\s*(\d{1,2})|\((\d{1,2})\))", text, re.IGNORECASE)
    if match is None:
        return (text[:120], 1)
    hands = int(match.group(2) or match.group(3))
    return (match.group(1).strip()[:120], max(1, min(hands, 50)))

"""One short transaction's worth of a scheduled job: what it did, and whether more is left.

A job that can grow with the number of people (reminders due at once, feedback to ask for
after a big event) does its work in chunks, each committed on its own, so it never holds
the database's one writer for long; the scheduler runs chunks until `more` is false.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Chunk:
    counts: dict[str, int]
    more: bool

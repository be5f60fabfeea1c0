"""Choice ids that carry a number, built and read in one place.

A button's id travels to the platform and back, so it is read as untrusted text: `parse`
gives the number only for the exact form `of` makes (ASCII digits, a sane length), never an
error, and the flow then checks on the server what that number may be used for.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_DIGITS = 18


@dataclass(frozen=True, slots=True)
class ChoiceKey:
    """`EVENT.of(12)` is "e12"; `EVENT.parse("e12")` is 12, `EVENT.parse("x")` is None."""

    prefix: str

    def of(self, number: int) -> str:
        return f"{self.prefix}{number}"

    def parse(self, choice_id: str | None) -> int | None:
        if not choice_id or not choice_id.startswith(self.prefix):
            return None
        digits = choice_id[len(self.prefix) :]
        if not digits or len(digits) > MAX_DIGITS or not (digits.isascii() and digits.isdigit()):
            return None
        return int(digits)


EVENT = ChoiceKey("e")
TOPIC = ChoiceKey("t")
IDEA = ChoiceKey("i")
STEP = ChoiceKey("s")  # a default step of the journey, by its place

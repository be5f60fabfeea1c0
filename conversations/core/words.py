"""Words people type for yes, no and skip, in Danish and English, besides the labels."""

from __future__ import annotations

YES_WORDS = (
    "ja",
    "yes",
    "jo",
    "ok",
    "okay",
    "jep",
    "gerne",
    "sure",
    "jaa",
    "ja tak",
    "ja gerne",
    "yes please",
    "yep",
    "yeah",
)


NO_WORDS = ("nej", "no", "nope", "ellers tak", "nej tak", "no thanks", "nej ellers tak", "nah")


SKIP_WORDS = ("spring over", "skip", "videre", "next", "-")


def whole_number(text: str, *, at_most: int = 10**9) -> int | None:
    """A typed whole number ("20", " 3 "), or None: only ASCII digits count, so "²" or "١٢"
    is not taken as a number, and nothing too long to be meant."""
    digits = text.strip()
    if not digits or len(digits) > len(str(at_most)) or not (digits.isascii() and digits.isdigit()):
        return None
    number = int(digits)
    return number if number <= at_most else None


# Answers to an invitation, typed: besides the button labels, the ways people say them.
COMING_WORDS = (
    *YES_WORDS,
    "jaaa",
    "ja da",
    "kommer",
    "jeg kommer",
    "vi kommer",
    "jeg er med",
    "tæl mig med",
    "count me in",
    "i'm in",
    "i'm coming",
    "i'll come",
    "i will come",
    "coming",
)
MAYBE_WORDS = (
    "måske",
    "måske nok",
    "jeg kommer måske",
    "ved ikke",
    "det ved jeg ikke",
    "vi får se",
    "maybe",
    "perhaps",
    "not sure",
    "i might come",
)
NOT_COMING_WORDS = (
    *NO_WORDS,
    "kan ikke",
    "jeg kan ikke",
    "kan ikke komme",
    "kommer ikke",
    "jeg kommer ikke",
    "desværre",
    "desværre ikke",
    "can't",
    "cannot",
    "can't come",
    "i can't",
    "i can't come",
    "not coming",
)

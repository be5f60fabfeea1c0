"""Words people type for yes, no and skip, in Danish and English, besides the labels."""

from __future__ import annotations

YES_WORDS = ("ja", "yes", "jo", "ok", "okay", "jep", "gerne", "sure")


NO_WORDS = ("nej", "no", "nope", "ellers tak", "nej tak", "no thanks")


SKIP_WORDS = ("spring over", "skip", "videre", "next", "-")

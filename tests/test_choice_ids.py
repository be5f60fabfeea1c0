"""Choice ids with a number: built and read back by one helper, forged ones give nothing."""

from __future__ import annotations

import pytest

from conversations.core.choice_ids import EVENT, ChoiceKey


def test_an_id_reads_back_as_its_number() -> None:
    assert EVENT.of(12) == "e12"
    assert EVENT.parse(EVENT.of(12)) == 12


@pytest.mark.parametrize(
    "forged", [None, "", "e", "x12", "e-1", "e1.5", "e²", "e١٢", "e 12", "e" + "9" * 40, "E12"]
)
def test_anything_else_reads_as_nothing(forged: str | None) -> None:
    assert EVENT.parse(forged) is None


def test_prefixes_do_not_read_each_others_ids() -> None:
    offer, other = ChoiceKey("o"), ChoiceKey("oo")
    assert offer.parse(other.of(3)) is None
    assert other.parse(offer.of(3)) is None

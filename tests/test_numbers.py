"""bot/numbers.py: a whole number as typed, exactly what int() can read."""

from __future__ import annotations

import re

import pytest

from bot.numbers import COUNT_PATTERN, count_of, whole_number


@pytest.mark.parametrize(
    ("text", "number"),
    [("0", 0), ("15", 15), (" 7 ", 7), ("007", 7), ("３", 3), ("١٢", 12), ("9" * 4300, int("9" * 4300))],
)
def test_decimal_digits_of_any_script_are_a_number(text: str, number: int) -> None:
    assert whole_number(text) == number


@pytest.mark.parametrize(
    "text", ["", " ", "²", "①", "½", "-1", "+1", "1.5", "1e3", "1_000", "two", "9" * 4301]
)
def test_anything_else_is_none_never_an_error(text: str) -> None:
    assert whole_number(text) is None


@pytest.mark.parametrize(("word", "count"), [("4", 4), ("Four", 4), ("fifteen", 15), ("12", 12)])
def test_a_count_in_a_sentence(word: str, count: int) -> None:
    assert re.fullmatch(COUNT_PATTERN, word, re.IGNORECASE)
    assert count_of(word) == count


def test_a_word_that_is_no_count_does_not_match() -> None:
    assert not re.fullmatch(COUNT_PATTERN, "sixteen", re.IGNORECASE)

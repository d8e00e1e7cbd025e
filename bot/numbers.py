"""Whole numbers as people type them.

`str.isdigit()` is not the test for `int()`: it accepts superscripts and circled digits (², ①),
which `int()` refuses with a ValueError, so a check written as `s.isdigit() and int(s)` raises on
"--n ²". `isdecimal()` is exactly what `int()` reads: every script's decimal digits, so the
full-width ３ a Japanese or Chinese keyboard types counts as 3.
"""

from __future__ import annotations

__all__ = ["COUNT_PATTERN", "count_of", "whole_number"]

# Past this, int() refuses a string anyway (sys.get_int_max_str_digits); no limit is near it.
_MAX_DIGITS = 4300


def whole_number(text: str) -> int | None:
    """`text` (spaces around it allowed) as a whole number of 0 or more, or None."""
    text = text.strip()
    if not text.isdecimal() or len(text) > _MAX_DIGITS:
        return None
    return int(text)


# A count as people write it in a sentence: "4 images", "four images" (up to Seedream's 15).
_WORDS = (
    *("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"),
    *("eleven", "twelve", "thirteen", "fourteen", "fifteen"),
)
COUNT_PATTERN = rf"\d{{1,2}}|{'|'.join(_WORDS)}"  # for a regex; count_of reads what it matched


def count_of(word: str) -> int:
    """What COUNT_PATTERN matched ("4", "Four") as a number."""
    word = word.lower()
    return _WORDS.index(word) + 1 if word in _WORDS else int(word)

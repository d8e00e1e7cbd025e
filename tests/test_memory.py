"""The idle trimmer: it finds glibc's malloc_trim here (Linux/glibc), runs, and rate-limits."""

from __future__ import annotations

from bot.memory import IdleTrimmer


def test_trims_once_per_interval() -> None:
    trimmer = IdleTrimmer(min_interval=3600)
    assert trimmer.available
    assert trimmer() is True
    assert trimmer() is False  # within the interval


def test_trims_again_after_the_interval() -> None:
    trimmer = IdleTrimmer(min_interval=0)
    assert trimmer() is True
    assert trimmer() is True

"""Counts in the operator's English (doctor, backup): "1 problem", "2 problems", never
"problem(s)". What users read is translated in bot/messages.py, with each language's plurals."""

from __future__ import annotations

__all__ = ["counted"]


def counted(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n:,} {singular if n == 1 else plural or singular + 's'}"

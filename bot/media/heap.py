"""Giving freed heap memory back to the operating system (glibc's malloc_trim).

glibc keeps what a thread freed in that thread's heap for its next allocation: after a burst of
multi-megabyte images freed from several threads, the process stays as large as its peak.
`trim()` returns it; elsewhere (musl, macOS) there is nothing to call and it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Callable

__all__ = ["trim", "trimming"]


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        found = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    found.argtypes = [ctypes.c_size_t]
    found.restype = ctypes.c_int
    return found


def trimming() -> bool:
    """Whether trim() can return memory here (glibc)."""
    return _malloc_trim() is not None


def trim() -> None:
    """Return the freed memory of every thread's heap to the operating system, if it can."""
    if (malloc_trim := _malloc_trim()) is not None:
        malloc_trim(0)

"""Giving freed image memory back to the operating system after a burst.

Jobs hold multi-megabyte images and free them from several threads; glibc keeps those freed
heaps (BENCHMARKS.md: RSS 800 MiB after a burst with 20 MiB of live Python objects, 200 MiB
after malloc_trim). When the engine goes idle it asks glibc to return them, at most once a
minute. Elsewhere (musl, macOS) this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import time
from collections.abc import Callable

__all__ = ["IdleTrimmer"]

log = logging.getLogger(__name__)


def _load_malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


class IdleTrimmer:
    def __init__(self, min_interval: float = 60.0) -> None:
        self._trim = _load_malloc_trim()
        self.min_interval = min_interval
        self._last = float("-inf")

    @property
    def available(self) -> bool:
        return self._trim is not None

    def __call__(self) -> bool:
        """Trim now unless it was done within `min_interval`; True when it ran."""
        now = time.monotonic()
        if self._trim is None or now - self._last < self.min_interval:
            return False
        self._last = now
        self._trim(0)
        return True

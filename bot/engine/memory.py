"""Giving freed image memory back to the operating system after a burst.

Jobs hold multi-megabyte images and free them from several threads; glibc keeps those freed
heaps (BENCHMARKS.md: RSS 800 MiB after a burst with 20 MiB of live Python objects, 200 MiB
after malloc_trim). When the engine goes idle it asks glibc to return them (at most every
10 s; a request inside that window runs when it ends, if still idle). Elsewhere (musl, macOS) this does nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from bot.media.heap import trim, trimming

__all__ = ["IdleTrimmer"]

log = logging.getLogger(__name__)


class IdleTrimmer:
    """Trims when asked, or, if it trimmed less than `min_interval` ago, once the interval is
    over and `still_idle()` says nothing started meanwhile."""

    def __init__(self, still_idle: Callable[[], bool], min_interval: float = 10.0) -> None:
        self.still_idle = still_idle
        self.min_interval = min_interval
        self._last = float("-inf")
        self._pending: asyncio.TimerHandle | None = None
        self.trims = 0

    @property
    def available(self) -> bool:
        return trimming()

    def request(self) -> None:
        if not trimming() or self._pending is not None:
            return
        wait = self._last + self.min_interval - time.monotonic()
        if wait <= 0:
            self._run()
        else:
            self._pending = asyncio.get_running_loop().call_later(wait, self._deferred)

    def _deferred(self) -> None:
        self._pending = None
        if self.still_idle():
            self._run()

    def _run(self) -> None:
        self._last = time.monotonic()
        trim()
        self.trims += 1

    def cancel(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None

"""Showing a job's progress in one chat message that is edited in place.

The engine reports progress often (queued #n, generating with elapsed time and percent); chat
platforms rate-limit edits. `ProgressRelay` is the engine's progress callback: it keeps the
latest `Progress` (text for a chat message, typed parts for a bar) and shows it through `show`
in the background, at most once per `min_interval` (a new stage shows at once), so a slow or
rate-limited edit never holds up the job.
A failed edit is logged (or handed to `on_error`) and ends that round of updates; the next
progress event starts another.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from bot import i18n
from bot.conversation.surface import Progress
from bot.engine.pipeline import ProgressEvent

__all__ = ["ProgressRelay"]

log = logging.getLogger(__name__)


class ProgressRelay:
    def __init__(
        self,
        show: Callable[[Progress], Awaitable[None]],
        *,
        min_interval: float = 2.0,
        footer: str = "",
        on_error: Callable[[Exception], None] | None = None,
        locale: str | None = None,
    ) -> None:
        self._show = show
        self.min_interval = min_interval
        self.footer = footer  # a line shown under every progress text (e.g. which image is which)
        self._on_error = on_error  # instead of the default log line (e.g. with the platform's reason)
        self.locale = locale  # the language of the status message (None: the current one)
        self._latest: Progress | None = None
        self._shown: Progress | None = None
        self._stage = ""
        self._urgent = False
        self._last = 0.0
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._closed = False

    async def __call__(self, event: ProgressEvent) -> None:
        if event.stage == "done" or self._closed:
            return
        with i18n.use(self.locale or i18n.current()):
            self._latest = Progress.of(event, self.footer)
        if event.stage != self._stage:
            self._urgent = True
        self._stage = event.stage
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._updates(), name="progress")

    async def _updates(self) -> None:
        try:
            while not self._closed and self._latest != self._shown:
                wait = 0.0 if self._urgent else self.min_interval - (time.monotonic() - self._last)
                if wait > 0:
                    await asyncio.sleep(wait)
                    continue  # the text may have moved on meanwhile
                self._urgent = False
                async with self._lock:
                    if self._closed:
                        return
                    latest = self._latest
                    self._last = time.monotonic()
                    if latest is not None:
                        await self._show(latest)
                    self._shown = latest
        except Exception as exc:  # progress is best effort; the job goes on regardless
            if self._on_error is not None:
                self._on_error(exc)
            else:
                log.info("progress update failed: %s", type(exc).__name__)

    async def stop(self, timeout: float = 10.0) -> None:
        """No more updates. An edit in flight may finish first (up to `timeout` seconds), so the
        caller's next edit of the same message is the last one."""
        self._closed = True
        task = self._task
        if task is None or task.done():
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout), self._lock:
                pass
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

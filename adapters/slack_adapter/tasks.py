"""Work that runs after the ack: tracked, so shutdown can wait for it and then cancel it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

__all__ = ["BackgroundTasks"]

log = logging.getLogger(__name__)


class BackgroundTasks:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self.closing = False

    def spawn(self, coro: Coroutine[Any, Any, None], *, name: str) -> None:
        if self.closing:
            coro.close()
            log.info("slack: shutting down, dropped %s", name)
            return
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("slack: task %s failed", task.get_name(), exc_info=task.exception())

    def __len__(self) -> int:
        return len(self._tasks)

    async def close(self, grace: float) -> None:
        """Let running work finish for `grace` seconds, then cancel what is left."""
        self.closing = True
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=grace)
        for task in pending:
            task.cancel()
        if pending:
            log.info("slack: cancelled %d unfinished task(s) at shutdown", len(pending))
            await asyncio.gather(*pending, return_exceptions=True)

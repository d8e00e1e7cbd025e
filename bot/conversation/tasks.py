"""Work a chat adapter runs after acknowledging an event: tracked, so shutdown can let it finish
for a grace period and then cancel it (the engine refunds cancelled jobs)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from bot.ledger import database_down
from bot.logs import log_problem

__all__ = ["BackgroundTasks"]

log = logging.getLogger(__name__)


class BackgroundTasks:
    def __init__(self, label: str = "bot") -> None:
        self.label = label  # the platform, for logs
        self._tasks: set[asyncio.Task[None]] = set()
        self.closing = False

    def spawn(self, coro: Coroutine[Any, Any, None], *, name: str) -> bool:
        """Run `coro` in the background; False (and the coroutine closed) once shutting down."""
        if self.closing:
            coro.close()
            log.info("%s: shutting down, dropped %s", self.label, name)
            return False
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return True

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        exc = None if task.cancelled() else task.exception()
        if exc is not None:  # the database down: one line (its traceback at DEBUG); a bug: a traceback
            log_problem(
                log,
                logging.ERROR,
                "%s: task %s failed",
                self.label,
                task.get_name(),
                exc=exc,
                expected=database_down,
            )

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
            log.info("%s: cancelled %d unfinished task(s) at shutdown", self.label, len(pending))
            await asyncio.gather(*pending, return_exceptions=True)

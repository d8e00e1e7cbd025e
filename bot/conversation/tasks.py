"""Work a chat adapter runs after acknowledging an event: tracked, so shutdown can let it finish
for a grace period and then cancel it (the engine refunds cancelled jobs)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from bot.ledger import DATABASE_ERRORS
from bot.logs import log_problem

__all__ = ["BackgroundTasks", "first_seen"]

log = logging.getLogger(__name__)


async def first_seen(first_sighting: Callable[[str], Awaitable[bool]], key: str) -> bool:
    """`first_sighting(key)` (Conversation's: the database's word on whether another process, or
    this one before a restart, took this event), or True when the database can't answer: the
    surface's claim in memory still dedupes within this process, and the turn's own steps tell
    the person to try again if the database is still down. An acked event dropped on the error
    was never answered. (Belongs in Conversation.first_sighting itself.)"""
    try:
        return await first_sighting(key)
    except DATABASE_ERRORS as exc:
        log_problem(
            log,
            logging.WARNING,
            "could not check event %s against other processes; answering it",
            key,
            exc=exc,
            expected=DATABASE_ERRORS,
        )
        return True


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
                expected=DATABASE_ERRORS,
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

"""Draining: stop taking jobs, give running ones a grace period, cancel the rest (resumable
provider tasks are left for the next start, the others refunded), then let leases go."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from bot.engine.memory import IdleTrimmer

__all__ = ["Lifecycle"]

log = logging.getLogger(__name__)


class Lifecycle:
    """The running-jobs part of the Engine (a mixin: it shares the engine's state)."""

    draining: bool
    _active: dict[str, asyncio.Task[Any]]
    _idle: asyncio.Event
    _lost: set[str]
    _delivering: set[str]  # jobs posting their images now
    _closing: asyncio.Event  # set by close(): background retries stop waiting
    _trim_memory: IdleTrimmer

    if TYPE_CHECKING:  # provided by the other parts of the Engine

        async def release_leases(self) -> None: ...

    @contextlib.contextmanager
    def _track(self, job_id: str) -> Iterator[None]:
        task = asyncio.current_task()
        if task is not None:
            self._active[job_id] = task
            self._idle.clear()
        try:
            yield
        finally:
            self._active.pop(job_id, None)
            self._lost.discard(job_id)
            if not self._active:
                self._idle.set()
                self._trim_memory.request()

    @property
    def active_jobs(self) -> list[str]:
        return list(self._active)

    async def shutdown(self, grace: float, *, settle_timeout: float = 10.0) -> list[str]:
        """Stop taking new jobs, let running ones finish for `grace` seconds, then cancel the rest
        (those posting their images get `settle_timeout` more first).

        Cancelled jobs polling a resumable provider task stay 'running' (the next start's
        recover() resumes them); the others are refunded. Returns the ids that were cancelled.
        """
        self.draining = True
        self._closing.set()
        if self._active:
            log.info("shutting down: waiting up to %.0f s for %d running job(s)", grace, len(self._active))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), grace)
        cancelled = list(self._active)
        if cancelled:
            log.warning("shutting down: cancelling %d job(s) still running", len(cancelled))
            # A job posting its images is cut last: stopped halfway, the person has half a result.
            posting = {task for job_id, task in self._active.items() if job_id in self._delivering}
            for task in set(self._active.values()) - posting:
                task.cancel()
            with contextlib.suppress(TimeoutError):  # each records its state in _fail
                await asyncio.wait_for(self._idle.wait(), settle_timeout)
            for task in set(self._active.values()):
                task.cancel()
            if posting:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._idle.wait(), settle_timeout)
        await self.close()
        return cancelled

    async def close(self) -> None:
        """Stop renewing leases and hand over what this process checkpointed; a job's close still
        waiting for the database is tried once more and left to the next start."""
        self._closing.set()
        await self.release_leases()

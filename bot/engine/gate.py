"""Concurrency caps: a global cap on provider calls in flight and a per-user cap on jobs.

A request over either cap waits in one FIFO line (never dropped) and is told its position
whenever it changes. A waiter held back only by its own user cap does not block others.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

__all__ = ["Gate"]

log = logging.getLogger(__name__)

PositionCallback = Callable[[int], Awaitable[None]]


@dataclass(eq=False)
class _Waiter:
    user_key: str
    future: asyncio.Future[None]
    on_position: PositionCallback | None
    last_position: int = field(default=0)


class Gate:
    def __init__(self, global_cap: int, user_cap: int) -> None:
        self.global_cap = global_cap
        self.user_cap = user_cap
        self.running = 0
        self.per_user: Counter[str] = Counter()
        self.waiters: list[_Waiter] = []
        self._notices: set[asyncio.Task[None]] = set()  # keep references until they finish

    @property
    def queued(self) -> int:
        return len(self.waiters)

    def _can_run(self, user_key: str) -> bool:
        return self.running < self.global_cap and self.per_user[user_key] < self.user_cap

    def _take(self, user_key: str) -> None:
        self.running += 1
        self.per_user[user_key] += 1

    def _release(self, user_key: str) -> None:
        self.running -= 1
        self.per_user[user_key] -= 1
        if self.per_user[user_key] <= 0:
            del self.per_user[user_key]
        self._wake()

    def _wake(self) -> None:
        for waiter in list(self.waiters):
            if waiter.future.done():
                self.waiters.remove(waiter)
            elif self._can_run(waiter.user_key):
                self._take(waiter.user_key)
                self.waiters.remove(waiter)
                waiter.future.set_result(None)
        self._announce()

    def _announce(self) -> None:
        for position, waiter in enumerate(self.waiters, start=1):
            if waiter.on_position is not None and waiter.last_position != position:
                waiter.last_position = position
                task = asyncio.get_running_loop().create_task(_safe(waiter.on_position, position))
                self._notices.add(task)
                task.add_done_callback(self._notices.discard)

    @asynccontextmanager
    async def slot(self, user_key: str, on_position: PositionCallback | None = None) -> AsyncIterator[None]:
        if self._can_run(user_key):
            self._take(user_key)
        else:
            waiter = _Waiter(user_key, asyncio.get_running_loop().create_future(), on_position)
            self.waiters.append(waiter)
            self._announce()
            try:
                await waiter.future
            except asyncio.CancelledError:
                if waiter in self.waiters:
                    self.waiters.remove(waiter)
                    self._announce()
                elif waiter.future.done() and not waiter.future.cancelled():
                    self._release(user_key)  # woken just as we were cancelled: give the slot back
                raise
        try:
            yield
        finally:
            self._release(user_key)


async def _safe(callback: PositionCallback, position: int) -> None:
    try:
        await callback(position)
    except Exception:
        log.exception("queue position callback failed")

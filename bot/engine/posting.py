"""What a surface has posted of the result it is delivering, told as it goes.

A result of many images goes out as several messages. A surface that fails, or is stopped (a
Cancel, a shutdown), after some of them reached the person has delivered those, whatever it
raises next: they are charged and the rest refunded. The engine listens here while a result is
delivered (`listening`, in its task's context, which the surface's calls share); the messages
are posted in bot.conversation.batches, which tells it (`posted`).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Awaitable, Callable, Iterator

__all__ = ["Listener", "listening", "posted"]

# (images the person has now, whether more messages are to come)
Listener = Callable[[int, bool], Awaitable[None]]

_listener: contextvars.ContextVar[Listener | None] = contextvars.ContextVar("seedbot_posting", default=None)


async def posted(count: int, *, more: bool) -> None:
    """`count` images of the result being delivered have reached the person so far; `more`:
    other messages of it are still to be posted."""
    listener = _listener.get()
    if listener is not None:
        await listener(count, more)


@contextlib.contextmanager
def listening(listener: Listener) -> Iterator[None]:
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)

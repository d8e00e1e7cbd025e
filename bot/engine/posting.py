"""What a surface has posted of the result it is delivering, told as it goes.

A result of many images goes out as several messages. A surface that fails, or is stopped (a
Cancel, a shutdown), after some of them reached the person has delivered those, whatever it
raises next: they are charged and the rest refunded. The engine listens here while a result is
delivered (`listening`, in its task's context, which the surface's calls share); the messages
are posted in bot.conversation.batches, which tells it (`posted`). The conversation listens
too, for the messages' ids: a reply to a message already up waits for it to be linked.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Awaitable, Callable, Iterator

__all__ = ["Listener", "listening", "posted"]

# (images the person has now, whether more messages are to come, the ids of the message just
# posted)
Listener = Callable[[int, bool, tuple[str, ...]], Awaitable[None]]

_listener: contextvars.ContextVar[Listener | None] = contextvars.ContextVar("seedbot_posting", default=None)


async def posted(count: int, *, more: bool, ids: tuple[str, ...] = ()) -> None:
    """`count` images of the result being delivered have reached the person so far; `more`:
    other messages of it are still to be posted; `ids`: the message just posted."""
    listener = _listener.get()
    if listener is not None:
        await listener(count, more, ids)


@contextlib.contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """`listener` hears what is posted inside the block, and so does whoever listened outside it."""
    outer = _listener.get()

    async def both(count: int, more: bool, ids: tuple[str, ...]) -> None:
        await listener(count, more, ids)
        if outer is not None:
            await outer(count, more, ids)

    token = _listener.set(both)
    try:
        yield
    finally:
        _listener.reset(token)

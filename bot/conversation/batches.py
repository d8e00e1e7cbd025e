"""Posting a packed batch, message by message, and what partly posted means.

A result of more images than one message holds goes out as several (bot.media.packing groups
them). The surface posts one group; this posts them in order and keeps the rule of a batch
that stops halfway, the same on every surface:

- a message fails after earlier ones reached the user, whatever the error (a platform's
  refusal, a dropped connection): what was delivered stays (and is charged), the failure is
  logged, nothing more is tried, and the surface says how many were posted (`Posted.short`);
  the engine refunds the rest;
- the first message fails (and nothing came before it): the error goes up, and the engine
  refunds everything.

Each message that goes out is told to the engine (bot.engine.posting) before the next is
tried: a delivery cut short later (an error after the last message, a Cancel, a shutdown, a
restart while the rest is posted) still charges what the person has.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from bot.engine.posting import posted

__all__ = ["Posted", "post_groups"]

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class Posted(Generic[T]):
    """How a batch went: images delivered of those planned (both counting images delivered
    before the groups, e.g. streamed), and what posting each delivered group returned."""

    delivered: int
    planned: int
    sent: tuple[T, ...]

    @property
    def short(self) -> bool:
        """Some images reached the user and some did not: the surface tells the user."""
        return 0 < self.delivered < self.planned


async def post_groups(
    groups: Sequence[Sequence[int]],
    post: Callable[[int, Sequence[int]], Awaitable[T]],
    *,
    job_id: str,
    before: int = 0,
    ids: Callable[[T], Iterable[str]] = lambda sent: (),
) -> Posted[T]:
    """Post group n with `post(n, group)`, in order; `before` counts images the user already
    has; `ids` reads the message ids from what `post` returned."""
    delivered = before
    sent: list[T] = []
    for n, group in enumerate(groups):
        try:
            sent.append(await post(n, group))
        except Exception as exc:
            if not delivered:
                raise  # nothing reached the user: the engine refunds everything
            log.warning(
                "job %s: message %d of %d failed (%s); %d image(s) posted",
                job_id,
                n + 1,
                len(groups),
                exc,
                delivered,
            )
            break
        delivered += len(group)
        await posted(delivered, more=n + 1 < len(groups), ids=tuple(ids(sent[-1])))
    return Posted(delivered, before + sum(len(group) for group in groups), tuple(sent))

"""Posting a packed batch message by message: everything posted; a later message failing keeps
what was delivered and says so; the first one failing goes up, so the engine refunds it all."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from bot.conversation.batches import post_groups
from bot.engine.posting import listening


class Refused(Exception):
    """A surface's error for a message that did not go out."""


class Poster:
    """Posts groups as message ids, failing from message `fail_at` on."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.fail_at = fail_at
        self.tried: list[int] = []

    async def __call__(self, n: int, group: Sequence[int]) -> str:
        self.tried.append(n)
        if self.fail_at is not None and n >= self.fail_at:
            raise Refused(f"message {n}")
        return f"m{n}:{','.join(map(str, group))}"


GROUPS = [list(range(10)), [10, 11, 12], [13, 14]]


async def test_every_group_is_posted_in_order() -> None:
    poster = Poster()
    posted = await post_groups(GROUPS, poster, job_id="j1")
    assert poster.tried == [0, 1, 2]
    assert posted.sent == ("m0:0,1,2,3,4,5,6,7,8,9", "m1:10,11,12", "m2:13,14")
    assert (posted.delivered, posted.planned, posted.short) == (15, 15, False)


async def test_a_later_group_failing_keeps_what_was_delivered(caplog: pytest.LogCaptureFixture) -> None:
    poster = Poster(fail_at=1)
    posted = await post_groups(GROUPS, poster, job_id="j1")
    assert poster.tried == [0, 1]  # nothing more is tried after a failure
    assert posted.sent == ("m0:0,1,2,3,4,5,6,7,8,9",)
    assert (posted.delivered, posted.planned, posted.short) == (10, 15, True)
    assert "job j1: message 2 of 3 failed" in caplog.text and "10 image(s) posted" in caplog.text


async def test_the_first_group_failing_goes_up() -> None:
    poster = Poster(fail_at=0)
    with pytest.raises(Refused):
        await post_groups(GROUPS, poster, job_id="j1")
    assert poster.tried == [0]


async def test_images_delivered_before_count_and_keep_a_first_failure_in() -> None:
    # Streamed images reached the user already: the first message failing only stops the rest.
    posted = await post_groups(GROUPS[1:], Poster(fail_at=0), job_id="j1", before=10)
    assert (posted.delivered, posted.planned, posted.short, posted.sent) == (10, 15, True, ())
    posted = await post_groups([], Poster(), job_id="j1", before=3)
    assert (posted.delivered, posted.planned, posted.short) == (3, 3, False)


async def test_any_error_after_a_message_went_out_keeps_what_was_delivered() -> None:
    """A dropped connection is no platform refusal, but the first message is the person's all
    the same: it was refunded with the rest, and they were told nothing was charged."""

    async def dropped(n: int, group: Sequence[int]) -> str:
        if n == 1:
            raise ConnectionResetError("the platform hung up")
        return "m0"

    posted = await post_groups(GROUPS, dropped, job_id="j1")
    assert (posted.delivered, posted.short, posted.sent) == (10, True, ("m0",))

    async def broken(n: int, group: Sequence[int]) -> str:
        raise KeyError("nothing went out")

    with pytest.raises(KeyError):
        await post_groups(GROUPS, broken, job_id="j1")


async def test_each_message_is_told_to_the_engine_before_the_next() -> None:
    told: list[tuple[int, bool, tuple[str, ...]]] = []

    async def listener(count: int, more: bool, ids: tuple[str, ...]) -> None:
        told.append((count, more, ids))

    def ids(sent: str) -> list[str]:
        return [sent.split(":")[0]]

    with listening(listener):
        await post_groups(GROUPS, Poster(fail_at=2), job_id="j1", before=1, ids=ids)
    assert told == [(11, True, ("m0",)), (14, True, ("m1",))]
    await post_groups(GROUPS, Poster(), job_id="j1")  # no one listening: nothing to tell
    assert len(told) == 2
    heard: list[int] = []

    async def inner(count: int, more: bool, ids: tuple[str, ...]) -> None:
        heard.append(count)

    with listening(listener), listening(inner):  # both hear it, the inner one first
        await post_groups(GROUPS[:1], Poster(), job_id="j1")
    assert told[-1] == (10, False, ()) and heard == [10]  # the last message: the engine settles next

"""The concurrency gate: global and per-user caps, one FIFO line, positions, cancellation."""

from __future__ import annotations

import asyncio
import random
from contextlib import AsyncExitStack
from dataclasses import dataclass, field

import pytest

from bot.engine.gate import Gate
from tests.engine.helpers import until


@dataclass
class Holder:
    """A task that takes a slot, records the order it got in, and holds it until released."""

    gate: Gate
    user: str
    order: list[str]
    name: str = ""
    positions: list[int] = field(default_factory=list)
    go: asyncio.Event = field(default_factory=asyncio.Event)
    inside: bool = False
    task: asyncio.Task[None] | None = None

    async def _on_position(self, position: int) -> None:
        self.positions.append(position)

    async def _run(self) -> None:
        async with self.gate.slot(self.user, self._on_position):
            self.inside = True
            self.order.append(self.name or self.user)
            await self.go.wait()
        self.inside = False

    def start(self) -> Holder:
        self.task = asyncio.create_task(self._run())
        return self

    async def finish(self) -> None:
        self.go.set()
        assert self.task is not None
        await self.task


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_free_slots_are_taken_at_once() -> None:
    gate = Gate(global_cap=2, user_cap=2)
    order: list[str] = []
    a = Holder(gate, "a", order).start()
    b = Holder(gate, "a", order, name="a2").start()
    await until(lambda: a.inside and b.inside)
    assert gate.running == 2 and gate.queued == 0 and a.positions == [] and b.positions == []
    await a.finish()
    await b.finish()
    assert gate.running == 0 and not gate.per_user


async def test_user_cap_queues_with_position_and_does_not_block_others() -> None:
    gate = Gate(global_cap=4, user_cap=1)
    order: list[str] = []
    a1 = Holder(gate, "alice", order, name="a1").start()
    await until(lambda: a1.inside)
    a2 = Holder(gate, "alice", order, name="a2").start()
    await until(lambda: a2.positions == [1])
    assert not a2.inside and gate.queued == 1
    b = Holder(gate, "bob", order, name="b").start()
    await until(lambda: b.inside)  # bob passes alice's queued job
    assert b.positions == [] and order == ["a1", "b"]
    await a1.finish()
    await until(lambda: a2.inside)
    assert order == ["a1", "b", "a2"]
    await a2.finish()
    await b.finish()
    assert gate.running == 0 and gate.queued == 0 and not gate.per_user


async def test_fifo_and_positions_update_as_the_line_moves() -> None:
    gate = Gate(global_cap=1, user_cap=5)
    order: list[str] = []
    first = Holder(gate, "u0", order).start()
    await until(lambda: first.inside)
    waiters = []
    for n in range(1, 5):
        holder = Holder(gate, f"u{n}", order).start()
        await until(lambda h=holder, n=n: h.positions == [n])  # type: ignore[misc]
        waiters.append(holder)
    assert gate.queued == 4

    await first.finish()
    for i, holder in enumerate(waiters):
        await until(lambda h=holder: h.inside)  # type: ignore[misc]
        await settle()
        for j, later in enumerate(waiters[i + 1 :], start=i + 1):
            # Each waiter heard every position from where it joined down to where it is now.
            assert later.positions == list(range(j + 1, j - i - 1, -1)), (j, later.positions)
        await holder.finish()
    assert order == ["u0", "u1", "u2", "u3", "u4"]
    assert gate.running == 0 and gate.queued == 0


async def test_a_waiter_held_by_its_own_cap_does_not_block_the_line() -> None:
    gate = Gate(global_cap=2, user_cap=1)
    order: list[str] = []
    a1 = Holder(gate, "alice", order, name="a1").start()
    b1 = Holder(gate, "bob", order, name="b1").start()
    await until(lambda: a1.inside and b1.inside)
    a2 = Holder(gate, "alice", order, name="a2").start()  # first in line, but alice is at her cap
    await until(lambda: a2.positions == [1])
    c1 = Holder(gate, "carol", order, name="c1").start()  # second in line, waiting for a global slot
    await until(lambda: c1.positions == [2])

    await b1.finish()  # frees a global slot: carol gets it, alice still may not
    await until(lambda: c1.inside)
    assert not a2.inside and gate.queued == 1
    await until(lambda: a2.positions == [1])
    assert c1.positions == [2]

    await c1.finish()
    await settle()
    assert not a2.inside  # a free global slot is still not hers while a1 runs
    await a1.finish()
    await until(lambda: a2.inside)
    await a2.finish()
    assert order == ["a1", "b1", "c1", "a2"]
    assert gate.running == 0 and not gate.per_user


async def test_cancelling_a_waiter_frees_nothing_it_did_not_hold() -> None:
    gate = Gate(global_cap=1, user_cap=1)
    order: list[str] = []
    holder = Holder(gate, "a", order).start()
    await until(lambda: holder.inside)
    b = Holder(gate, "b", order).start()
    c = Holder(gate, "c", order).start()
    await until(lambda: b.positions == [1] and c.positions == [2])

    assert b.task is not None
    b.task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await b.task
    await until(lambda: c.positions == [2, 1])  # c moved up
    assert gate.running == 1 and gate.queued == 1 and gate.per_user == {"a": 1}

    await holder.finish()
    await until(lambda: c.inside)
    assert order == ["a", "c"]
    await c.finish()
    assert gate.running == 0 and gate.queued == 0 and not gate.per_user


async def test_a_waiter_cancelled_just_as_it_is_woken_gives_the_slot_back() -> None:
    gate = Gate(global_cap=1, user_cap=1)
    order: list[str] = []
    b = Holder(gate, "b", order)
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(gate.slot("a"))
        b.start()
        await until(lambda: b.positions == [1])
        # Leaving the slot hands it to b at once; b is cancelled before it can run.
    assert b.task is not None
    b.task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await b.task
    assert order == []
    assert gate.running == 0 and gate.queued == 0 and not gate.per_user
    async with asyncio.timeout(1):
        async with gate.slot("c"):
            assert gate.running == 1


async def test_a_failing_position_callback_does_not_break_the_line() -> None:
    gate = Gate(global_cap=1, user_cap=1)
    calls: list[int] = []

    async def broken(position: int) -> None:
        calls.append(position)
        raise RuntimeError("could not edit the status message")

    async with gate.slot("a"):
        waiter = asyncio.create_task(_enter(gate, "b", broken))
        await until(lambda: calls == [1])
    await asyncio.wait_for(waiter, 1)
    assert gate.running == 0


async def _enter(gate: Gate, user: str, on_position: object) -> None:
    async with gate.slot(user, on_position):  # type: ignore[arg-type]
        await asyncio.sleep(0)


async def test_caps_hold_under_load() -> None:
    gate = Gate(global_cap=3, user_cap=2)
    rng = random.Random(7)
    running: dict[str, int] = {}
    peak = {"all": 0, "user": 0}
    finished: list[str] = []

    async def job(user: str, n: int) -> None:
        async with gate.slot(user):
            running[user] = running.get(user, 0) + 1
            peak["all"] = max(peak["all"], sum(running.values()))
            peak["user"] = max(peak["user"], running[user])
            await asyncio.sleep(rng.random() / 500)
            running[user] -= 1
        finished.append(f"{user}-{n}")

    await asyncio.wait_for(asyncio.gather(*(job(f"u{n % 4}", n) for n in range(60))), 10)
    assert len(finished) == 60
    # The caps are what must hold; which user gets a second slot depends on timing.
    assert peak["all"] == 3 and peak["user"] <= 2
    assert gate.running == 0 and gate.queued == 0 and not gate.per_user

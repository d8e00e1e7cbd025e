"""Engine.cancel: a cancelled job is refunded at once, closes as 'cancelled', is cancelled at its
host when the host has a cancel call, and stays cancelled across a restart (recovery leaves it)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from bot import messages
from bot.engine.job import Delivery
from bot.errors import JobCancelled
from bot.providers.base import ProviderCall, ProviderOutput
from bot.request.models import GenerationRequest, GenerationResult, Job, JobStatus, Requester
from tests.engine.helpers import (
    Deliverer,
    Hooks,
    ResumableProvider,
    TestProvider,
    open_engine,
    settings,
    until,
)

ALICE = Requester(platform="discord", user_id="1", workspace_id="g1", channel_id="c1", display_name="Alice")


class CancellableProvider(ResumableProvider):
    """A resumable host with a cancel call: records what it was asked to cancel."""

    name = "resumable"

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.cancelled: list[str] = []

    async def cancel(self, task_id: str) -> bool:
        self.cancelled.append(task_id)
        return True

    async def resume(self, task_id: str, call: ProviderCall) -> ProviderOutput:
        if self.block:  # the host is still at it
            self.resumed.append(task_id)
            await asyncio.Event().wait()
        return await super().resume(task_id, call)


def fox(count: int = 2) -> GenerationRequest:
    return GenerationRequest(prompt="a red fox in the snow", count=count)


async def used(h: object, who: Requester) -> int:
    return (await h.ledger.quota(who.key)).day_used  # type: ignore[attr-defined, no-any-return]


async def _at_the_host(h: Any, provider: CancellableProvider) -> tuple[asyncio.Task[Any], Job]:
    """ALICE's request running, held at the host: its turn and its job."""
    task = asyncio.create_task(h.engine.generate(fox(), ALICE, deliver=Deliverer()))
    await until(lambda: len(provider.gates) == 1)
    (job,) = await h.ledger.jobs_for_user(ALICE.key)
    await until(lambda: job.id in h.engine.active_jobs)
    return task, job


async def test_a_cancelled_running_job_is_refunded_and_not_resumed_after_a_restart(tmp_path: Path) -> None:
    config = settings(tmp_path)
    provider = CancellableProvider(config, block=True, task_id="task-7")
    h = await open_engine(config, provider)
    try:
        task, job = await _at_the_host(h, provider)
        assert await used(h, ALICE) == 2
        assert await h.engine.cancel(job, by_owner=True)
        with pytest.raises(JobCancelled):
            await task
        await h.engine.wait_background()  # the host is asked in the background
        assert provider.cancelled == ["task-7"]  # once, at the host
        done = await h.ledger.get_job(job.id)
        assert done is not None and (done.status, done.images_delivered) == (JobStatus.CANCELLED, 0)
        assert await used(h, ALICE) == 0 and await h.ledger.open_reservations() == 0
        assert not await h.engine.cancel(job, by_owner=True)  # nothing left to cancel
    finally:
        await h.close()

    # The next process: a resumable task id is on the row, but the job was cancelled.
    again = CancellableProvider(config)
    h = await open_engine(config, again)
    hooks = Hooks()
    h.engine.register_platform("discord", hooks.platform_hooks())
    try:
        assert await h.engine.recover() == []
        await h.engine.wait_background()
        assert again.resumed == [] and again.calls == [] and hooks.delivered == [] and hooks.notices == []
        done = await h.ledger.get_job(job.id)
        assert done is not None and done.status == JobStatus.CANCELLED
        assert await used(h, ALICE) == 0
    finally:
        await h.close()


async def test_a_job_a_restart_left_running_can_be_cancelled_before_it_is_resumed(tmp_path: Path) -> None:
    config = settings(tmp_path)
    first = CancellableProvider(config, block=True, task_id="task-9")
    h = await open_engine(config, first)
    task = asyncio.create_task(h.engine.generate(fox(), ALICE, deliver=Deliverer()))
    await until(lambda: len(first.gates) == 1)
    (job,) = await h.ledger.jobs_for_user(ALICE.key)
    await h.ledger.close()  # the process dies: the row stays 'running', its quota held
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    provider = CancellableProvider(config)
    h = await open_engine(config, provider)
    h.engine.register_platform("discord", Hooks().platform_hooks())
    try:
        left = await h.ledger.get_job(job.id)
        assert left is not None and left.status == JobStatus.RUNNING and await used(h, ALICE) == 2
        assert await h.engine.cancel(left, by_owner=False)  # no task here: closed in the ledger
        await h.engine.wait_background()  # the host is asked in the background
        assert provider.cancelled == ["task-9"]
        done = await h.ledger.get_job(job.id)
        assert done is not None and done.status == JobStatus.CANCELLED
        assert await used(h, ALICE) == 0
        assert await h.engine.recover() == [] and provider.resumed == []
    finally:
        await h.close()


async def test_a_resumed_job_can_be_cancelled_and_its_requester_is_told(tmp_path: Path) -> None:
    config = settings(tmp_path)
    first = CancellableProvider(config, block=True, task_id="task-11")
    h = await open_engine(config, first)
    task = asyncio.create_task(h.engine.generate(fox(), ALICE, deliver=Deliverer()))
    await until(lambda: len(first.gates) == 1)
    (job,) = await h.ledger.jobs_for_user(ALICE.key)
    await h.ledger.close()  # the process dies with the task at the host
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    provider = CancellableProvider(config, block=True)
    h = await open_engine(config, provider)
    hooks = Hooks()
    h.engine.register_platform("discord", hooks.platform_hooks())
    try:
        assert await h.engine.recover() == [job.id]
        await until(lambda: provider.resumed == ["task-11"])
        resumed = await h.ledger.get_job(job.id)
        assert resumed is not None
        assert await h.engine.cancel(resumed, by_owner=False)  # an admin
        await h.engine.wait_background()  # ends without an error
        await h.engine.wait_background()  # the host is asked in the background
        assert provider.cancelled == ["task-11"]
        done = await h.ledger.get_job(job.id)
        assert done is not None and done.status == JobStatus.CANCELLED and await used(h, ALICE) == 0
        assert [text for _, text in hooks.notices] == [messages.cancelled(False)]
        assert hooks.delivered == []
    finally:
        await h.close()


async def test_cancel_while_the_images_are_being_posted_is_too_late(tmp_path: Path) -> None:
    """Pressed after the first message was posted, Cancel cut the delivery short and refunded
    everything: the person kept images nobody paid for, told nobody was charged."""
    config = settings(tmp_path)
    h = await open_engine(config, TestProvider(config))
    posting, release = asyncio.Event(), asyncio.Event()

    async def deliver(result: GenerationResult) -> Delivery:
        posting.set()  # the first message is out
        await release.wait()
        return Delivery(len(result.images))

    try:
        turn = asyncio.create_task(h.engine.generate(fox(count=2), ALICE, deliver=deliver))
        await posting.wait()
        (job,) = await h.ledger.jobs_for_user(ALICE.key)
        assert h.engine.delivering(job.id)
        assert await h.engine.cancel(job, by_owner=True) is False
        release.set()
        await turn
        done = await h.ledger.get_job(job.id)
        assert done is not None and (done.status, done.images_delivered) == (JobStatus.SUCCEEDED, 2)
        assert await used(h, ALICE) == 2 and not h.engine.delivering(job.id)
    finally:
        release.set()
        await h.close()


class SlowCancelProvider(CancellableProvider):
    async def cancel(self, task_id: str) -> bool:
        await asyncio.sleep(5)  # a host slow to answer its cancel call
        return await super().cancel(task_id)


async def test_cancel_answers_at_once_and_asks_a_slow_host_in_the_background(tmp_path: Path) -> None:
    """The host's cancel call was awaited before the person was answered: a host taking 3.5 s
    made Discord's button say "This interaction failed" (3 s), though the job was cancelled."""
    config = settings(tmp_path)
    provider = SlowCancelProvider(config, block=True, task_id="task-12")
    h = await open_engine(config, provider)
    try:
        task, job = await _at_the_host(h, provider)
        assert await asyncio.wait_for(h.engine.cancel(job, by_owner=True), 2.0)
        with pytest.raises(JobCancelled):
            await task
        assert await used(h, ALICE) == 0 and provider.cancelled == []  # refunded; the host still asked
        await h.engine.wait_background()
        assert provider.cancelled == ["task-12"]
    finally:
        await h.close()

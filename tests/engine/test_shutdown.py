"""Graceful shutdown on the engine: refuse new work, let running jobs finish for the grace
period, then cancel the rest; polling jobs with a provider task id are left for the next start."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot import messages
from bot.engine.pipeline import PlatformHooks
from bot.errors import SeedbotError
from bot.request.models import JobStatus
from tests.app.helpers import (
    ALICE,
    Hooks,
    ResumableSlowProvider,
    SlowProvider,
    deliver_all,
    fox,
    open_engine,
    settings,
    until,
)


async def test_draining_refuses_new_jobs_before_any_charge(tmp_path: Path) -> None:
    config = settings(tmp_path)
    provider = SlowProvider(config)
    h = await open_engine(config, provider)
    try:
        assert await h.engine.shutdown(grace=0) == []
        with pytest.raises(SeedbotError) as caught:
            await h.engine.generate(fox(), ALICE, deliver=deliver_all)
        assert caught.value.user_text == messages.SHUTTING_DOWN
        assert await h.row("SELECT COUNT(*) FROM reservations") == 0
        assert await h.row("SELECT COUNT(*) FROM jobs") == 0
        assert provider.started == 0
    finally:
        await h.close()


async def test_a_running_job_finishes_within_the_grace_period(tmp_path: Path) -> None:
    config = settings(tmp_path)
    provider = SlowProvider(config)
    h = await open_engine(config, provider)
    try:
        job = asyncio.create_task(h.engine.generate(fox(count=2), ALICE, deliver=deliver_all))
        await until(lambda: provider.started == 1)
        shutdown = asyncio.create_task(h.engine.shutdown(grace=10))
        await until(lambda: h.engine.draining)
        with pytest.raises(SeedbotError):  # new work is refused while the old one runs
            await h.engine.generate(fox(), ALICE, deliver=deliver_all)
        provider.go.set()
        assert await shutdown == []
        result, delivery = await job
        assert delivery.delivered == 2 and result.charged == 2
        assert await h.row("SELECT status FROM jobs") == "succeeded"
        assert await h.row("SELECT SUM(used) FROM reservations") == 2
        assert h.engine.active_jobs == []
    finally:
        await h.close()


async def test_after_the_grace_period_a_sync_job_is_cancelled_and_refunded(tmp_path: Path) -> None:
    config = settings(tmp_path)
    provider = SlowProvider(config)  # never released
    h = await open_engine(config, provider)
    try:
        job = asyncio.create_task(h.engine.generate(fox(count=3), ALICE, deliver=deliver_all))
        await until(lambda: provider.started == 1)
        cancelled = await h.engine.shutdown(grace=0.2)
        assert len(cancelled) == 1
        with pytest.raises(asyncio.CancelledError):
            await job
        assert await h.row("SELECT status || ':' || error_kind FROM jobs") == "failed:cancelled"
        assert await h.ledger.open_reservations() == 0
        assert (await h.ledger.quota(ALICE.key)).day_used == 0
    finally:
        await h.close()


async def test_a_polling_job_is_left_running_and_the_next_start_resumes_it(tmp_path: Path) -> None:
    config = settings(tmp_path, max_concurrency=1)
    provider = ResumableSlowProvider(config, task_id="task-42")
    h = await open_engine(config, provider)
    try:
        polling = asyncio.create_task(h.engine.generate(fox(count=2), ALICE, deliver=deliver_all))
        await until(lambda: provider.started == 1)
        # A second job waits in line for the one slot: it has no provider task yet.
        bob = ALICE.__class__(platform="discord", user_id="2")
        waiting = asyncio.create_task(h.engine.generate(fox(), bob, deliver=deliver_all))
        await until(lambda: h.engine.gate.queued == 1)
        await until(lambda: len(h.engine.active_jobs) == 2)

        cancelled = await h.engine.shutdown(grace=0.1)
        assert len(cancelled) == 2
        for task in (polling, waiting):
            with pytest.raises(asyncio.CancelledError):
                await task
        rows = {
            row[0]: (row[1], row[2])
            for row in await h.ledger.db.execute_fetchall(
                "SELECT user_key, status, provider_task_id FROM jobs"
            )
        }
        assert rows == {"discord:1": ("running", "task-42"), "discord:2": ("failed", None)}
        assert await h.ledger.open_reservations() == 1  # the polling job's, still held
        assert (await h.ledger.quota("discord:2")).day_used == 0
        metrics = h.engine.metrics.render().decode()
        assert 'seedbot_jobs_total{provider="resumable",status="checkpointed"} 1.0' in metrics
        assert 'seedbot_jobs_total{provider="none",status="cancelled"} 1.0' in metrics
    finally:
        await h.close()

    # The next start: recover() resumes polling the same task and delivers through the hooks.
    provider2 = ResumableSlowProvider(config)
    h2 = await open_engine(config, provider2)
    try:
        hooks = Hooks()
        h2.engine.register_platform("discord", PlatformHooks(hooks.deliver, hooks.notify))
        resumed = await h2.engine.recover()
        await h2.engine.wait_background()
        assert len(resumed) == 1 and provider2.resumed == ["task-42"] and provider2.started == 0
        assert len(hooks.delivered) == 1 and len(hooks.delivered[0][1].images) == 2
        job = await h2.ledger.get_job(resumed[0])
        assert job is not None and job.status == JobStatus.SUCCEEDED and job.images_delivered == 2
        assert await h2.ledger.open_reservations() == 0
        assert (await h2.ledger.quota(ALICE.key)).day_used == 2
    finally:
        await h2.close()


async def test_a_cancellation_outside_shutdown_still_refunds_a_polling_job(tmp_path: Path) -> None:
    config = settings(tmp_path)
    provider = ResumableSlowProvider(config, task_id="task-7")
    h = await open_engine(config, provider)
    try:
        job = asyncio.create_task(h.engine.generate(fox(), ALICE, deliver=deliver_all))
        await until(lambda: provider.started == 1)
        job.cancel()
        with pytest.raises(asyncio.CancelledError):
            await job
        assert await h.row("SELECT status FROM jobs") == "failed"
        assert await h.ledger.open_reservations() == 0
    finally:
        await h.close()


async def test_resumed_jobs_are_checkpointed_again_at_shutdown(tmp_path: Path) -> None:
    config = settings(tmp_path)
    provider = ResumableSlowProvider(config, task_id="task-9")
    h = await open_engine(config, provider)
    job = asyncio.create_task(h.engine.generate(fox(), ALICE, deliver=deliver_all))
    await until(lambda: provider.started == 1)
    await h.engine.shutdown(grace=0)
    with pytest.raises(asyncio.CancelledError):
        await job
    await h.close()

    class Stuck(ResumableSlowProvider):
        async def resume(self, task_id: str, call: object) -> object:  # type: ignore[override]
            self.resumed.append(task_id)
            await asyncio.Event().wait()
            raise AssertionError("unreachable")

    stuck = Stuck(config)
    h2 = await open_engine(config, stuck)
    try:
        hooks = Hooks()
        h2.engine.register_platform("discord", PlatformHooks(hooks.deliver, hooks.notify))
        assert len(await h2.engine.recover()) == 1
        await until(lambda: stuck.resumed == ["task-9"])
        assert len(await h2.engine.shutdown(grace=0.05)) == 1
        await h2.engine.wait_background()
        assert await h2.row("SELECT status FROM jobs") == "running"
        assert await h2.ledger.open_reservations() == 1
    finally:
        await h2.close()

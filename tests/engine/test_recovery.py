"""Restart recovery (bot/engine/recovery.py): jobs a previous process left queued or running are
resumed when the provider has a task id, refunded and told otherwise, and what was already shown
of a streamed job stays charged."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

from bot import i18n, messages
from bot.engine.pipeline import request_to_json
from bot.errors import ProviderErrorKind
from bot.request.models import Job, JobStatus, Requester
from tests.engine.helpers import (
    ALICE,
    CAROL,
    Deliverer,
    Events,
    Hooks,
    ResumableProvider,
    TestProvider,
    fox,
    open_engine,
    provider_error,
    settings,
    until,
    used,
)


async def crash_while_running(
    tmp_path: Path, provider: TestProvider, requester: Requester, count: int = 2
) -> str:
    """Run a job until the provider has it, then lose the process: the row stays 'running'.

    The ledger is closed under the job before it is cancelled, so the refund the engine tries
    on the way out cannot reach the database (as when the process dies).
    """
    config = settings(tmp_path)
    h = await open_engine(config, provider)
    task = asyncio.create_task(h.engine.generate(fox(count=count), requester, deliver=Deliverer()))
    await until(lambda: len(provider.gates) == 1)
    (job,) = await h.ledger.jobs_for_user(requester.key)
    await h.ledger.close()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    return job.id


async def test_the_restart_notice_is_worded_in_the_language_the_job_was_asked_in(tmp_path: Path) -> None:
    """It was made at start-up, in English, before the surface switched to the job's language:
    a person who asked in Japanese was told in English."""
    config = settings(tmp_path)
    japanese = dataclasses.replace(ALICE, locale="ja")
    job_id = await crash_while_running(tmp_path, TestProvider(config, block=True), japanese)
    h = await open_engine(config, TestProvider(config))
    hooks = Hooks()
    h.engine.register_platform("discord", hooks.platform_hooks())
    try:
        await h.engine.recover()
        with i18n.use("ja"):
            expected = messages.RESTARTED_REFUNDED
        assert [(j.id, text) for j, text in hooks.notices] == [(job_id, expected)]
        assert expected != messages.RESTARTED_REFUNDED  # (English here)
    finally:
        await h.close()


async def test_restart_refunds_a_job_that_cannot_be_resumed(tmp_path: Path) -> None:
    config = settings(tmp_path)
    job_id = await crash_while_running(tmp_path, TestProvider(config, block=True), ALICE)

    h = await open_engine(config, TestProvider(config))
    hooks = Hooks()
    h.engine.register_platform("discord", hooks.platform_hooks())
    try:
        left = await h.ledger.get_job(job_id)
        assert left is not None and left.status == JobStatus.RUNNING
        assert await h.ledger.open_reservations() == 1 and await used(h.ledger, ALICE) == 2

        assert await h.engine.recover() == []
        job = await h.ledger.get_job(job_id)
        assert job is not None and (job.status, job.error_kind) == (JobStatus.FAILED, "restart")
        assert await h.ledger.open_reservations() == 0 and await used(h.ledger, ALICE) == 0
        assert [(j.id, text) for j, text in hooks.notices] == [(job_id, messages.RESTARTED_REFUNDED)]
        assert hooks.delivered == []

        assert await h.engine.recover() == []  # nothing is handled twice
        assert len(hooks.notices) == 1
    finally:
        await h.close()


async def test_restart_resumes_a_job_with_a_provider_task_id(tmp_path: Path) -> None:
    config = settings(tmp_path)
    job_id = await crash_while_running(
        tmp_path, ResumableProvider(config, block=True, task_id="task-42"), CAROL
    )

    provider = ResumableProvider(config)
    h = await open_engine(config, provider)
    hooks = Hooks(message_ids=("1700000000.000100",))
    h.engine.register_platform("slack", hooks.platform_hooks())
    try:
        left = await h.ledger.get_job(job_id)
        assert left is not None and (left.provider, left.provider_task_id) == ("resumable", "task-42")

        assert await h.engine.recover() == [job_id]
        await h.engine.wait_background()
        assert provider.resumed == ["task-42"] and provider.calls == []  # resume(), never generate()

        ((job, result),) = hooks.delivered
        assert job.id == job_id and job.channel_id == "C9"
        assert len(result.images) == 2 and result.provider == "resumable" and result.job_id == job_id
        assert hooks.notices == []
        done = await h.ledger.get_job(job_id)
        assert done is not None and (done.status, done.images_delivered) == (JobStatus.SUCCEEDED, 2)
        assert await used(h.ledger, CAROL) == 2 and await h.ledger.open_reservations() == 0
        found = await h.ledger.job_for_message("slack", "1700000000.000100")
        assert found is not None and found.id == job_id
    finally:
        await h.close()


async def test_restart_resume_failure_is_refunded_and_told(tmp_path: Path) -> None:
    config = settings(tmp_path)
    job_id = await crash_while_running(
        tmp_path, ResumableProvider(config, block=True, task_id="task-7"), ALICE
    )

    provider = ResumableProvider(config, error=provider_error(ProviderErrorKind.MODERATION, "resumable"))
    h = await open_engine(config, provider)
    hooks = Hooks()
    h.engine.register_platform("discord", hooks.platform_hooks())
    try:
        assert await h.engine.recover() == [job_id]
        await h.engine.wait_background()
        job = await h.ledger.get_job(job_id)
        assert job is not None and (job.status, job.error_kind) == (JobStatus.FAILED, "moderation")
        assert await used(h.ledger, ALICE) == 0 and await h.ledger.open_reservations() == 0
        ((_, text),) = hooks.notices
        assert "not charged" in text
    finally:
        await h.close()


async def test_restart_without_the_platform_still_refunds(tmp_path: Path) -> None:
    config = settings(tmp_path)
    job_id = await crash_while_running(
        tmp_path, ResumableProvider(config, block=True, task_id="task-9"), ALICE
    )
    provider = ResumableProvider(config)
    h = await open_engine(config, provider)  # no hooks for discord: nobody to deliver to
    try:
        assert await h.engine.recover() == []
        assert provider.resumed == []
        job = await h.ledger.get_job(job_id)
        assert job is not None and job.status == JobStatus.FAILED
        assert await used(h.ledger, ALICE) == 0
    finally:
        await h.close()


async def test_restart_refunds_jobs_still_queued(tmp_path: Path) -> None:
    config = settings(tmp_path, user_concurrency=1)
    provider = TestProvider(config, block=True)
    h = await open_engine(config, provider)
    running = asyncio.create_task(h.engine.generate(fox(prompt="one"), ALICE, deliver=Deliverer()))
    await until(lambda: len(provider.gates) == 1)  # marked running and inside the provider
    events = Events()
    queued = asyncio.create_task(
        h.engine.generate(fox(prompt="two", count=3), ALICE, deliver=Deliverer(), progress=events)
    )
    await until(lambda: events.positions() == [1])
    await h.ledger.close()
    for task in (running, queued):
        task.cancel()
    await asyncio.gather(running, queued, return_exceptions=True)

    h2 = await open_engine(config, TestProvider(config))
    hooks = Hooks()
    h2.engine.register_platform("discord", hooks.platform_hooks())
    try:
        assert {j.status for j in await h2.ledger.unfinished_jobs()} == {JobStatus.RUNNING, JobStatus.QUEUED}
        await h2.engine.recover()
        assert await h2.ledger.unfinished_jobs() == []
        assert await used(h2.ledger, ALICE) == 0 and await h2.ledger.open_reservations() == 0
        assert len(hooks.notices) == 2
    finally:
        await h2.close()


async def test_restart_finishes_a_job_without_a_reservation(tmp_path: Path) -> None:
    # A row with no reservation (nothing held) must still be closed, or every restart meets it again.
    config = settings(tmp_path)
    h = await open_engine(config, ResumableProvider(config))
    hooks = Hooks()
    h.engine.register_platform("discord", hooks.platform_hooks())
    try:
        for job_id, task_id in (("plain", None), ("polling", "task-1")):
            await h.ledger.create_job(
                Job(
                    id=job_id,
                    user_key=ALICE.key,
                    platform="discord",
                    status=JobStatus.RUNNING,
                    kind="imagine",
                    prompt="a fox",
                    model="5.0-lite",
                    request=request_to_json(fox()),
                    provider="resumable",
                    provider_task_id=task_id,
                    images_requested=1,
                ),
                (),
            )
        await h.engine.recover()
        await h.engine.wait_background()
        assert await h.ledger.unfinished_jobs() == []
        for job_id in ("plain", "polling"):
            job = await h.ledger.get_job(job_id)
            assert job is not None and job.status == JobStatus.FAILED and job.error_kind == "restart"
        assert len(hooks.notices) == 2 and hooks.delivered == []
        assert await h.engine.recover() == []
        assert len(hooks.notices) == 2
    finally:
        await h.close()


async def test_a_restart_after_a_streamed_image_keeps_it_charged_and_says_so(tmp_path: Path) -> None:
    config = settings(tmp_path)
    h = await open_engine(config, TestProvider(config))
    try:
        reservation = await h.ledger.reserve(ALICE.key, 4)
        job = Job(
            id="a1b2c3d4e5f6",
            user_key=ALICE.key,
            platform="discord",
            status=JobStatus.RUNNING,
            kind="imagine",
            prompt="a fox",
            model="4.5",
            request={"prompt": "a fox", "count": 4, "weight": 1},
            reservation_id=reservation.id,
            images_requested=4,
        )
        await h.ledger.create_job(job, ())
        await h.ledger.update_job(job.id, images_delivered=1)
        hooks = Hooks()
        h.engine.register_platform("discord", hooks.platform_hooks())
        assert await h.engine.recover() == []
        assert await used(h.ledger, ALICE) == 1
        closed = await h.ledger.get_job(job.id)
        assert closed is not None and closed.status == JobStatus.SUCCEEDED and closed.images_delivered == 1
        assert [(j.id, text) for j, text in hooks.notices] == [(job.id, messages.restarted_partial(1, 4))]
    finally:
        await h.close()

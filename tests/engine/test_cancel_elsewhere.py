"""Cancel across processes on PostgreSQL: Cancel pressed where one process answers, on a job
another process runs. The job is closed (refunded) at once in the ledger, cancelled at its host,
and the process running it stops it at its next lease renewal; no process resumes it."""

from __future__ import annotations

import asyncio

import pytest

from bot.engine.pipeline import Delivery
from bot.errors import JobCancelled, LeaseLost
from bot.request.models import GenerationResult, JobStatus
from tests.engine.helpers import Deliverer, until
from tests.engine.test_cancel import CancellableProvider
from tests.engine.test_leases import TTL, USER, Opened, config, fox, job_row
from tests.engine.test_leases import opened as opened  # the fixture


async def test_cancel_in_another_process_stops_the_job_where_it_runs(pg_dsn: str, opened: Opened) -> None:
    settings = config(pg_dsn)
    running_here = CancellableProvider(settings, block=True, task_id="task-21")
    a = await opened.engine(pg_dsn, running_here)
    deliver = Deliverer()
    task = asyncio.create_task(a.generate(fox(), USER, deliver=deliver))
    await until(lambda: bool(running_here.gates))
    [job_id] = a.active_jobs
    assert await a.ledger.quota(USER.key) and (await a.ledger.quota(USER.key)).day_used == 1

    answering = CancellableProvider(settings)
    b = await opened.engine(pg_dsn, answering)
    job = await b.ledger.get_job(job_id)
    assert job is not None and job.owner == a.owner
    assert await b.cancel(job, by_owner=False)  # an admin, in process b
    row = await job_row(pg_dsn, job_id)
    assert (row["status"], row["error"]) == ("cancelled", "cancelled by an admin")
    assert (await b.ledger.quota(USER.key)).day_used == 0  # refunded at once
    assert answering.cancelled == ["task-21"] and running_here.cancelled == []  # once, at the host

    with pytest.raises(JobCancelled) as stopped:  # process a stops it at its next renewal
        await asyncio.wait_for(task, TTL * 4)
    assert "admin" in stopped.value.user_text
    assert deliver.results == [] and a.active_jobs == []
    row = await job_row(pg_dsn, job_id)
    assert row["status"] == "cancelled" and (await a.ledger.quota(USER.key)).day_used == 0
    assert await a.ledger.open_reservations() == 0
    assert await b.recover() == [] and answering.resumed == []
    assert (await job_row(pg_dsn, job_id))["status"] == JobStatus.CANCELLED


async def test_a_result_being_posted_when_cancelled_elsewhere_is_posted_whole(
    pg_dsn: str, opened: Opened
) -> None:
    """Process b refunds at once (it cannot see a's upload); process a cut its upload short at
    its next lease renewal, leaving the person part of a result. It posts it all now."""
    settings = config(pg_dsn)
    a = await opened.engine(pg_dsn, CancellableProvider(settings))
    posting, release = asyncio.Event(), asyncio.Event()
    finished: list[int] = []

    class SlowUpload(Deliverer):
        async def __call__(self, result: GenerationResult) -> Delivery:
            posting.set()
            await release.wait()
            delivery = await super().__call__(result)
            finished.append(delivery.delivered)
            return delivery

    task = asyncio.create_task(a.generate(fox(), USER, deliver=SlowUpload()))
    await asyncio.wait_for(posting.wait(), 5)
    [job_id] = a.active_jobs
    b = await opened.engine(pg_dsn, CancellableProvider(settings))
    job = await b.ledger.get_job(job_id)
    assert job is not None and await b.cancel(job, by_owner=True)
    await asyncio.sleep(TTL)  # a's lease renewals come and go while it posts
    release.set()
    with pytest.raises(LeaseLost):  # closed by b: b has answered the person
        await asyncio.wait_for(task, TTL * 4)
    assert finished == [1]
    assert await a.ledger.open_reservations() == 0

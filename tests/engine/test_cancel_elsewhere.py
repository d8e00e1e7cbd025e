"""Cancel across processes on PostgreSQL: Cancel pressed where one process answers, on a job
another process runs. The job is closed (refunded) at once in the ledger, cancelled at its host,
and the process running it stops it at its next lease renewal; no process resumes it."""

from __future__ import annotations

import asyncio

import pytest

from bot.errors import JobCancelled
from bot.request.models import JobStatus
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

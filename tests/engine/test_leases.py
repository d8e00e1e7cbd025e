"""The engine on PostgreSQL: jobs leased to the process running them, renewed, taken over from a
dead process once the lease expires, and never run by two processes; quotas exact when the
200-request race is split across two processes going through the engine."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bot.config import Settings
from bot.engine.pipeline import Engine
from bot.errors import LeaseLost, LeaseTooShort, ProviderErrorKind
from bot.ledger import PostgresLedger
from bot.providers.router import Router
from bot.request.models import GenerationRequest, Job, JobStatus, Requester
from tests.engine.helpers import (
    Deliverer,
    Hooks,
    ResumableProvider,
    TestProvider,
    no_sleep,
    provider_error,
    until,
)

ROOT = Path(__file__).resolve().parents[2]
TTL = 0.6
USER = Requester(platform="discord", user_id="42", channel_id="c1")


def fox(prompt: str = "a red fox") -> GenerationRequest:
    return GenerationRequest(prompt=prompt)


def config(dsn: str, **overrides: Any) -> Settings:
    overrides.setdefault("lease_ttl", TTL)
    return Settings(_env_file=None, database=dsn, **overrides)


class Opened:
    def __init__(self) -> None:
        self.engines: list[Engine] = []

    async def engine(self, dsn: str, *providers: Any, **overrides: Any) -> Engine:
        settings = config(dsn, **overrides)
        ledger = PostgresLedger(dsn, daily_limit=settings.daily_images, monthly_limit=settings.monthly_images)
        await ledger.open()
        engine = Engine(settings, ledger, Router(list(providers), retries=0, sleep=no_sleep))
        self.engines.append(engine)
        return engine


@pytest.fixture
async def opened() -> AsyncIterator[Opened]:
    state = Opened()
    try:
        yield state
    finally:
        for engine in state.engines:
            for task in list(engine._active.values()):
                task.cancel()
            engine.draining = True
            await engine.close()
            await engine.wait_background()
            await engine.ledger.close()


async def job_row(dsn: str, job_id: str) -> asyncpg.Record:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchrow("SELECT * FROM jobs WHERE id = $1", job_id)
    finally:
        await conn.close()


async def execute(dsn: str, sql: str, *args: Any) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(sql, *args)
    finally:
        await conn.close()


async def test_a_job_is_claimed_and_its_lease_renewed_while_it_runs(pg_dsn: str, opened: Opened) -> None:
    settings = config(pg_dsn)
    provider = TestProvider(settings, block=True)
    engine = await opened.engine(pg_dsn, provider)
    assert engine.leases
    task = asyncio.create_task(engine.generate(fox(), USER, deliver=Deliverer()))
    await until(lambda: bool(provider.gates))
    [job_id] = engine.active_jobs
    first = await job_row(pg_dsn, job_id)
    assert first["owner"] == engine.owner
    await asyncio.sleep(TTL * 1.5)  # longer than the lease: only renewal keeps it
    later = await job_row(pg_dsn, job_id)
    assert later["owner"] == engine.owner and later["lease_expires_at"] > first["lease_expires_at"]
    # Another process looking for expired jobs finds none.
    other = await opened.engine(pg_dsn, TestProvider(settings))
    assert await other.recover() == []
    provider.release()
    result, _ = await task
    assert result.charged == 1
    assert (await job_row(pg_dsn, job_id))["status"] == "succeeded"


async def _dead_process_job(engine: Engine, *, task_id: str | None) -> Job:
    """A job as a process that died mid-way leaves it: reserved, running, leased to it."""
    ledger = engine.ledger
    reservation = await ledger.reserve(USER.key, 1)
    job = Job(
        id="dead" + (task_id or "sync"),
        user_key=USER.key,
        platform="discord",
        status=JobStatus.QUEUED,
        kind="imagine",
        prompt="a red fox",
        model="5.0-lite",
        request={"prompt": "a red fox", "image_count": 0},
        channel_id="c1",
        reservation_id=reservation.id,
        images_requested=1,
    )
    await ledger.create_job(job, ())
    assert await ledger.claim_job(job.id, "deadhost:1:x", TTL)
    fields: dict[str, Any] = {"status": JobStatus.RUNNING, "provider": "resumable"}
    if task_id:
        fields["provider_task_id"] = task_id
    await ledger.update_job(job.id, **fields)
    return job


async def test_jobs_of_a_dead_process_are_taken_over_after_the_lease(pg_dsn: str, opened: Opened) -> None:
    settings = config(pg_dsn)
    provider = ResumableProvider(settings)
    engine = await opened.engine(pg_dsn, provider)
    hooks = Hooks()
    engine.register_platform("discord", hooks.platform_hooks())
    polling = await _dead_process_job(engine, task_id="task-1")
    sync = await _dead_process_job(engine, task_id=None)

    started = time.monotonic()
    assert await engine.recover() == []  # the dead process's lease still holds: not ours yet
    await until(lambda: len(hooks.delivered) == 1 and len(hooks.notices) == 1, timeout=TTL * 6)
    assert time.monotonic() - started >= TTL * 0.5
    await engine.wait_background()
    assert provider.resumed == ["task-1"] and provider.calls == []  # polled, never submitted again
    assert [job.id for job, _ in hooks.delivered] == [polling.id]
    assert [job.id for job, _ in hooks.notices] == [sync.id]
    resumed, refunded = await job_row(pg_dsn, polling.id), await job_row(pg_dsn, sync.id)
    assert (resumed["status"], resumed["owner"]) == ("succeeded", engine.owner)
    assert (refunded["status"], refunded["error_kind"]) == ("failed", "restart")
    assert await engine.ledger.open_reservations() == 0
    assert (await engine.usage(USER)).day_used == 1


async def test_a_job_taken_over_elsewhere_stops_here_and_is_left_alone(pg_dsn: str, opened: Opened) -> None:
    settings = config(pg_dsn)
    provider = TestProvider(settings, block=True)
    engine = await opened.engine(pg_dsn, provider)
    task = asyncio.create_task(engine.generate(fox(), USER, deliver=Deliverer()))
    await until(lambda: bool(provider.gates))
    [job_id] = engine.active_jobs
    # As if this process had stalled past its lease and another one took the job over.
    await execute(pg_dsn, "UPDATE jobs SET owner = 'otherhost:2:y' WHERE id = $1", job_id)
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, TTL * 3)
    row = await job_row(pg_dsn, job_id)
    assert (row["status"], row["owner"]) == ("running", "otherhost:2:y")  # the new owner's to finish
    assert await engine.ledger.open_reservations() == 1


async def test_no_delivery_when_the_lease_was_lost_before_it(pg_dsn: str, opened: Opened) -> None:
    settings = config(pg_dsn, lease_ttl=30.0)  # the renew loop will not notice in time
    provider = TestProvider(settings, block=True)
    engine = await opened.engine(pg_dsn, provider, lease_ttl=30.0)
    deliver = Deliverer()
    task = asyncio.create_task(engine.generate(fox(), USER, deliver=deliver))
    await until(lambda: bool(provider.gates))
    [job_id] = engine.active_jobs
    await execute(
        pg_dsn, "UPDATE jobs SET owner = 'otherhost:2:y', lease_expires_at = now() + interval '1 hour'"
    )
    provider.release()
    with pytest.raises(Exception, match="taken over"):
        await task
    assert deliver.results == []
    row = await job_row(pg_dsn, job_id)
    assert row["status"] == "running" and await engine.ledger.open_reservations() == 1


async def test_a_failure_after_a_take_over_leaves_the_job_to_its_new_owner(
    pg_dsn: str, opened: Opened
) -> None:
    """A process that stalled past its lease wakes up to a provider timeout: its refund must not
    settle (to 0) the reservation the new owner is about to charge, nor mark its job failed."""
    settings = config(pg_dsn, lease_ttl=30.0)  # the renew loop will not notice in time
    provider = TestProvider(settings, block=True, error=provider_error(ProviderErrorKind.TIMEOUT))
    engine = await opened.engine(pg_dsn, provider, lease_ttl=30.0)
    task = asyncio.create_task(engine.generate(fox(), USER, deliver=Deliverer()))
    await until(lambda: bool(provider.gates))
    [job_id] = engine.active_jobs
    await execute(
        pg_dsn, "UPDATE jobs SET owner = 'otherhost:2:y', lease_expires_at = now() + interval '1 hour'"
    )
    provider.release()
    with pytest.raises(LeaseLost):  # not the provider's error: the new owner answers the user
        await task
    row = await job_row(pg_dsn, job_id)
    assert (row["status"], row["owner"], row["error_kind"]) == ("running", "otherhost:2:y", None)
    assert await engine.ledger.open_reservations() == 1  # the new owner's to settle


def stall_claims(engine: Engine, *, times: int, took_over: bool, dsn: str) -> list[float]:
    """Make the engine's next `times` claims (the renewals before delivering) answer late: the
    database renewed the lease, but the answer comes 0.7 TTL later, as after a stall. With
    `took_over`, another process has taken the job over by the time the first answer arrives."""
    real = engine.ledger.claim_job
    stalls: list[float] = []

    async def claim(job_id: str, owner: str, ttl: float) -> bool:
        claimed = await real(job_id, owner, ttl)
        if len(stalls) < times:
            stalls.append(ttl)
            await asyncio.sleep(ttl * 0.7)
            if took_over and len(stalls) == 1:
                await execute(
                    dsn,
                    "UPDATE jobs SET owner = 'otherhost:2:y', lease_expires_at = now() + interval '1 hour' "
                    "WHERE id = $1",
                    job_id,
                )
        return claimed

    engine.ledger.claim_job = claim  # type: ignore[method-assign]
    return stalls


async def test_a_renewal_answered_too_late_is_renewed_again_before_delivering(
    pg_dsn: str, opened: Opened
) -> None:
    settings = config(pg_dsn, lease_ttl=1.5)
    taken, kept = TestProvider(settings, block=True), TestProvider(settings, block=True)
    # Taken over while the renewal's answer was on its way: no delivery here.
    engine = await opened.engine(pg_dsn, taken, lease_ttl=1.5)
    deliver = Deliverer()
    task = asyncio.create_task(engine.generate(fox(), USER, deliver=deliver))
    await until(lambda: bool(taken.gates))
    [job_id] = engine.active_jobs
    stalls = stall_claims(engine, times=1, took_over=True, dsn=pg_dsn)
    taken.release()
    with pytest.raises((LeaseLost, asyncio.CancelledError)):  # (or its renew loop noticed first)
        await task
    assert stalls and deliver.results == []
    row = await job_row(pg_dsn, job_id)
    assert (row["status"], row["owner"]) == ("running", "otherhost:2:y")

    # Still ours after the slow answer: renewed once more, then delivered.
    other = await opened.engine(pg_dsn, kept, lease_ttl=1.5)
    deliver = Deliverer()
    task = asyncio.create_task(other.generate(fox(), USER, deliver=deliver))
    await until(lambda: bool(kept.gates))
    stalls = stall_claims(other, times=1, took_over=False, dsn=pg_dsn)
    kept.release()
    result, _ = await task
    assert len(stalls) == 1 and len(deliver.results) == 1 and result.charged == 1
    row = await job_row(pg_dsn, result.job_id)
    assert (row["status"], row["owner"]) == ("succeeded", other.owner)


async def test_no_delivery_when_no_renewal_leaves_time_to_deliver(pg_dsn: str, opened: Opened) -> None:
    settings = config(pg_dsn, lease_ttl=0.9)
    provider = TestProvider(settings, block=True)
    engine = await opened.engine(pg_dsn, provider, lease_ttl=0.9)
    deliver = Deliverer()
    task = asyncio.create_task(engine.generate(fox(), USER, deliver=deliver))
    await until(lambda: bool(provider.gates))
    [job_id] = engine.active_jobs
    stalls = stall_claims(engine, times=10, took_over=False, dsn=pg_dsn)
    provider.release()
    with pytest.raises(LeaseTooShort):
        await task
    assert len(stalls) == 3 and deliver.results == []
    row = await job_row(pg_dsn, job_id)  # still ours: refunded and closed here
    assert (row["status"], row["error_kind"]) == ("failed", "delivery")
    assert await engine.ledger.open_reservations() == 0


async def test_a_clean_shutdown_lets_checkpointed_jobs_go_at_once(pg_dsn: str, opened: Opened) -> None:
    settings = config(pg_dsn, lease_ttl=30.0)
    provider = ResumableProvider(settings, block=True, task_id="task-9")
    engine = await opened.engine(pg_dsn, provider, lease_ttl=30.0)
    task = asyncio.create_task(engine.generate(fox(), USER, deliver=Deliverer()))
    await until(lambda: bool(provider.gates))
    [job_id] = engine.active_jobs
    await engine.shutdown(grace=0.0)
    with pytest.raises(asyncio.CancelledError):
        await task
    row = await job_row(pg_dsn, job_id)
    assert row["status"] == "running" and row["provider_task_id"] == "task-9"
    # The next process takes it over at once instead of after the 30 s lease.
    nxt = await opened.engine(pg_dsn, ResumableProvider(settings), lease_ttl=30.0)
    hooks = Hooks()
    nxt.register_platform("discord", hooks.platform_hooks())
    assert await nxt.recover() == [job_id]
    await nxt.wait_background()
    assert len(hooks.delivered) == 1 and (await job_row(pg_dsn, job_id))["status"] == "succeeded"


async def test_a_database_outage_is_one_line_per_problem_not_a_traceback_each(
    pg_dsn: str, opened: Opened, caplog: pytest.LogCaptureFixture
) -> None:
    """PostgreSQL refusing connections: every lease renewal and take-over (each ttl/3), the
    release at shutdown and asyncpg's pool reconnecting logged a traceback (20 in 15 s). Each is
    one WARNING line naming the error; the tracebacks go to DEBUG."""
    engine = await opened.engine(pg_dsn, TestProvider(config(pg_dsn)))
    assert await engine.recover() == []  # renews and takes over from now on
    server, db = pg_dsn.rsplit("/", 1)
    caplog.set_level(logging.DEBUG)
    await execute(f"{server}/postgres", f'ALTER DATABASE "{db}" ALLOW_CONNECTIONS false')
    try:
        await execute(
            f"{server}/postgres",
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
            db,
        )
        await until(lambda: any("renewal failed" in m for m in caplog.messages))
        await asyncio.sleep(TTL)
        await engine.release_leases()
    finally:
        await execute(f"{server}/postgres", f'ALTER DATABASE "{db}" ALLOW_CONNECTIONS true')
    shown = [r for r in caplog.records if r.levelno >= logging.WARNING]
    said = {r.getMessage().split(" (")[0] for r in shown}
    assert {
        "job leases: renewal failed",
        "job leases: take-over failed",
        "could not release job leases; they expire in 1 s",
        "postgresql: Failed to restore the pool connection floor; retrying",
    } <= said, said
    assert [r.getMessage() for r in shown if r.exc_info or r.exc_text] == []
    assert all(r.getMessage().endswith("is not currently accepting connections)") for r in shown), [
        r.getMessage() for r in shown
    ]
    assert any(r.levelno == logging.DEBUG and r.exc_info for r in caplog.records)


async def test_sqlite_engine_takes_no_leases(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, database=str(tmp_path / "one.db"))
    from bot.ledger import SQLiteLedger

    ledger = SQLiteLedger(settings.database, daily_limit=5, monthly_limit=100)
    await ledger.open()
    try:
        engine = Engine(settings, ledger, Router([TestProvider(settings)], retries=0, sleep=no_sleep))
        assert not engine.leases
        result, _ = await engine.generate(fox(), USER, deliver=Deliverer())
        job = await ledger.get_job(result.job_id)
        assert job is not None and job.owner is None and engine._lease_task is None
        await engine.shutdown(0)
    finally:
        await ledger.close()


WORKER = """
import asyncio, json, sys, time
from bot.config import Settings
from bot.engine.pipeline import Engine
from bot.errors import QuotaExceeded
from bot.ledger import PostgresLedger
from bot.request.models import GenerationRequest, Requester
from bot.providers.router import Router
from tests.engine.helpers import Deliverer, TestProvider, no_sleep

async def main(dsn: str, start_at: float, requests: int) -> None:
    settings = Settings(_env_file=None, database=dsn, daily_images=20, monthly_images=1000,
                        max_concurrency=500, user_concurrency=500, lease_ttl=5)
    ledger = PostgresLedger(dsn, daily_limit=20, monthly_limit=1000, min_connections=10, max_connections=20)
    await ledger.open()
    engine = Engine(settings, ledger, Router([TestProvider(settings)], retries=0, sleep=no_sleep))
    user = Requester(platform="discord", user_id="42", channel_id="c1")
    try:
        await asyncio.sleep(max(0.0, start_at - time.time()))  # both processes fire together

        async def one(i: int) -> str | None:
            try:
                result, _ = await engine.generate(GenerationRequest(prompt=f"fox {i}"), user, deliver=Deliverer())
            except QuotaExceeded:
                return None
            return result.job_id

        done = await asyncio.gather(*(one(i) for i in range(requests)))
        print(json.dumps({"owner": engine.owner, "jobs": [j for j in done if j is not None]}))
    finally:
        await engine.shutdown(0)
        await ledger.close()

asyncio.run(main(sys.argv[1], float(sys.argv[2]), int(sys.argv[3])))
"""


async def test_the_200_request_race_split_across_two_engines_gives_exactly_the_quota(pg_dsn: str) -> None:
    store = PostgresLedger(pg_dsn, daily_limit=20, monthly_limit=1000)
    await store.open()  # migrate first, so the workers race on the quota rather than the schema
    await store.close()
    start_at = time.time() + 2.0
    workers = [
        subprocess.Popen(  # noqa: S603 - this interpreter, a fixed script
            [sys.executable, "-c", WORKER, pg_dsn, str(start_at), "100"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    answers = []
    for worker in workers:
        out, err = await asyncio.to_thread(worker.communicate, timeout=90)
        assert worker.returncode == 0, err
        answers.append(json.loads(out.strip().splitlines()[-1]))
    jobs = [job for answer in answers for job in answer["jobs"]]
    assert len(jobs) == 20 and len(set(jobs)) == 20, [len(a["jobs"]) for a in answers]

    conn = await asyncpg.connect(pg_dsn)
    try:
        assert await conn.fetchval("SELECT SUM(used) FROM quota_usage WHERE period LIKE 'd:%'") == 20
        assert await conn.fetchval("SELECT COUNT(*) FROM reservations WHERE state = 'reserved'") == 0
        rows = await conn.fetch("SELECT id, owner, status FROM jobs")
    finally:
        await conn.close()
    owners = {answer["owner"] for answer in answers}
    assert len(rows) == 20 and all(r["status"] == "succeeded" for r in rows)
    by_owner = {r["id"]: r["owner"] for r in rows}
    for answer in answers:  # each job leased to the process that ran it
        assert all(by_owner[job] == answer["owner"] for job in answer["jobs"])
    assert set(by_owner.values()) <= owners

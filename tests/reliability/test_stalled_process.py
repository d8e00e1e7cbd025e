"""A replica that stalls (SIGSTOP) past its lease while a job is in flight, on PostgreSQL.

Two `python -m bot run --slack` processes share the database (SEEDBOT_LEASE_TTL=2). The first
one's job polls an Apiframe task; the process is stopped for longer than the lease and than its
provider deadline, the second one takes the job over and resumes the task, then the first one
is continued: it wakes up to a provider timeout (or its renew loop finds the job gone) while the
second one still holds the job. The stalled process must not refund, finish or deliver it; the
second one delivers it once and charges it once.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from tests.botproc import BotGroup, BotProcess
from tests.emulators.slack import SlackEmulator
from tests.reliability.test_kill9 import HeldProviders, bot_env, held_world
from tests.slack.conftest import results

TTL = 2.0
DEADLINE = 5.0  # the provider deadline: the stalled process's runs out while it is stopped
RUNS_BEFORE_STOP = 3.0  # polling this long first, so its deadline is well before the new owner's


@pytest.fixture
async def world() -> AsyncIterator[tuple[SlackEmulator, HeldProviders]]:
    async with held_world(("U1",)) as both:
        yield both


async def fetch(dsn: str, sql: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return list(await conn.fetch(sql))
    finally:
        await conn.close()


async def test_a_stalled_process_does_not_settle_or_deliver_a_job_taken_over(
    world: tuple[SlackEmulator, HeldProviders], pg_dsn: str, tmp_path: Path
) -> None:
    slack, providers = world
    env = bot_env(slack, providers, pg_dsn)
    env.update(SEEDBOT_LEASE_TTL=str(TTL), SEEDBOT_PROVIDER_DEADLINE=str(DEADLINE))
    providers.apiframe.pending_polls = 1_000_000  # pending until the test says so
    loop = asyncio.get_running_loop()
    bots = BotGroup("replica")
    stalled: BotProcess | None = None
    failed = True
    try:
        stalled = await bots.run(BotProcess(env, tmp_path))
        taker = await bots.run(BotProcess(env, tmp_path))
        assert (await slack.post_event(stalled.url, slack.mention_event("a stalled fox"))) == 200

        async def polling() -> bool:
            rows = await fetch(pg_dsn, "SELECT owner FROM jobs WHERE provider_task_id IS NOT NULL")
            return len(rows) == 1 and f":{stalled.pid}:" in str(rows[0]["owner"])

        await slack.wait_for(polling, 20, message="the job polling its task on the first replica")
        polling_since = loop.time()
        await asyncio.sleep(RUNS_BEFORE_STOP)

        os.kill(stalled.pid, signal.SIGSTOP)
        await taker.wait_log(r"taking over from", timeout=TTL * 6)
        # Stopped past its lease (taken over) and past its provider deadline, then continued
        # while the new owner is still polling the task.
        await asyncio.sleep(max(0.0, polling_since + DEADLINE + 0.5 - loop.time()))
        os.kill(stalled.pid, signal.SIGCONT)
        # It wakes up: its renew loop finds the job taken over, its poll times out (in either order).
        await stalled.wait_log(r"took it over|taken over by another process|job \w+ failed", timeout=15)
        await asyncio.sleep(1.0)  # whatever it does about the job, it has done it by now

        for task in providers.apiframe.tasks.values():
            task.pending = 0

        async def closed() -> bool:
            rows = await fetch(pg_dsn, "SELECT status FROM jobs")
            return [r["status"] for r in rows] == ["succeeded"]

        await slack.wait_for(lambda: len(results(slack)) >= 1, 20, message="the result")
        await slack.wait_for(closed, 10, message="the job closed in the ledger")
        await asyncio.sleep(1.5)  # a second delivery or a late refund would show up here

        assert len(results(slack)) == 1, "delivered exactly once"
        assert providers.apiframe.submissions == 1, "resumed by polling, not submitted again"
        [job] = await fetch(pg_dsn, "SELECT status, owner, error_kind, images_delivered FROM jobs")
        assert (job["status"], job["error_kind"], job["images_delivered"]) == ("succeeded", None, 1)
        assert f":{taker.pid}:" in job["owner"]
        [money] = await fetch(
            pg_dsn,
            "SELECT COUNT(*) FILTER (WHERE state = 'reserved') AS open, SUM(used) AS charged FROM reservations",
        )
        [usage] = await fetch(pg_dsn, "SELECT SUM(used) AS used FROM quota_usage WHERE period LIKE 'd:%'")
        assert (money["open"], money["charged"], usage["used"]) == (0, 1, 1), "charged exactly once"
        assert stalled.running and taker.running
        failed = False
    finally:
        if stalled is not None and stalled.running:
            with contextlib.suppress(ProcessLookupError):
                os.kill(stalled.pid, signal.SIGCONT)  # a stopped process would not hear SIGTERM
        await bots.close(print_logs=failed, max_chars=20000)

"""Two `python -m bot run --slack` replicas on one PostgreSQL database, through the Slack and
provider emulators.

- kill -9 of one replica with jobs in flight (polling Apiframe tasks and synchronous Novita
  calls): once its leases expire (SEEDBOT_LEASE_TTL=2), the other replica takes its jobs over:
  the Apiframe ones are resumed and delivered without a second submission, the Novita ones are
  refunded and the user told; no job is run twice and the ledger balances.
- One Slack event delivered to both replicas (a load balancer retrying elsewhere) is answered once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bot import messages
from tests.botproc import BotGroup, BotProcess
from tests.emulators.slack import CHANNEL_ID, SlackEmulator
from tests.reliability.test_kill9 import (
    IN_FLIGHT_SQL,
    HeldProviders,
    bot_env,
    delivered_and_refunded,
    held_world,
    mixed_burst,
    placeholders_of,
)
from tests.slack.conftest import results

PER_PROVIDER = 8
USERS = ("U1", "U2", "U3")


@pytest.fixture
async def world() -> AsyncIterator[tuple[SlackEmulator, HeldProviders]]:
    async with held_world(USERS) as both:
        yield both


async def fetch(dsn: str, sql: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return list(await conn.fetch(sql))
    finally:
        await conn.close()


def replica_env(slack: SlackEmulator, providers: HeldProviders, dsn: str) -> dict[str, str]:
    env = bot_env(slack, providers, dsn)
    env.update(SEEDBOT_LEASE_TTL="2")
    return env


async def test_kill9_one_replica_the_other_takes_its_jobs_over(
    world: tuple[SlackEmulator, HeldProviders], pg_dsn: str, tmp_path: Path
) -> None:
    slack, providers = world
    env = replica_env(slack, providers, pg_dsn)
    providers.apiframe.pending_polls = 1_000_000  # never finishes while the first replica lives
    bots = BotGroup("replica")
    failed = True
    try:
        first = await bots.run(BotProcess(env, tmp_path))
        second = await bots.run(BotProcess(env, tmp_path))
        assert first.port != second.port
        polling, sync = await mixed_burst(slack, first.url, "replica test", PER_PROVIDER, USERS)

        async def all_in_flight() -> bool:
            if providers.apiframe.submissions < PER_PROVIDER or providers.novita.submissions < PER_PROVIDER:
                return False
            rows = await fetch(pg_dsn, IN_FLIGHT_SQL)
            return {r["provider"]: r["n"] for r in rows} == {"apiframe": PER_PROVIDER, "novita": PER_PROVIDER}

        await slack.wait_for(all_in_flight, 30, message="jobs in flight on the first replica")
        owners = {r["owner"] for r in await fetch(pg_dsn, "SELECT owner FROM jobs")}
        assert len(owners) == 1 and f":{first.pid}:" in str(next(iter(owners)))
        placeholders = placeholders_of(slack)
        await first.kill()
        for task in providers.apiframe.tasks.values():
            task.pending = 0
        providers.release.set()  # Novita's held calls answer into the dead process

        await slack.wait_for(
            lambda: delivered_and_refunded(slack, placeholders, sync, PER_PROVIDER),
            30,
            message="results and refund notes from the second replica",
        )
        await second.wait_log(r"taking over from", count=PER_PROVIDER * 2)

        async def closed() -> bool:
            rows = await fetch(pg_dsn, "SELECT COUNT(*) AS n FROM jobs WHERE status IN ('queued', 'running')")
            return bool(rows[0]["n"] == 0)

        await slack.wait_for(closed, 10, message="every job closed in the ledger")
        await asyncio.sleep(1.0)  # a late duplicate would show up here
        await second.stop()

        uploads = results(slack)
        assert sorted(u["thread_ts"] for u in uploads) == sorted(polling), "each delivered once"
        restarted = messages.with_charge_note(messages.RESTARTED_REFUNDED)
        for thread in sync:
            message = slack.message(CHANNEL_ID, placeholders[thread])
            assert message is not None and message["text"] == restarted
        assert providers.apiframe.submissions == PER_PROVIDER, "resumed by polling, not submitted again"
        assert providers.novita.submissions == PER_PROVIDER
        rows = await fetch(pg_dsn, "SELECT provider, status, error_kind, owner FROM jobs")
        by_status: dict[str, int] = {}
        for r in rows:
            key = f"{r['provider']}:{r['status']}:{r['error_kind'] or ''}"
            by_status[key] = by_status.get(key, 0) + 1
        assert by_status == {"apiframe:succeeded:": PER_PROVIDER, "novita:failed:restart": PER_PROVIDER}
        assert all(f":{second.pid}:" in r["owner"] for r in rows)
        [totals] = await fetch(
            pg_dsn,
            "SELECT COUNT(*) FILTER (WHERE state = 'reserved') AS open, SUM(used) AS charged FROM reservations",
        )
        [usage] = await fetch(pg_dsn, "SELECT SUM(used) AS used FROM quota_usage WHERE period LIKE 'd:%'")
        assert totals["open"] == 0 and totals["charged"] == PER_PROVIDER == usage["used"]
        failed = False
    finally:
        await bots.close(print_logs=failed, max_chars=20000)


async def test_one_event_delivered_to_both_replicas_is_answered_once(
    world: tuple[SlackEmulator, HeldProviders], pg_dsn: str, tmp_path: Path
) -> None:
    slack, providers = world
    env = replica_env(slack, providers, pg_dsn)
    bots = BotGroup("replica")
    failed = True
    try:
        first = await bots.run(BotProcess(env, tmp_path))
        second = await bots.run(BotProcess(env, tmp_path))
        event = slack.mention_event("a lighthouse at dusk")
        answers: list[Any] = await asyncio.gather(
            slack.post_event(first.url, event, event_id="Ev1"),
            slack.post_event(second.url, event, event_id="Ev1", retry_num=1),
        )
        assert all(a.status == 200 for a in answers)
        await slack.wait_for(lambda: len(results(slack)) >= 1, 20, message="the answer")
        await asyncio.sleep(1.5)  # time for a second answer, if there were one
        assert len(results(slack)) == 1
        assert providers.apiframe.submissions == 1
        rows = await fetch(pg_dsn, "SELECT status FROM jobs")
        assert [r["status"] for r in rows] == ["succeeded"]
        ignored = first.matching("already handled") + second.matching("already handled")
        assert len(ignored) == 1
        failed = False
    finally:
        await bots.close(print_logs=failed, max_chars=20000)

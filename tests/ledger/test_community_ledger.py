"""The community tables on both backends (SQLite file, real PostgreSQL): pools reserved and
refunded atomically with the user's quota (also under concurrency), day grants, workspace
settings, the admin audit trail and job stats."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.errors import QuotaExceeded, UserBlocked
from bot.ledger.base import Pool, Reservation
from bot.request.models import JobStatus
from tests.ledger.helpers import USER, make_job
from tests.ledger.test_backends import NOW

POOL = Pool("pool:discord:g1", 4)


async def test_a_pool_is_held_and_refunded_with_the_users_quota(ledger: Any) -> None:
    first = await ledger.reserve(USER, 3, now=NOW, pool=POOL)
    assert await ledger.pool_used(POOL.key, now=NOW) == 3
    with pytest.raises(QuotaExceeded) as refused:
        await ledger.reserve("discord:43", 2, now=NOW, pool=POOL)
    assert (refused.value.scope, refused.value.limit, refused.value.used) == ("pool", 4, 3)
    assert (await ledger.quota("discord:43", now=NOW)).day_used == 0  # neither was held
    await ledger.settle(first.id, 1)  # two refunded to both
    assert await ledger.pool_used(POOL.key, now=NOW) == 1
    assert (await ledger.quota(USER, now=NOW)).day_used == 1
    again = await ledger.reserve("discord:43", 3, now=NOW, pool=POOL)
    await ledger.settle(again.id, 3)
    await ledger.settle(again.id, 0)  # settling twice changes nothing
    assert await ledger.pool_used(POOL.key, now=NOW) == 4
    # The pool is daily: tomorrow it is empty again; the user's own limit is checked first.
    tomorrow = NOW + timedelta(days=1)
    assert await ledger.pool_used(POOL.key, now=tomorrow) == 0
    with pytest.raises(QuotaExceeded) as own:
        await ledger.reserve(USER, 6, now=tomorrow, pool=POOL)
    assert own.value.scope == "daily"
    # Unlimited users (SEEDBOT_ADMINS) are counted in the pool but not stopped by it.
    await ledger.reserve("discord:1", 9, now=NOW, pool=POOL, unlimited=True)
    assert await ledger.pool_used(POOL.key, now=NOW) == 13


async def test_concurrent_reservations_never_overspend_the_pool(make_ledger: Any) -> None:
    a, b = await make_ledger(daily=100), await make_ledger(daily=100)
    pool = Pool("pool:slack:T1", 25)
    results = await asyncio.gather(
        *(store.reserve(f"slack:T1:U{i}", 1, pool=pool) for i in range(60) for store in (a, b)),
        return_exceptions=True,
    )
    granted = [r for r in results if isinstance(r, Reservation)]
    assert len(granted) == 25
    assert all(isinstance(r, Reservation | QuotaExceeded) for r in results)
    assert await a.pool_used(pool.key) == 25


async def test_a_grant_gives_its_images_today_when_the_month_is_used_up(make_ledger: Any) -> None:
    """`quota grant` said "3 extra images today" and gave nothing to someone at the month's
    limit: today's grant counts toward both limits (the month's reads back without it tomorrow)."""
    ledger = await make_ledger(daily=10, monthly=4)
    await ledger.settle((await ledger.reserve(USER, 4, now=NOW)).id, 4)
    with pytest.raises(QuotaExceeded):
        await ledger.reserve(USER, 1, now=NOW)
    await ledger.grant(USER, 3, now=NOW)
    status = await ledger.quota(USER, now=NOW)
    assert (status.month_limit, status.left) == (7, 3)
    await ledger.reserve(USER, 3, now=NOW)
    with pytest.raises(QuotaExceeded) as refused:
        await ledger.reserve(USER, 1, now=NOW)
    assert refused.value.scope == "monthly"
    tomorrow = await ledger.quota(USER, now=NOW + timedelta(days=1))
    assert (tomorrow.month_limit, tomorrow.left) == (4, 0)


async def test_grants_raise_todays_limit_only(ledger: Any) -> None:
    assert await ledger.grant(USER, 2, now=NOW) == 2
    assert await ledger.grant(USER, 1, now=NOW) == 3
    status = await ledger.quota(USER, now=NOW)
    assert (status.day_limit, status.granted, status.left) == (8, 3, 8)
    await ledger.reserve(USER, 8, now=NOW)
    with pytest.raises(QuotaExceeded):
        await ledger.reserve(USER, 1, now=NOW)
    tomorrow = await ledger.quota(USER, now=NOW + timedelta(days=1))
    assert (tomorrow.day_limit, tomorrow.granted) == (5, 0)
    await ledger.set_blocked(USER, True)
    with pytest.raises(UserBlocked):
        await ledger.reserve(USER, 1, now=NOW + timedelta(days=1))


async def test_two_settings_changed_at_once_from_two_processes_are_both_kept(make_ledger: Any) -> None:
    """Each change read the whole settings and wrote them back: one of two at once was lost,
    though both admins were told it was made (and it was audited)."""
    one, two = await make_ledger(), await make_ledger()

    def setting(key: str, value: object) -> Any:
        def change(values: dict[str, Any]) -> dict[str, Any]:
            return {**values, key: value}

        return change

    changes = [(one, "buttons", "owner"), (two, "max_batch", 2), (one, "pool", 9), (two, "model", "4.5")]
    await asyncio.gather(
        *(ledger.change_workspace_settings("slack:T1", setting(k, v)) for ledger, k, v in changes)
    )
    assert await one.workspace_settings("slack:T1") == {
        "buttons": "owner",
        "max_batch": 2,
        "pool": 9,
        "model": "4.5",
    }


async def test_workspace_settings_round_trip(make_ledger: Any) -> None:
    one, two = await make_ledger(), await make_ledger()
    assert await one.workspace_settings("discord:g1") == {}
    await one.set_workspace_settings("discord:g1", {"pool": 10, "channels": ["c1", "c2"], "watermark": True})
    assert await two.workspace_settings("discord:g1") == {
        "pool": 10,
        "channels": ["c1", "c2"],
        "watermark": True,
    }
    await two.set_workspace_settings("discord:g1", {"model": "4.5"})
    assert await one.workspace_settings("discord:g1") == {"model": "4.5"}
    assert await one.workspace_settings("slack:T1") == {}


async def test_audit_entries_newest_first_and_by_target(ledger: Any) -> None:
    await ledger.record_audit("discord:9", "quota.set", USER, "daily=3 monthly=100")
    await ledger.record_audit("cli:ops", "settings.set", "discord:g1", "pool=10")
    await ledger.record_audit("discord:9", "quota.block", USER)
    entries = await ledger.audit_entries()
    assert [(e.actor, e.action, e.target, e.detail) for e in entries] == [
        ("discord:9", "quota.block", USER, ""),
        ("cli:ops", "settings.set", "discord:g1", "pool=10"),
        ("discord:9", "quota.set", USER, "daily=3 monthly=100"),
    ]
    assert entries[0].id > entries[1].id > entries[2].id
    at = datetime.fromisoformat(entries[0].at)
    assert abs((at - datetime.now(UTC)).total_seconds()) < 60
    assert [e.action for e in await ledger.audit_entries(target="discord:g1")] == ["settings.set"]
    assert len(await ledger.audit_entries(limit=2)) == 2


async def test_job_stats_group_by_user_provider_status_and_kind(ledger: Any) -> None:
    today = datetime.now(UTC)
    await ledger.create_job(make_job("a", workspace_id="g1", provider="novita"), ())
    await ledger.finish_job("a", JobStatus.SUCCEEDED, delivered=2)
    await ledger.create_job(make_job("b", workspace_id="g1", provider="novita", user_key="discord:7"), ())
    await ledger.finish_job("b", JobStatus.FAILED, error_kind="timeout")
    await ledger.create_job(make_job("c", workspace_id="g2", provider="segmind"), ())
    await ledger.finish_job("c", JobStatus.SUCCEEDED, delivered=1)
    old = (today - timedelta(days=40)).isoformat(timespec="milliseconds")
    await ledger.create_job(make_job("d", workspace_id="g1", created_at=old), ())

    since = today - timedelta(hours=1)
    rows = await ledger.job_stats(since, platform="discord", workspace_id="g1")
    assert [(r.user_key, r.provider, r.status, r.error_kind, r.jobs, r.images) for r in rows] == [
        ("discord:42", "novita", "succeeded", None, 1, 2),
        ("discord:7", "novita", "failed", "timeout", 1, 0),
    ]
    everything = await ledger.job_stats(since)
    assert sum(r.jobs for r in everything) == 3 and sum(r.images for r in everything) == 3
    assert await ledger.job_stats(since, platform="slack") == []

"""The SQLite ledger on a real database file: atomic quotas, periods, jobs, lineage, migrations."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bot.config import Settings
from bot.errors import LedgerUnavailable, QuotaExceeded, UserBlocked
from bot.ledger import SQLiteLedger, database_down, open_ledger
from bot.ledger.base import Reservation, day_key, month_key, output_of, period_resets
from bot.request.models import GeneratedImage, ImageInput, JobStatus
from tests.ledger.helpers import USER, image, make_job

NOW = datetime(2026, 3, 14, 15, 9, 26, tzinfo=UTC)


@pytest.fixture
def db_path(tmp_path: Path) -> str:
    return str(tmp_path / "ledger.db")


@pytest.fixture
async def ledger(db_path: str) -> AsyncIterator[SQLiteLedger]:
    store = SQLiteLedger(db_path, daily_limit=5, monthly_limit=100)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


async def try_reserve(
    store: SQLiteLedger, user: str = USER, amount: int = 1, **kw: object
) -> Reservation | None:
    try:
        return await store.reserve(user, amount, **kw)  # type: ignore[arg-type]
    except QuotaExceeded:
        return None


# -- the quota race ----------------------------------------------------------------------------


async def test_two_hundred_concurrent_reservations_grant_exactly_the_quota(
    ledger: SQLiteLedger, db_path: str
) -> None:
    results = await asyncio.gather(*(ledger.reserve(USER, 1) for _ in range(200)), return_exceptions=True)
    granted = [r for r in results if isinstance(r, Reservation)]
    refused = [r for r in results if isinstance(r, QuotaExceeded)]
    assert len(granted) == 5 and len(refused) == 195
    assert len({r.id for r in granted}) == 5
    assert all(e.scope == "daily" and e.limit == 5 for e in refused)

    await asyncio.gather(*(ledger.settle(r.id, 1) for r in granted))
    status = await ledger.quota(USER)
    assert (status.day_used, status.month_used, status.left) == (5, 5, 0)
    assert await ledger.open_reservations() == 0

    # What the file holds, read by another connection.
    with sqlite3.connect(db_path) as raw:
        assert raw.execute("SELECT SUM(used) FROM reservations WHERE state = 'settled'").fetchone()[0] == 5
        assert raw.execute("SELECT COUNT(*) FROM reservations").fetchone()[0] == 5


async def test_reserve_then_settle_race_commits_exactly_five(ledger: SQLiteLedger) -> None:
    async def one() -> bool:
        reservation = await try_reserve(ledger)
        if reservation is None:
            return False
        await asyncio.sleep(0)
        await ledger.settle(reservation.id, 1)
        return True

    outcomes = await asyncio.gather(*(one() for _ in range(200)))
    assert outcomes.count(True) == 5
    assert (await ledger.quota(USER)).day_used == 5


async def test_race_across_two_connections_on_one_file(db_path: str) -> None:
    # Two ledgers on the same file stand in for two bot processes.
    first = SQLiteLedger(db_path, daily_limit=5, monthly_limit=100)
    second = SQLiteLedger(db_path, daily_limit=5, monthly_limit=100)
    await first.open()
    await second.open()
    try:
        results = await asyncio.gather(*(try_reserve(store) for _ in range(60) for store in (first, second)))
        assert sum(r is not None for r in results) == 5
        assert (await second.quota(USER)).day_used == 5
    finally:
        await first.close()
        await second.close()


async def test_multi_unit_requests_never_overshoot(ledger: SQLiteLedger) -> None:
    results = await asyncio.gather(*(try_reserve(ledger, amount=2) for _ in range(50)))
    assert sum(r is not None for r in results) == 2  # 2 + 2 = 4; a third 2 would make 6 > 5
    assert (await ledger.quota(USER)).day_used == 4
    assert await try_reserve(ledger, amount=1) is not None
    assert await try_reserve(ledger, amount=1) is None


# -- commit, refund, idempotency ---------------------------------------------------------------------


async def test_refund_restores_the_quota(ledger: SQLiteLedger) -> None:
    reservation = await ledger.reserve(USER, 5)
    assert (await ledger.quota(USER)).left == 0
    assert await try_reserve(ledger) is None
    await ledger.settle(reservation.id, 0)
    status = await ledger.quota(USER)
    assert (status.day_used, status.month_used, status.left) == (0, 0, 5)
    assert await try_reserve(ledger, amount=5) is not None


async def test_partial_settle_refunds_the_rest(ledger: SQLiteLedger) -> None:
    reservation = await ledger.reserve(USER, 4)
    await ledger.settle(reservation.id, 1)
    assert (await ledger.quota(USER)).day_used == 1


async def test_a_job_reads_finished_only_once_its_refund_is_made(
    ledger: SQLiteLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reads on the connection take no lock: one between settle_job's two writes saw the job
    finished and its missing images not yet refunded (a test read "3 used" for 2 delivered)."""
    held = await ledger.reserve(USER, 3)
    await ledger.create_job(make_job("j1", status=JobStatus.RUNNING, reservation_id=held.id), ())
    execute_fetchall = ledger.db.execute_fetchall
    seen: list[str] = []

    async def watched(sql: str, parameters: Any = None) -> Any:
        rows = await execute_fetchall(sql, parameters)
        if "UPDATE jobs" in sql:  # the moment the job reads as finished
            [state] = await execute_fetchall("SELECT state FROM reservations WHERE id = ?", (held.id,))
            seen.append(state[0])
        return rows

    monkeypatch.setattr(ledger.db, "execute_fetchall", watched)
    assert await ledger.settle_job(
        "j1", "me", JobStatus.SUCCEEDED, reservation_id=held.id, used=2, delivered=2
    )
    assert seen == ["settled"]
    assert (await ledger.quota(USER)).day_used == 2


async def test_settle_is_idempotent(ledger: SQLiteLedger) -> None:
    reservation = await ledger.reserve(USER, 3)
    await ledger.settle(reservation.id, 2)
    await ledger.settle(reservation.id, 2)
    await ledger.settle(reservation.id, 0)  # a late refund after the commit changes nothing
    await ledger.settle(reservation.id, 3)
    assert (await ledger.quota(USER)).day_used == 2
    await ledger.settle(999_999, 1)  # unknown ids are ignored


async def test_settle_clamps_to_the_reservation(ledger: SQLiteLedger) -> None:
    reservation = await ledger.reserve(USER, 2)
    await ledger.settle(reservation.id, 10)
    assert (await ledger.quota(USER)).day_used == 2
    other = await ledger.reserve(USER, 2)
    await ledger.settle(other.id, -3)
    assert (await ledger.quota(USER)).day_used == 2


async def test_open_reservations_counted(ledger: SQLiteLedger) -> None:
    a = await ledger.reserve(USER, 1)
    await ledger.reserve("slack:T1:U1", 2)
    assert await ledger.open_reservations() == 2
    await ledger.settle(a.id, 1)
    assert await ledger.open_reservations() == 1


# -- limits, overrides, blocking, admins -----------------------------------------------------------


async def test_monthly_limit(db_path: str) -> None:
    store = SQLiteLedger(db_path, daily_limit=100, monthly_limit=7)
    await store.open()
    try:
        day1, day2 = NOW, NOW + timedelta(days=1)
        await store.reserve(USER, 5, now=day1)
        await store.reserve(USER, 2, now=day2)
        with pytest.raises(QuotaExceeded) as err:
            await store.reserve(USER, 1, now=day2)
        assert (err.value.scope, err.value.limit, err.value.used) == ("monthly", 7, 7)
        assert err.value.resets_at == datetime(2026, 4, 1, tzinfo=UTC)
        status = await store.quota(USER, now=day2)
        assert (status.day_used, status.month_used, status.left) == (2, 7, 0)
    finally:
        await store.close()


async def test_daily_limit_error_says_when_it_resets(ledger: SQLiteLedger) -> None:
    await ledger.reserve(USER, 4, now=NOW)
    with pytest.raises(QuotaExceeded) as err:
        await ledger.reserve(USER, 2, now=NOW)
    assert (err.value.scope, err.value.limit, err.value.used) == ("daily", 5, 4)
    assert err.value.resets_at == datetime(2026, 3, 15, tzinfo=UTC)
    assert err.value.user_text == (
        "You asked for 2 images, but only 1 is left of your daily limit (5 images). "
        "Ask for at most 1, or wait: it resets at 2026-03-15 00:00 UTC. You were not charged."
    )


async def test_per_user_overrides(ledger: SQLiteLedger) -> None:
    await ledger.set_limits(USER, daily=2, monthly=None)
    status = await ledger.quota(USER)
    assert (status.day_limit, status.month_limit) == (2, 100)
    assert await try_reserve(ledger, amount=2) is not None
    assert await try_reserve(ledger) is None
    # Other users keep the defaults.
    assert (await ledger.quota("discord:7")).day_limit == 5
    assert await try_reserve(ledger, "discord:7", amount=5) is not None
    # Raising the override lets the user go on; clearing it restores the default.
    await ledger.set_limits(USER, daily=10, monthly=3)
    assert await try_reserve(ledger) is not None
    with pytest.raises(QuotaExceeded) as err:
        await ledger.reserve(USER, 1)
    assert err.value.scope == "monthly"
    await ledger.set_limits(USER, daily=None, monthly=None)
    assert (await ledger.quota(USER)).day_limit == 5


async def test_zero_limit_blocks_generation(ledger: SQLiteLedger) -> None:
    await ledger.set_limits(USER, daily=0, monthly=None)
    assert await try_reserve(ledger) is None


async def test_blocked_users(ledger: SQLiteLedger) -> None:
    await ledger.set_blocked(USER, True)
    with pytest.raises(UserBlocked):
        await ledger.reserve(USER, 1)
    with pytest.raises(UserBlocked):
        await ledger.reserve(USER, 1, unlimited=True)  # blocking beats admin rights
    status = await ledger.quota(USER)
    assert status.blocked and "blocked" in status.summary()
    assert await ledger.open_reservations() == 0
    await ledger.set_blocked(USER, False)
    assert await try_reserve(ledger) is not None


async def test_blocking_keeps_overrides(ledger: SQLiteLedger) -> None:
    await ledger.set_limits(USER, daily=3, monthly=None)
    await ledger.set_blocked(USER, True)
    await ledger.set_blocked(USER, False)
    assert (await ledger.quota(USER)).day_limit == 3


async def test_unlimited_bypasses_limits_but_is_recorded(ledger: SQLiteLedger) -> None:
    for _ in range(4):
        reservation = await ledger.reserve(USER, 15, unlimited=True)
        await ledger.settle(reservation.id, 15)
    admin = await ledger.quota(USER, unlimited=True)
    assert admin.unlimited and admin.left is None and admin.day_limit is None
    assert (admin.day_used, admin.month_used) == (60, 60)
    assert "unlimited" in admin.summary()
    assert (await ledger.quota(USER)).left == 0  # the same user without admin rights is spent


async def test_reset_usage(ledger: SQLiteLedger) -> None:
    done = await ledger.reserve(USER, 3, now=NOW)
    await ledger.settle(done.id, 3)
    held = await ledger.reserve(USER, 2, now=NOW)
    await ledger.reset_usage(USER, now=NOW)
    status = await ledger.quota(USER, now=NOW)
    assert (status.day_used, status.month_used) == (2, 2)  # the open reservation stays held
    await ledger.settle(held.id, 0)
    status = await ledger.quota(USER, now=NOW)
    assert (status.day_used, status.month_used) == (0, 0)
    assert await try_reserve(ledger, amount=5, now=NOW) is not None


async def test_reset_only_touches_that_user(ledger: SQLiteLedger) -> None:
    for user in (USER, "discord:7"):
        r = await ledger.reserve(user, 2)
        await ledger.settle(r.id, 2)
    await ledger.reset_usage(USER)
    assert (await ledger.quota(USER)).day_used == 0
    assert (await ledger.quota("discord:7")).day_used == 2


# -- periods ----------------------------------------------------------------------------------


async def test_day_rollover(ledger: SQLiteLedger) -> None:
    late = datetime(2026, 3, 14, 23, 59, 59, 999000, tzinfo=UTC)
    await ledger.reserve(USER, 5, now=late)
    assert await try_reserve(ledger, now=late) is None
    midnight = datetime(2026, 3, 15, tzinfo=UTC)
    reservation = await ledger.reserve(USER, 5, now=midnight)
    assert (await ledger.quota(USER, now=midnight)).day_used == 5
    assert (await ledger.quota(USER, now=midnight)).month_used == 10
    # A refund lands in the period the reservation was made in, whenever it settles.
    await ledger.settle(reservation.id, 0)
    assert (await ledger.quota(USER, now=late)).day_used == 5
    assert (await ledger.quota(USER, now=midnight)).day_used == 0


async def test_month_rollover(db_path: str) -> None:
    store = SQLiteLedger(db_path, daily_limit=100, monthly_limit=5)
    await store.open()
    try:
        await store.reserve(USER, 5, now=datetime(2026, 1, 31, 12, tzinfo=UTC))
        assert await try_reserve(store, now=datetime(2026, 1, 31, 23, 59, tzinfo=UTC)) is None
        assert await try_reserve(store, amount=5, now=datetime(2026, 2, 1, tzinfo=UTC)) is not None
        december = datetime(2026, 12, 31, 23, 0, tzinfo=UTC)
        assert await try_reserve(store, amount=5, now=december) is not None
        assert await try_reserve(store, amount=5, now=datetime(2027, 1, 1, tzinfo=UTC)) is not None
    finally:
        await store.close()


async def test_periods_are_utc_whatever_the_clock_zone(ledger: SQLiteLedger) -> None:
    # 01:00 on 1 March at UTC+5 is still 28 February in UTC: today's and this month's counters
    # are February's, and they reset at UTC midnight.
    plus5 = timezone(timedelta(hours=5))
    local = datetime(2026, 3, 1, 1, 0, tzinfo=plus5)
    assert day_key(local) == "d:2026-02-28" and month_key(local) == "m:2026-02"
    assert period_resets(local) == (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC))
    await ledger.reserve(USER, 2, now=local)
    assert (await ledger.quota(USER, now=datetime(2026, 2, 28, 21, tzinfo=UTC))).day_used == 2
    assert (await ledger.quota(USER, now=datetime(2026, 3, 1, 0, 30, tzinfo=UTC))).day_used == 0


@pytest.mark.parametrize(
    ("now", "day", "month"),
    [
        (
            datetime(2026, 3, 14, 15, 9, tzinfo=UTC),
            datetime(2026, 3, 15, tzinfo=UTC),
            datetime(2026, 4, 1, tzinfo=UTC),
        ),
        (
            datetime(2026, 3, 14, 0, 0, tzinfo=UTC),
            datetime(2026, 3, 15, tzinfo=UTC),
            datetime(2026, 4, 1, tzinfo=UTC),
        ),
        (
            datetime(2026, 3, 31, 23, 59, tzinfo=UTC),
            datetime(2026, 4, 1, tzinfo=UTC),
            datetime(2026, 4, 1, tzinfo=UTC),
        ),
        (
            datetime(2026, 12, 5, tzinfo=UTC),
            datetime(2026, 12, 6, tzinfo=UTC),
            datetime(2027, 1, 1, tzinfo=UTC),
        ),
        (
            datetime(2026, 12, 31, 23, 59, tzinfo=UTC),
            datetime(2027, 1, 1, tzinfo=UTC),
            datetime(2027, 1, 1, tzinfo=UTC),
        ),
        (
            datetime(2027, 2, 28, 8, tzinfo=UTC),
            datetime(2027, 3, 1, tzinfo=UTC),
            datetime(2027, 3, 1, tzinfo=UTC),
        ),
        (
            datetime(2028, 2, 28, 8, tzinfo=UTC),
            datetime(2028, 2, 29, tzinfo=UTC),
            datetime(2028, 3, 1, tzinfo=UTC),
        ),
    ],
)
async def test_resets_at(ledger: SQLiteLedger, now: datetime, day: datetime, month: datetime) -> None:
    assert period_resets(now) == (day, month)
    status = await ledger.quota(USER, now=now)
    assert (status.day_resets, status.month_resets) == (day, month)
    assert status.day_resets.tzinfo is not None
    assert day.strftime("%Y-%m-%d 00:00 UTC") in status.summary()


# -- the file: WAL, migrations, reopening -------------------------------------------------------------


async def test_migrations_are_applied_once_and_data_survives_a_reopen(db_path: str) -> None:
    store = SQLiteLedger(db_path, daily_limit=5, monthly_limit=100)
    await store.open()
    reservation = await store.reserve(USER, 2)
    await store.settle(reservation.id, 2)
    await store.create_job(make_job("j1"), ())
    await store.close()

    for _ in range(2):
        store = SQLiteLedger(db_path, daily_limit=5, monthly_limit=100)
        await store.open()
        assert (await store.quota(USER)).day_used == 2
        assert (await store.get_job("j1")) is not None
        await store.close()

    with sqlite3.connect(db_path) as raw:
        versions = [row[0] for row in raw.execute("SELECT version FROM schema_migrations ORDER BY version")]
        assert versions == sorted(set(versions)) and versions[0] == 1
        migrations = Path(__file__).resolve().parents[2] / "bot" / "ledger" / "migrations" / "sqlite"
        assert len(versions) == len(list(migrations.glob("*.sql")))
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_open_ledger_uses_the_settings(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, database=str(tmp_path / "x.db"), daily_images=3, monthly_images=9)  # type: ignore[call-arg]
    store = await open_ledger(settings)
    try:
        status = await store.quota(USER)
        assert (status.day_limit, status.month_limit) == (3, 9)
    finally:
        await store.close()
    assert (tmp_path / "x.db").is_file()


async def test_read_mode_refuses_a_missing_database_and_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "seedbot.db"
    store = SQLiteLedger(str(path), daily_limit=5, monthly_limit=100, mode="read")
    with pytest.raises(LedgerUnavailable) as refused:
        await store.open()
    assert refused.value.user_text == (
        f"there is no database at {path} (SEEDBOT_DATABASE): nothing is recorded yet; "
        "`seedbot run` creates it"
    )
    assert list(tmp_path.iterdir()) == []  # no file, no -wal, no -shm, no lock
    # An existing database opens for reading as usual.
    writer = SQLiteLedger(str(path), daily_limit=5, monthly_limit=100)
    await writer.open()
    await writer.set_limits(USER, daily=2, monthly=None)
    await writer.close()
    await store.open()
    try:
        assert (await store.quota(USER)).day_limit == 2
    finally:
        await store.close()


async def test_a_database_in_a_missing_directory_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "seedbot.db"
    for mode in ("write", "run"):
        store = SQLiteLedger(str(path), daily_limit=5, monthly_limit=100, mode=mode)
        with pytest.raises(LedgerUnavailable, match="there is no directory"):
            await store.open()
    assert list(tmp_path.iterdir()) == []


async def test_one_running_ledger_per_file(db_path: str) -> None:
    """mode "run" takes <file>.lock exclusively (flock, so even a second open in this process
    conflicts); the refusal names the holder's pid; closing lets the next one in. Other modes
    (a CLI command beside the bot) take no lock."""
    first = SQLiteLedger(db_path, daily_limit=5, monthly_limit=100, mode="run")
    await first.open()
    try:
        second = SQLiteLedger(db_path, daily_limit=5, monthly_limit=100, mode="run")
        with pytest.raises(LedgerUnavailable) as refused:
            await second.open()
        assert refused.value.user_text == (
            f"another seedbot (pid {os.getpid()}) is using {db_path}; use PostgreSQL "
            "(SEEDBOT_DATABASE=postgresql://...) to run several"
        )
        beside = SQLiteLedger(db_path, daily_limit=5, monthly_limit=100)
        await beside.open()
        await beside.close()
    finally:
        await first.close()
    await second.open()
    await second.close()


async def test_a_write_cancelled_while_beginning_leaves_no_transaction_open(ledger: SQLiteLedger) -> None:
    """A job task cancelled inside update_job, while SQLite's thread was starting the transaction,
    must not break the next write (the job's refund): it used to fail with "cannot start a
    transaction within a transaction"."""
    await ledger.create_job(make_job("j1"), ())
    for _ in range(20):
        task = asyncio.create_task(ledger.update_job("j1", provider="a"))
        await asyncio.sleep(0)  # now awaiting BEGIN IMMEDIATE
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await ledger.update_job("j1", provider="b")
    assert not ledger.db.in_transaction
    job = await ledger.get_job("j1")
    assert job is not None and job.provider == "b"


async def test_a_failed_write_is_remembered_until_the_next_one_succeeds(
    ledger: SQLiteLedger, db_path: str
) -> None:
    """Reads go on in WAL mode while writes fail (disk full, the write lock held past the busy
    timeout): `/healthz` learns of it from here, not from a read."""
    await ledger.record_audit("admin", "limits", USER)
    assert ledger.write_failure is None
    # Disk full: the file may not grow by one more page.
    pages = (await ledger._one("PRAGMA page_count"))[0]  # type: ignore[index]
    await ledger.db.execute(f"PRAGMA max_page_count={pages}")
    with pytest.raises(sqlite3.OperationalError, match="full"):
        await ledger.record_audit("admin", "limits", USER, "x" * 100_000)
    failure = ledger.write_failure
    assert failure is not None and failure.reason == "OperationalError: database or disk is full"
    assert abs((datetime.now(UTC) - failure.since).total_seconds()) < 5
    assert (await ledger.quota(USER)).day_used == 0  # reads still answer
    # Locked past the busy timeout by another process: still failing, since the first failure.
    await ledger.db.execute("PRAGMA busy_timeout=50")
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        await ledger.reserve(USER, 1)
    assert ledger.write_failure is not None and ledger.write_failure.since == failure.since
    other.execute("ROLLBACK")
    other.close()
    # A refusal is no database failure; a write that goes through clears it.
    await ledger.db.execute("PRAGMA max_page_count=1073741823")
    await ledger.reserve(USER, 1)
    assert ledger.write_failure is None
    with pytest.raises(QuotaExceeded):
        await ledger.reserve(USER, 5)
    assert ledger.write_failure is None


async def test_a_closed_ledger_says_so(db_path: str) -> None:
    store = SQLiteLedger(db_path, daily_limit=5, monthly_limit=100)
    with pytest.raises(RuntimeError):
        await store.quota(USER)


# -- jobs and lineage ----------------------------------------------------------------------------


async def test_job_row_round_trip(ledger: SQLiteLedger) -> None:
    reservation = await ledger.reserve(USER, 2)
    job = make_job(
        "j1",
        workspace_id="g1",
        thread_id="t1",
        message_id="m0",
        reservation_id=reservation.id,
        parent_id=None,
        created_at="2026-03-14T15:09:26.000+00:00",
    )
    await ledger.create_job(job, ())
    got = await ledger.get_job("j1")
    assert got == job
    assert await ledger.get_job("nope") is None

    await ledger.update_job("j1", status=JobStatus.RUNNING, provider="demo", provider_task_id="task-1")
    got = await ledger.get_job("j1")
    assert got is not None
    assert (got.status, got.provider, got.provider_task_id) == (JobStatus.RUNNING, "demo", "task-1")
    with pytest.raises(ValueError):
        await ledger.update_job("j1", user_key="someone else")

    await ledger.finish_job("j1", JobStatus.SUCCEEDED, delivered=2)
    got = await ledger.get_job("j1")
    assert got is not None
    assert (got.status, got.images_delivered, got.error_kind) == (JobStatus.SUCCEEDED, 2, None)
    assert got.finished_at and got.duration_ms is not None and got.duration_ms >= 0


async def test_failed_job_records_why(ledger: SQLiteLedger) -> None:
    await ledger.create_job(make_job("j1"), ())
    await ledger.finish_job("j1", JobStatus.FAILED, error_kind="moderation", error="refused")
    got = await ledger.get_job("j1")
    assert got is not None
    assert (got.status, got.error_kind, got.error, got.images_delivered) == (
        JobStatus.FAILED,
        "moderation",
        "refused",
        0,
    )


async def test_parent_jobs(ledger: SQLiteLedger) -> None:
    await ledger.create_job(make_job("parent"), ())
    await ledger.create_job(make_job("child", kind="reroll", parent_id="parent"), ())
    child = await ledger.get_job("child")
    assert child is not None and child.parent_id == "parent" and child.kind == "reroll"


async def test_lineage_by_message(ledger: SQLiteLedger) -> None:
    await ledger.create_job(make_job("j1"), ())
    await ledger.create_job(make_job("j2", platform="slack"), ())
    await ledger.link_messages("j1", "discord", ["m1", "m2"])
    await ledger.link_messages("j2", "slack", ["m1"])
    found = await ledger.job_for_message("discord", "m2")
    assert found is not None and found.id == "j1"
    assert found.result_message_ids == ("m1", "m2")
    found = await ledger.job_for_message("slack", "m1")
    assert found is not None and found.id == "j2"
    assert await ledger.job_for_message("discord", "m3") is None
    assert await ledger.job_for_message("slack", "m2") is None


async def test_latest_in_thread(ledger: SQLiteLedger) -> None:
    async def done(job_id: str, thread: str | None, status: JobStatus, delivered: int, when: str) -> None:
        await ledger.create_job(make_job(job_id, thread_id=thread, created_at=when), ())
        await ledger.finish_job(job_id, status, delivered=delivered)

    await done("old", "t1", JobStatus.SUCCEEDED, 1, "2026-03-14T10:00:00.000+00:00")
    await done("new", "t1", JobStatus.SUCCEEDED, 2, "2026-03-14T11:00:00.000+00:00")
    await done("failed", "t1", JobStatus.FAILED, 0, "2026-03-14T12:00:00.000+00:00")
    await done("other", "t2", JobStatus.SUCCEEDED, 1, "2026-03-14T13:00:00.000+00:00")
    await done("top", None, JobStatus.SUCCEEDED, 1, "2026-03-14T09:00:00.000+00:00")
    await ledger.create_job(
        make_job(
            "running", thread_id="t1", status=JobStatus.RUNNING, created_at="2026-03-14T14:00:00.000+00:00"
        ),
        (),
    )

    latest = await ledger.latest_in_thread("discord", "c1", "t1")
    assert latest is not None and latest.id == "new"
    latest = await ledger.latest_in_thread("discord", "c1", None)
    assert latest is not None and latest.id == "top"
    assert (await ledger.latest_in_thread("discord", "c1", "t2")).id == "other"  # type: ignore[union-attr]
    assert await ledger.latest_in_thread("slack", "c1", "t1") is None
    assert await ledger.latest_in_thread("discord", "c9", "t1") is None


async def test_inputs_and_outputs_round_trip(ledger: SQLiteLedger, db_path: str) -> None:
    inputs = (
        image(1, "cat.png"),
        ImageInput(
            data=b"\xff\xd8\xff" + b"j" * 50,
            mime="image/jpeg",
            width=30,
            height=40,
            name="dog.jpg",
            url="https://example.com/dog.jpg",
        ),
        image(1, "cat again.png"),  # the same bytes twice: stored once
    )
    await ledger.create_job(make_job("j1"), inputs)
    got = await ledger.job_inputs("j1")
    assert [(i.data, i.mime, i.width, i.height) for i in got] == [
        (i.data, i.mime, i.width, i.height) for i in inputs
    ]
    assert [i.name for i in got[:2]] == ["cat.png", "dog.jpg"]
    assert got[1].url == "https://example.com/dog.jpg" and got[0].url is None
    assert all(i.source == "upload" for i in got)

    outputs = [
        GeneratedImage(bytes([9]) * 300, "image/jpeg", 2048, 2048),
        GeneratedImage(bytes([8]) * 300, "image/png", 1024, 512),
    ]
    await ledger.save_outputs("j1", outputs)
    results = await ledger.job_outputs("j1")
    assert [(r.data, r.mime, r.width, r.height) for r in results] == [
        (o.data, o.mime, o.width, o.height) for o in outputs
    ]
    assert all(r.source == "result:j1" for r in results)
    assert [(r.name, output_of(r.blob or "")) for r in results] == [("", ("j1", 0)), ("", ("j1", 1))]
    assert await ledger.job_outputs("nope") == [] and await ledger.job_inputs("nope") == []

    # A later job reusing an earlier result as its reference shares the stored bytes.
    await ledger.create_job(make_job("j2", parent_id="j1"), (results[0],))
    reused = (await ledger.job_inputs("j2"))[0]
    assert reused.data == outputs[0].data and output_of(reused.blob or "") == ("j1", 0)
    with sqlite3.connect(db_path) as raw:
        assert raw.execute("SELECT COUNT(*) FROM blobs").fetchone()[0] == 4


async def test_unfinished_jobs(ledger: SQLiteLedger) -> None:
    await ledger.create_job(make_job("q", created_at="2026-03-14T10:00:00.000+00:00"), ())
    await ledger.create_job(
        make_job("r", status=JobStatus.RUNNING, created_at="2026-03-14T11:00:00.000+00:00"), ()
    )
    await ledger.create_job(make_job("s"), ())
    await ledger.finish_job("s", JobStatus.SUCCEEDED, delivered=1)
    await ledger.create_job(make_job("f"), ())
    await ledger.finish_job("f", JobStatus.FAILED)
    assert [j.id for j in await ledger.unfinished_jobs()] == ["q", "r"]
    await ledger.update_job("q", status=JobStatus.RUNNING)
    await ledger.finish_job("r", JobStatus.FAILED)
    assert [j.id for j in await ledger.unfinished_jobs()] == ["q"]


async def test_jobs_for_user(ledger: SQLiteLedger) -> None:
    for n in range(5):
        await ledger.create_job(make_job(f"j{n}", created_at=f"2026-03-14T1{n}:00:00.000+00:00"), ())
    await ledger.create_job(make_job("theirs", user_key="discord:7"), ())
    assert [j.id for j in await ledger.jobs_for_user(USER, limit=3)] == ["j4", "j3", "j2"]
    assert [j.id for j in await ledger.jobs_for_user("discord:7")] == ["theirs"]


@pytest.mark.parametrize("mode", ["read", "write", "run"])
async def test_a_file_that_is_no_database_or_a_directory_is_one_line(tmp_path: Path, mode: str) -> None:
    """Both were sqlite3 tracebacks (or "there is no database" for a directory)."""
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is a text file, not a database\n" * 200)
    with pytest.raises(LedgerUnavailable) as not_sqlite:
        await SQLiteLedger(str(junk), daily_limit=5, monthly_limit=50, mode=mode).open()  # type: ignore[arg-type]
    assert not_sqlite.value.user_text == (
        f"can't use the database at {junk} (file is not a database): check SEEDBOT_DATABASE, "
        "or put back a copy from `seedbot backup`"
    )
    assert junk.read_bytes().startswith(b"this is a text file")  # left as it was
    with pytest.raises(LedgerUnavailable) as folder:
        await SQLiteLedger(str(tmp_path), daily_limit=5, monthly_limit=50, mode=mode).open()  # type: ignore[arg-type]
    assert folder.value.user_text == (
        f"SEEDBOT_DATABASE={tmp_path} is a directory: name a file in it, like {tmp_path / 'seedbot.db'}"
    )


async def test_migration_010_gives_an_operator_the_blocks_and_limits_the_shell_set(db_path: str) -> None:
    """A database from before the mark, read as the code marks rows from now on: a block whose
    newest block or unblock came from the shell, limits the shell ever set (a server admin only
    tightened them since); a server admin's block stays theirs, a row with nothing left nobody's."""
    store = SQLiteLedger(db_path, daily_limit=5, monthly_limit=100)
    await store.open()
    await store.close()
    with sqlite3.connect(db_path) as raw:  # back to version 9
        raw.execute("DELETE FROM schema_migrations WHERE version = 10")
        raw.execute("ALTER TABLE quota_limits DROP COLUMN by_operator")
        rows = [
            ("discord:1", 1, None),
            ("discord:2", 1, 1),
            ("discord:3", 0, 2),
            ("discord:4", 0, None),
            ("discord:5", 1, None),
            ("discord:6", 1, None),
        ]
        for user, blocked, daily in rows:
            raw.execute(
                "INSERT INTO quota_limits (user_key, daily, blocked, updated_at) VALUES (?, ?, ?, '')",
                (user, daily, blocked),
            )
        audit = [
            ("cli:root", "quota.block", "discord:1"),
            ("cli:root", "quota.block", "discord:2"),
            ("discord:9", "quota.set", "discord:2"),  # a server admin tightened it since
            ("cli:root", "quota.set", "discord:3"),
            ("discord:9", "quota.set", "discord:3"),
            ("cli:root", "quota.unblock", "discord:4"),
            ("discord:9", "quota.block", "discord:5"),  # a server admin's own block
            ("cli:root", "quota.block", "discord:6"),
            ("discord:9", "quota.unblock", "discord:6"),  # lifted (before the mark), blocked again
            ("discord:9", "quota.block", "discord:6"),
        ]
        raw.executemany("INSERT INTO admin_audit (at, actor, action, target) VALUES ('', ?, ?, ?)", audit)
    store = SQLiteLedger(db_path, daily_limit=5, monthly_limit=100)
    await store.open()
    try:
        marked = {user: (await store.quota(user)).by_operator for user, *_ in rows}
    finally:
        await store.close()
    assert marked == {
        "discord:1": True,
        "discord:2": True,
        "discord:3": True,
        "discord:4": False,
        "discord:5": False,
        "discord:6": False,
    }


@pytest.mark.parametrize(
    ("error", "down"),
    [
        (sqlite3.OperationalError("database is locked"), True),
        (sqlite3.OperationalError("database or disk is full"), True),
        (sqlite3.OperationalError("attempt to write a readonly database"), True),
        (sqlite3.OperationalError("disk I/O error"), True),
        (sqlite3.DatabaseError("database disk image is malformed"), True),
        (ConnectionRefusedError(111, "Connect call failed"), True),
        (asyncpg.CannotConnectNowError("the database system is starting up"), True),
        (asyncpg.TooManyConnectionsError("sorry, too many clients already"), True),
        (
            asyncpg.ObjectNotInPrerequisiteStateError('database "x" is not currently accepting connections'),
            True,
        ),
        (asyncpg.UndefinedColumnError('column "b" does not exist'), False),
        (asyncpg.CharacterNotInRepertoireError("invalid byte sequence"), False),
        (sqlite3.OperationalError("no such column: b"), False),  # a bug: its traceback stays
        (sqlite3.IntegrityError("FOREIGN KEY constraint failed"), False),
        (sqlite3.ProgrammingError("Incorrect number of bindings supplied"), False),
        (FileNotFoundError(2, "No such file or directory"), False),
    ],
)
def test_the_database_is_down_only_when_it_says_so(error: Exception, down: bool) -> None:
    """Every sqlite3, asyncpg and OS error counted as an outage: a wrong statement was one
    line without its traceback, retried for ever and reported by /healthz as writes failing."""
    assert database_down(error) is down

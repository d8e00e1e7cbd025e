"""Quotas stay exact across processes: two Python processes, each with its own connection pool
and 100 concurrent reservations for the same user, against one PostgreSQL database."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from bot.errors import LedgerUnavailable
from bot.ledger import PostgresLedger
from bot.request.models import ImageInput, JobStatus
from tests.ledger.cluster import Cluster
from tests.ledger.helpers import make_job

ROOT = Path(__file__).resolve().parents[2]

WORKER = """
import asyncio, json, sys, time
from bot.errors import QuotaExceeded
from bot.ledger import PostgresLedger

async def main(dsn: str, start_at: float) -> None:
    store = PostgresLedger(dsn, daily_limit=5, monthly_limit=100, min_connections=10, max_connections=10)
    await store.open()
    try:
        await asyncio.sleep(max(0.0, start_at - time.time()))  # both processes fire together

        async def one() -> int | None:
            try:
                reservation = await store.reserve("discord:42", 1)
            except QuotaExceeded:
                return None
            await store.settle(reservation.id, 1)
            return reservation.id

        results = await asyncio.gather(*(one() for _ in range(100)))
        print(json.dumps([r for r in results if r is not None]))
    finally:
        await store.close()

asyncio.run(main(sys.argv[1], float(sys.argv[2])))
"""


async def test_two_processes_share_the_quota_exactly(pg_dsn: str) -> None:
    # Migrate first, so both workers race on the reservations rather than on the schema.
    store = PostgresLedger(pg_dsn, daily_limit=5, monthly_limit=100)
    await store.open()
    await store.close()

    start_at = time.time() + 2.0
    workers = [
        subprocess.Popen(  # noqa: S603 - this interpreter, a fixed script
            [sys.executable, "-c", WORKER, pg_dsn, str(start_at)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    granted: list[int] = []
    for worker in workers:
        out, err = worker.communicate(timeout=60)
        assert worker.returncode == 0, err
        granted += json.loads(out)
    assert len(granted) == 5 and len(set(granted)) == 5

    conn = await asyncpg.connect(pg_dsn)
    try:
        assert await conn.fetchval("SELECT COUNT(*) FROM reservations") == 5
        assert await conn.fetchval("SELECT SUM(used) FROM reservations WHERE state = 'settled'") == 5
        assert await conn.fetchval("SELECT SUM(used) FROM quota_usage WHERE period LIKE 'd:%'") == 5
    finally:
        await conn.close()


async def test_a_database_that_cannot_be_reached_is_one_line_without_the_password(
    pg_cluster: Cluster,
) -> None:
    """A wrong database name, a closed port, a port out of range: LedgerUnavailable (the CLI and
    `seedbot run` print it as one line), naming host, port and database, never the password."""
    port = pg_cluster.port
    for dsn, says in (
        (f"postgresql://postgres:hunter2@127.0.0.1:{port}/no_such_db", f"127.0.0.1:{port}/no_such_db"),
        ("postgresql://postgres:hunter2@127.0.0.1:1/seedbot", "127.0.0.1:1/seedbot"),
        ("postgresql://postgres:hunter2@127.0.0.1:99999/seedbot", "127.0.0.1:99999/seedbot"),
    ):
        store = PostgresLedger(dsn, daily_limit=5, monthly_limit=100)
        with pytest.raises(LedgerUnavailable) as refused:
            await store.open()
        text = refused.value.user_text
        assert text.startswith("could not connect to PostgreSQL at ") and says in text, text
        assert "hunter2" not in text and "\n" not in text


@pytest.mark.parametrize("password", ["k3Zq/Wp9+vLr8Q==", "Qz7#Xv9", "Qz7?Xv9", "Qz7[Xv9", "Qz7]Xv9"])
async def test_a_password_with_reserved_characters_is_never_printed(password: str) -> None:
    """A / ? or # in the password ended urlsplit's host early, so its start was printed as the
    host (and asyncpg's own error quoted it as a port); a bracket was a ValueError traceback."""
    store = PostgresLedger(
        f"postgresql://seedbot:{password}@127.0.0.1:1/seedbot", daily_limit=5, monthly_limit=9
    )
    with pytest.raises(LedgerUnavailable) as refused:
        await store.open()
    text = refused.value.user_text
    assert text.startswith("could not connect to PostgreSQL at 127.0.0.1:1/seedbot (SEEDBOT_DATABASE): ")
    assert "percent-encode" in text and "%2F" in text, text
    assert not any(part in text for part in ("k3Zq", "Wp9", "Qz7", "Xv9"))


async def test_a_url_asyncpg_cannot_parse_is_not_quoted() -> None:
    """asyncpg's "bad query field: '...'" quotes the URL; the line says how to write one."""
    store = PostgresLedger("postgresql://u:pw@127.0.0.1:1/seedbot?sekrit", daily_limit=5, monthly_limit=9)
    with pytest.raises(LedgerUnavailable) as refused:
        await store.open()
    assert "sekrit" not in refused.value.user_text
    assert "postgresql://USER:PASSWORD@HOST:PORT/DB" in refused.value.user_text


async def test_retention_and_a_new_job_on_the_same_image_never_break_the_new_job(pg_dsn: str) -> None:
    """The hourly pass deleting an expired job's image while another process creates a job with
    the same image (sent again, or an old result edited): one in six such jobs failed on the
    blobs foreign key (the conflicting insert took no lock), and the person saw "something went
    wrong". SQLite serialises the two."""
    image = ImageInput(
        data=b"\x89PNG\r\n\x1a\n" + b"z" * 200_000, mime="image/png", width=8, height=8, name="x.png"
    )
    expiring = PostgresLedger(pg_dsn, daily_limit=5, monthly_limit=5)
    creating = PostgresLedger(pg_dsn, daily_limit=5, monthly_limit=5)
    await expiring.open()
    await creating.open()
    month_ago = datetime.now(UTC) - timedelta(days=30)
    try:
        failures = []
        for n in range(60):
            old = make_job(f"old{n}", created_at=(datetime.now(UTC) - timedelta(days=40)).isoformat())
            await expiring.create_job(old, (image,))
            await expiring.finish_job(old.id, JobStatus.SUCCEEDED, delivered=1)
            made, _ = await asyncio.gather(
                creating.create_job(make_job(f"new{n}"), (image,)),
                expiring.expire_images(month_ago),
                return_exceptions=True,
            )
            if isinstance(made, BaseException):
                failures.append(repr(made))
            else:  # its image is still there for it
                assert len(await creating.job_inputs(f"new{n}")) == 1
            # The next round starts without the blob: the new job expires too.
            await expiring.finish_job(f"new{n}", JobStatus.SUCCEEDED, delivered=1)
            await expiring.pool.execute(
                "UPDATE jobs SET created_at = now() - interval '40 days' WHERE id = $1", f"new{n}"
            )
            await expiring.expire_images(month_ago)
        assert failures == []
    finally:
        await expiring.close()
        await creating.close()

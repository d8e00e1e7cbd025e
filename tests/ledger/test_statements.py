"""What a job costs the SQLite ledger (issue 17): each call below is one trip to aiosqlite's
thread and back, so a job's life is kept to few of them, each a single statement in autocommit
where one statement is atomic on its own, a transaction only where several must hold together."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.ledger import SQLiteLedger
from bot.ledger import base as ledger_base
from bot.ledger.sqlite import PAGE_SIZE
from bot.request.models import GeneratedImage, ImageInput, JobStatus
from tests.ledger.test_sqlite import USER, make_job


@pytest.fixture
async def ledger(tmp_path: Path) -> AsyncIterator[SQLiteLedger]:
    store = SQLiteLedger(str(tmp_path / "ledger.db"), daily_limit=5, monthly_limit=100)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


class Statements:
    """Every statement the ledger sends to its connection, in order."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, store: SQLiteLedger) -> None:
        self.sent: list[str] = []
        for db in {store.db, store.reader}:  # the writer's connection, and the reader's
            for name in ("execute", "execute_fetchall", "executemany", "executescript"):
                original = getattr(db, name)
                monkeypatch.setattr(db, name, self._recording(original))

    def _recording(self, original: Any) -> Any:
        def call(sql: str, *args: Any, **kwargs: Any) -> Any:
            self.sent.append(" ".join(sql.split()))
            return original(sql, *args, **kwargs)

        return call

    def kinds(self) -> list[str]:
        return [s.split(" ", 1)[0] for s in self.sent]


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch, ledger: SQLiteLedger) -> Iterator[Statements]:
    yield Statements(monkeypatch, ledger)


def image(seed: int, size: int = 64) -> GeneratedImage:
    return GeneratedImage(bytes([seed]) * size, "image/jpeg", 8, 8)


async def test_a_jobs_life_takes_few_trips(ledger: SQLiteLedger, statements: Statements) -> None:
    reservation = await ledger.reserve(USER, 2)
    await ledger.create_job(make_job("j1", reservation_id=reservation.id), ())
    await ledger.update_job("j1", status=JobStatus.RUNNING)
    await ledger.update_job("j1", provider="demo")
    await ledger.save_outputs("j1", [image(1), image(2)])
    await ledger.link_messages("j1", "discord", ["m1", "m2", "m3"])
    assert await ledger.settle_job(
        "j1", "me", JobStatus.SUCCEEDED, reservation_id=reservation.id, used=2, delivered=2
    )
    assert statements.kinds() == [
        "INSERT",  # reserve
        "INSERT",  # the job
        "UPDATE",  # running
        "UPDATE",  # its provider
        "BEGIN",  # the images (both at once) and the rows pointing at them
        "INSERT",
        "INSERT",
        "COMMIT",
        "INSERT",  # three messages linked
        "BEGIN",  # closed, and its reservation settled, together
        "UPDATE",
        "UPDATE",
        "COMMIT",
    ]
    job = await ledger.get_job("j1")
    assert job is not None
    assert (job.status, job.images_delivered, job.result_message_ids) == (
        JobStatus.SUCCEEDED,
        2,
        ("m1", "m2", "m3"),
    )
    assert [i.data for i in await ledger.job_outputs("j1")] == [image(1).data, image(2).data]
    assert (await ledger.quota(USER)).day_used == 2


async def test_quota_is_one_statement_and_reads_what_it_did(
    ledger: SQLiteLedger, statements: Statements
) -> None:
    await ledger.set_limits(USER, daily=7, monthly=None)
    await ledger.grant(USER, 3)
    await ledger.settle((await ledger.reserve(USER, 4)).id, 4)
    before = len(statements.sent)
    status = await ledger.quota(USER)
    assert len(statements.sent) - before == 1
    assert (status.day_used, status.month_used, status.day_limit, status.month_limit, status.granted) == (
        4,
        4,
        10,
        103,  # today's grant counts toward both limits
        3,
    )
    assert not status.blocked
    unknown = await ledger.quota("discord:nobody")
    assert (unknown.day_used, unknown.day_limit, unknown.month_limit, unknown.granted) == (0, 5, 100, 0)


async def test_settling_a_job_taken_over_changes_nothing(ledger: SQLiteLedger) -> None:
    reservation = await ledger.reserve(USER, 1)
    await ledger.create_job(make_job("j1", reservation_id=reservation.id), ())
    assert await ledger.claim_job("j1", "other", 30)
    assert not await ledger.settle_job("j1", "me", JobStatus.SUCCEEDED, reservation_id=reservation.id, used=1)
    job = await ledger.get_job("j1")
    assert job is not None and job.status == JobStatus.QUEUED
    assert await ledger.open_reservations() == 1


async def test_duration_is_counted_from_the_jobs_creation(ledger: SQLiteLedger) -> None:
    await ledger.create_job(make_job("j1"), ())
    await ledger.db.execute(
        "UPDATE jobs SET created_at = strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now', '-1.5 seconds') WHERE id = 'j1'"
    )
    assert await ledger.settle_job("j1", "me", JobStatus.FAILED, reservation_id=None, error_kind="timeout")
    job = await ledger.get_job("j1")
    assert job is not None and job.duration_ms is not None
    assert 1500 <= job.duration_ms < 2500
    assert (job.status, job.error_kind) == (JobStatus.FAILED, "timeout")


async def test_inputs_are_kept_under_their_sha256_and_results_under_their_job(ledger: SQLiteLedger) -> None:
    ref = ImageInput(data=b"ref" * 50, mime="image/png", width=4, height=4, name="cat.png")
    await ledger.create_job(make_job("j1"), (ref, ref))
    await ledger.save_outputs("j1", [image(5), image(5)])
    rows = await ledger.db.execute_fetchall("SELECT sha256, data FROM blobs ORDER BY sha256")
    assert sorted((r[0], bytes(r[1])) for r in rows) == sorted(
        [(hashlib.sha256(ref.data).hexdigest(), ref.data)]  # the same upload twice: kept once
        + [(f"result:j1:{n}", image(5).data) for n in (0, 1)]
    )
    assert [i.name for i in await ledger.job_inputs("j1")] == ["cat.png", "cat.png"]
    assert len(await ledger.job_outputs("j1")) == 2


async def test_large_blobs_are_hashed_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[str] = []
    original = ledger_base._sha256

    def noting(datas: Any) -> list[str]:
        threads.append(threading.current_thread().name)
        return original(datas)

    monkeypatch.setattr(ledger_base, "_sha256", noting)
    small, large = b"s" * 1000, b"L" * (ledger_base.INLINE_HASH_BYTES + 1)
    assert await ledger_base.digests([small]) == [hashlib.sha256(small).hexdigest()]
    assert await ledger_base.digests([large]) == [hashlib.sha256(large).hexdigest()]
    main = threading.current_thread().name
    assert threads[0] == main and threads[1] != main
    assert asyncio.get_running_loop().is_running()


async def test_a_new_file_gets_large_pages_and_an_old_one_keeps_its_own(tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    with sqlite3.connect(old) as raw:  # a database made before: 4 KiB pages
        raw.execute("PRAGMA page_size=4096")
        raw.execute("CREATE TABLE t (x)")
    for path, expected in ((tmp_path / "new.db", PAGE_SIZE), (old, 4096)):
        store = SQLiteLedger(str(path), daily_limit=5, monthly_limit=100)
        await store.open()
        try:
            [(size,)] = await store.db.execute_fetchall("PRAGMA page_size")
            [(mode,)] = await store.db.execute_fetchall("PRAGMA journal_mode")
            await store.create_job(make_job("j1"), ())
            await store.save_outputs("j1", [image(9, size=100_000)])
            assert len(await store.job_outputs("j1")) == 1
        finally:
            await store.close()
        assert (size, mode) == (expected, "wal")


async def test_a_jobs_reads_do_not_wait_behind_the_writers_work(ledger: SQLiteLedger) -> None:
    await ledger.set_workspace_settings("discord:g1", {"model": "4.5"})
    await ledger.settle((await ledger.reserve(USER, 2)).id, 2)
    assert ledger.reader is not ledger.db
    # Something long on the writer's connection (as a burst of 3 MB image writes is).
    busy = asyncio.ensure_future(
        ledger.db.execute_fetchall(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) "
            "SELECT count(*) FROM c"
        )
    )
    await asyncio.sleep(0.01)
    status = await ledger.quota(USER)
    settings = await ledger.workspace_settings("discord:g1")
    assert not busy.done()  # both answered while the writer was still at it
    assert (status.day_used, settings) == (2, {"model": "4.5"})
    [(counted,)] = [tuple(row) for row in await busy]
    assert counted == 3000000


async def test_the_reader_cannot_write(ledger: SQLiteLedger) -> None:
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        await ledger.reader.execute("DELETE FROM jobs")

"""Ledger tests against both backends: a SQLite file and a real PostgreSQL server.

The session starts one throwaway cluster (initdb + pg_ctl on a temporary directory, see
cluster.py) and stops it at the end; each test gets a fresh database in it. PostgreSQL missing
is a failure with a clear message, never a skip: CI installs it (.ci/run).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.ledger import Ledger, PostgresLedger, SQLiteLedger
from tests.ledger_pg.cluster import Cluster, PostgresMissing

BACKENDS = ["sqlite", "postgres"]

MakeLedger = Callable[..., Awaitable[Any]]


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    try:
        cluster = Cluster(settings={"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"})
    except PostgresMissing as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        cluster.start()
    except Exception as exc:
        cluster.stop()
        pytest.fail(f"could not start a throwaway PostgreSQL cluster: {exc}", pytrace=False)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def pg_dsn(pg_cluster: Cluster) -> str:
    """A fresh, empty database for one test."""
    return pg_cluster.create_database()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where the ledgers of one test live: a SQLite file path or a PostgreSQL URL."""
    if backend == "postgres":
        return str(request.getfixturevalue("pg_dsn"))
    return str(tmp_path / "ledger.db")


@pytest.fixture
async def make_ledger(backend: str, database: str) -> AsyncIterator[MakeLedger]:
    """Open another ledger on the test's database (each one its own connection or pool: a stand-in
    for another bot process)."""
    opened: list[Ledger] = []

    async def make(daily: int = 5, monthly: int = 100, **kw: Any) -> Any:
        store: SQLiteLedger | PostgresLedger
        if backend == "postgres":
            store = PostgresLedger(database, daily_limit=daily, monthly_limit=monthly, **kw)
        else:
            store = SQLiteLedger(database, daily_limit=daily, monthly_limit=monthly, **kw)
        await store.open()
        opened.append(store)
        return store

    try:
        yield make
    finally:
        for store in opened:
            await store.close()


@pytest.fixture
async def ledger(make_ledger: MakeLedger) -> Any:
    return await make_ledger()

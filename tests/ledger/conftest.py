"""Ledger tests against both backends: a SQLite file and a real PostgreSQL server.

The PostgreSQL side is the session's throwaway cluster (`pg_cluster` and `pg_dsn` in
tests/conftest.py, as the engine's lease tests and the replica tests use it too); each test gets a
fresh database in it. Here too PostgreSQL missing is a failure, never a skip.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from bot.ledger import Ledger, PostgresLedger, SQLiteLedger

MakeLedger = Callable[..., Awaitable[Any]]


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

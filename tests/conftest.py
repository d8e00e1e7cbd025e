"""Shared fixtures. Every test starts from a clean environment: no developer .env or
exported keys leak into settings (tests build Settings explicitly)."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.botproc import SETTING_PREFIXES, BotGroup
from tests.daybreak import seconds_to_wait
from tests.ledger.cluster import Cluster, PostgresMissing


@pytest.fixture(autouse=True)
def clean_environ(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith(SETTING_PREFIXES):
            monkeypatch.delenv(name)
    # Relative paths (./seedbot.db, .env) resolve in a scratch directory, never the repo.
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))
    yield


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """One throwaway PostgreSQL cluster for the session (initdb + pg_ctl on a temporary directory,
    tests/ledger/cluster.py), for the ledger, lease and replica tests. PostgreSQL missing is a
    failure with a clear message, never a skip: CI installs it (.ci/run)."""
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


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    """A test that takes `backend` or `database` runs once on each ledger."""
    return str(request.param)


@pytest.fixture
def database(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where the ledgers of one test live: a SQLite file path or a PostgreSQL URL."""
    if backend == "postgres":
        return str(request.getfixturevalue("pg_dsn"))
    return str(tmp_path / "ledger.db")


@pytest.fixture
async def bot_group(request: pytest.FixtureRequest) -> AsyncIterator[BotGroup]:
    """The bot processes a test starts (tests/botproc.py): stopped at teardown, their logs
    printed if the test failed."""
    bots = BotGroup()
    yield bots
    report = getattr(request.node, "rep_call", None)
    await bots.close(print_logs=report is None or report.failed)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    """Start each test where it can end on the same UTC day (tests/daybreak.py), before its
    set-up and before pytest-timeout's timer, which counts the set-up too (a wait in a fixture
    timed out the 30-second tests)."""
    time.sleep(seconds_to_wait(datetime.now(UTC)))
    return (yield)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    """Each phase's report on the item (`rep_setup`, `rep_call`, ...), for fixtures to look at."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Stop any aiosqlite worker left open, so a leak fails loudly instead of hanging CI.

    aiosqlite's worker threads are not daemons: one unclosed connection would keep the
    interpreter from exiting after the last test.
    """
    import gc
    import warnings

    import aiosqlite

    leaked = [obj for obj in gc.get_objects() if isinstance(obj, aiosqlite.Connection) and obj._running]
    for conn in leaked:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            conn.stop()
    if leaked:
        print(f"\nconftest: stopped {len(leaked)} aiosqlite connection(s) a test left open")

"""Shared fixtures. Every test starts from a clean environment: no developer .env or
exported keys leak into settings (tests build Settings explicitly)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

_PREFIXES = ("SEEDBOT_", "NOVITA_", "SEGMIND_", "APIFRAME_", "MODELLIX_", "DISCORD_", "SLACK_")


@pytest.fixture(autouse=True)
def clean_environ(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith(_PREFIXES):
            monkeypatch.delenv(name)
    # Relative paths (./seedbot.db, .env) resolve in a scratch directory, never the repo.
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))
    yield


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

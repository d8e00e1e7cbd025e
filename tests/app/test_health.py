"""/healthz and /metrics scraped over HTTP from a HealthServer on a real runtime (demo provider)."""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path

import httpx
import pytest

from bot.app.health import HealthServer
from bot.app.runtime import open_runtime
from bot.errors import ProviderError, ProviderErrorKind, QuotaExceeded, SeedbotError
from bot.ledger import SQLiteLedger
from tests.app.helpers import ALICE, SlowProvider, deliver_all, fox, open_engine, settings


class FakePlatform:
    def __init__(self, name: str, ready: bool = True) -> None:
        self.name = name
        self.ready = ready


class PlatformWithoutReady:
    name = "slack"


async def test_healthz_and_metrics_over_http(tmp_path: Path) -> None:
    config = settings(tmp_path, daily_images=3, http_port=0)
    async with open_runtime(config) as runtime:
        health = HealthServer(runtime, 0, host="127.0.0.1")
        await health.start()
        try:
            base = f"http://127.0.0.1:{health.port}"
            async with httpx.AsyncClient(base_url=base) as http:
                # Before the platforms are started: not ready yet.
                starting = await http.get("/healthz")
                assert starting.status_code == 503 and "starting" in starting.json()["down"]

                discord = FakePlatform("discord")
                health.set_platforms([discord, PlatformWithoutReady()])
                ok = await http.get("/healthz")
                assert ok.status_code == 200, ok.text
                assert ok.json()["status"] == "ok"
                assert ok.json()["checks"] == {
                    "database": "ok",
                    "platform:discord": "ok",
                    "platform:slack": "ok",
                }

                discord.ready = False
                down = await http.get("/healthz")
                assert down.status_code == 503
                assert down.json()["down"] == ["platform:discord"]
                assert down.json()["checks"]["platform:discord"] == "not connected"
                discord.ready = True

                # Work, then scrape.
                await runtime.engine.generate(fox(count=2), ALICE, deliver=deliver_all)
                with pytest.raises(QuotaExceeded):
                    await runtime.engine.generate(fox(count=2), ALICE, deliver=deliver_all)
                metrics = await http.get("/metrics")
                assert metrics.status_code == 200
                assert metrics.headers["content-type"].startswith("text/plain; version=0.0.4")
                text = metrics.text
                for line in (
                    'seedbot_jobs_total{provider="demo",status="succeeded"} 1.0',
                    'seedbot_images_delivered_total{platform="discord"} 2.0',
                    'seedbot_generation_seconds_count{provider="demo"} 1.0',
                    'seedbot_quota_refusals_total{scope="daily"} 1.0',
                    "seedbot_queue_depth 0.0",
                    "seedbot_jobs_running 0.0",
                ):
                    assert line in text, line
                assert "# TYPE seedbot_generation_seconds histogram" in text

                # The database stops answering: 503 naming it.
                await runtime.ledger.close()
                db_down = await http.get("/healthz")
                assert db_down.status_code == 503
                assert db_down.json()["down"] == ["database"]
                assert db_down.json()["checks"]["database"] != "ok"
                await runtime.ledger.open()

                # Shutting down: no longer healthy, so load balancers stop sending work.
                runtime.engine.draining = True
                draining = await http.get("/healthz")
                assert draining.status_code == 503 and draining.json()["down"] == ["shutting down"]
                runtime.engine.draining = False
        finally:
            await health.close()


async def test_healthz_is_down_while_the_database_cannot_write(tmp_path: Path) -> None:
    """SQLite still reads (WAL) while another process holds its write lock past the busy timeout
    (or its disk is full): the read probe said "ok" while every job failed."""
    async with open_runtime(settings(tmp_path)) as runtime:
        health = HealthServer(runtime, 0, host="127.0.0.1")
        health.set_platforms([FakePlatform("discord")])
        ledger = runtime.ledger
        assert isinstance(ledger, SQLiteLedger)
        await ledger.db.execute("PRAGMA busy_timeout=50")  # not the 10 s a real one waits
        other = sqlite3.connect(tmp_path / "bot.db", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                await runtime.engine.generate(fox(), ALICE, deliver=deliver_all)
            ok, body = await health.status()
            assert not ok and body["down"] == ["database"]
            assert body["checks"]["database"].startswith("writes failing since ")
            assert body["checks"]["database"].endswith(" UTC: OperationalError: database is locked")
        finally:
            other.execute("ROLLBACK")
            other.close()
        await runtime.engine.generate(fox(), ALICE, deliver=deliver_all)  # writes again
        ok, body = await health.status()
        assert ok and body["checks"]["database"] == "ok"


async def test_provider_errors_are_counted_by_kind(tmp_path: Path) -> None:
    config = settings(tmp_path)
    provider = SlowProvider(config, error=ProviderError("slow", ProviderErrorKind.MODERATION, status=400))
    provider.go.set()
    h = await open_engine(config, provider)
    try:
        with pytest.raises(ProviderError):
            await h.engine.generate(fox(), ALICE, deliver=deliver_all)
        text = h.engine.metrics.render().decode()
        assert 'seedbot_provider_errors_total{kind="moderation",provider="slow"} 1.0' in text
        assert 'seedbot_jobs_total{provider="slow",status="failed"} 1.0' in text
    finally:
        await h.close()


async def test_metrics_do_not_leak_between_engines(tmp_path: Path) -> None:
    config = settings(tmp_path)
    for _ in range(2):  # each engine owns its registry: the second starts from zero
        async with open_runtime(config) as runtime:
            await runtime.engine.generate(fox(), ALICE, deliver=deliver_all)
            text = runtime.engine.metrics.render().decode()
            assert 'seedbot_jobs_total{provider="demo",status="succeeded"} 1.0' in text


async def test_a_port_in_use_is_one_line(tmp_path: Path) -> None:
    """An OSError traceback before: `seedbot run` prints this line and exits 1."""
    async with open_runtime(settings(tmp_path)) as runtime:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            health = HealthServer(runtime, port, host="127.0.0.1")
            with pytest.raises(SeedbotError) as refused:
                await health.start()
            await health.close()
    assert refused.value.user_text == (
        f"could not listen on port {port} (SEEDBOT_HTTP_PORT): Address already in use: "
        "set SEEDBOT_HTTP_PORT to another port"
    )

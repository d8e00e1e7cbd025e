"""What `open_runtime` (bot/app/runtime.py) builds from settings: the ledger the database names,
the providers in routing order, the demo provider (and its warning) when no key is set, one HTTP
client sized for the concurrency; and that leaving it closes the ledger and the client, after
the engine's background work. Offline: a SQLite file under tmp_path, no provider is called."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from bot.app.runtime import HTTP_TIMEOUT, Runtime, http_limits, open_runtime
from bot.errors import LedgerUnavailable
from bot.ledger import SQLiteLedger
from tests.app.helpers import settings

DEMO_WARNING = "no provider key is configured: running on the offline demo provider"


def demo_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.name == "bot.app.runtime" and r.levelno == logging.WARNING
    ]


async def test_a_file_path_opens_a_sqlite_ledger_with_the_settings_limits(tmp_path: Path) -> None:
    config = settings(tmp_path, daily_images=7, monthly_images=70)
    async with open_runtime(config) as runtime:
        ledger = runtime.ledger
        assert isinstance(ledger, SQLiteLedger)
        assert (ledger.path, ledger.mode) == (str(tmp_path / "bot.db"), "write")
        assert (ledger.daily_limit, ledger.monthly_limit) == (7, 70)
        assert (await ledger.quota("discord:1")).day_limit == 7
    assert (tmp_path / "bot.db").is_file()


async def test_mode_run_holds_the_database_for_this_process_until_closed(tmp_path: Path) -> None:
    config = settings(tmp_path)
    async with open_runtime(config, mode="run") as runtime:
        assert runtime.ledger.mode == "run"  # type: ignore[attr-defined]
        with pytest.raises(LedgerUnavailable, match="another seedbot"):
            async with open_runtime(config, mode="run"):
                pass
    async with open_runtime(config, mode="run") as again:  # the first one let go of it
        assert await again.ledger.quota("discord:1")


async def test_the_configured_providers_are_routed_in_their_order(tmp_path: Path) -> None:
    config = settings(
        tmp_path,
        providers="fal,ark,replicate",
        fal_api_key="fal-key",
        ark_api_key="ark-key",
        novita_api_key="novita-key",
        provider_retries=1,
        provider_deadline=42.0,
    )
    async with open_runtime(config) as runtime:
        router = runtime.engine.router
        assert [p.name for p in router.providers] == ["fal", "ark"]  # replicate has no key
        assert (router.retries, router.deadline) == (1, 42.0)
        assert router.absent["replicate"] == "set REPLICATE_API_TOKEN"
        assert router.absent["novita"] == "add it to SEEDBOT_PROVIDERS"  # keyed, not listed
        assert "fal" not in router.absent


async def test_without_a_key_the_demo_provider_runs_and_a_warning_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with open_runtime(settings(tmp_path)) as runtime:
        assert [p.name for p in runtime.engine.router.providers] == ["demo"]
    assert demo_warnings(caplog) == [DEMO_WARNING]


async def test_warn_demo_false_leaves_telling_the_user_to_the_caller(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with open_runtime(settings(tmp_path), warn_demo=False) as runtime:
        assert [p.name for p in runtime.engine.router.providers] == ["demo"]
    assert demo_warnings(caplog) == []


async def test_demo_chosen_while_a_key_is_set_is_not_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with open_runtime(settings(tmp_path, providers="demo", novita_api_key="novita-key")) as runtime:
        assert [p.name for p in runtime.engine.router.providers] == ["demo"]
    assert demo_warnings(caplog) == []


async def test_the_pieces_share_one_http_client_one_ledger_and_the_settings(tmp_path: Path) -> None:
    config = settings(tmp_path, allow_private_network=True, image_retention_days=9)
    async with open_runtime(config) as runtime:
        assert runtime.http.headers["User-Agent"] == "seedbot/0.1"
        assert runtime.http.timeout == HTTP_TIMEOUT
        assert runtime.fetcher.client is runtime.http and runtime.fetcher.allow_private
        assert runtime.engine.settings is config and runtime.engine.ledger is runtime.ledger
        conversation = runtime.conversation
        assert conversation.engine is runtime.engine and conversation.ledger is runtime.ledger
        assert conversation.fetcher is runtime.fetcher
        assert runtime.retention.days == 9 and runtime.retention.ledger is runtime.ledger
        assert runtime.playground is False
    async with open_runtime(settings(tmp_path)) as runtime:
        assert runtime.fetcher.allow_private is False


def test_the_connection_pool_keeps_two_per_slot_and_never_fewer_than_100(tmp_path: Path) -> None:
    small = http_limits(settings(tmp_path, max_concurrency=8))
    assert (small.max_connections, small.max_keepalive_connections) == (100, 100)
    large = http_limits(settings(tmp_path, max_concurrency=300))
    assert (large.max_connections, large.max_keepalive_connections) == (600, 600)
    assert large.keepalive_expiry == 30.0


async def test_leaving_waits_for_background_work_then_closes_the_ledger_and_client(tmp_path: Path) -> None:
    """A resumed job runs in the engine's background set and writes to the ledger: closing the
    ledger under it would fail it with "ledger is not open"."""
    async with open_runtime(settings(tmp_path)) as runtime:

        async def resumed_job() -> int | None:
            await asyncio.sleep(0.05)
            return (await runtime.ledger.quota("discord:1")).day_limit

        task = asyncio.create_task(resumed_job())
        runtime.engine._background.add(task)
    assert task.done() and task.result() == 20
    assert runtime.http.is_closed
    with pytest.raises(RuntimeError, match="ledger is not open"):
        await runtime.ledger.quota("discord:1")


async def test_the_ledger_is_closed_when_the_body_raises(tmp_path: Path) -> None:
    config = settings(tmp_path)
    with pytest.raises(ValueError, match="boom"):
        async with open_runtime(config, mode="run") as runtime:
            raise ValueError("boom")
    assert runtime.http.is_closed
    with pytest.raises(RuntimeError, match="ledger is not open"):
        await runtime.ledger.quota("discord:1")
    async with open_runtime(config, mode="run"):  # and its hold on the file released
        pass


async def test_when_the_body_raises_background_work_gets_the_grace_then_is_cancelled(tmp_path: Path) -> None:
    """A platform that refused its token after recovery resumed a job: the ledger was closed
    under the job's settle ("ledger is not open", its refund lost until the next start)."""
    written: list[int] = []

    async def settle(runtime: Runtime) -> None:
        await asyncio.sleep(0.05)
        written.append((await runtime.ledger.quota("discord:1")).day_limit)

    async def stuck() -> None:
        await asyncio.sleep(3600)

    with pytest.raises(ValueError, match="refused"):
        async with open_runtime(settings(tmp_path, shutdown_grace=0.5)) as runtime:
            runtime.engine.in_background(settle(runtime))
            runtime.engine.in_background(stuck())
            raise ValueError("refused")
    assert written == [20]
    assert not runtime.engine._background  # the stuck one cancelled after the grace

"""Everything a running seedbot holds, built once from settings and closed in order."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx

from bot.app.http_pool import SeedbotHTTPClient
from bot.config import Settings
from bot.conversation.conversation import Conversation
from bot.engine.pipeline import Engine
from bot.ledger import Ledger, OpenMode, open_ledger
from bot.ledger.retention import ImageRetention
from bot.media.fetch import SafeFetcher
from bot.providers.registry import absent_providers, build_providers, keyed_providers
from bot.providers.router import Router

__all__ = ["Runtime", "open_runtime"]

log = logging.getLogger(__name__)

# Providers answer a 2K image in ~25 s; sync ones hold the request open that long.
HTTP_TIMEOUT = httpx.Timeout(connect=10.0, read=180.0, write=60.0, pool=60.0)


def http_limits(settings: Settings) -> httpx.Limits:
    # Every job in flight holds a provider call, then a few result downloads. Idle connections
    # are kept as many (for the next burst) for 30 s: the pool (bot/app/http_pool.py) does not
    # scan them per request, as httpcore's own does.
    connections = max(100, settings.max_concurrency * 2)
    return httpx.Limits(
        max_connections=connections, max_keepalive_connections=connections, keepalive_expiry=30.0
    )


@dataclass
class Runtime:
    settings: Settings
    http: httpx.AsyncClient
    fetcher: SafeFetcher
    ledger: Ledger
    engine: Engine
    retention: ImageRetention
    # `seedbot run` with no chat platform configured: the web plug-in serves the playground.
    playground: bool = False
    # What surfaces call: every user action, decided once (bot.conversation).
    conversation: Conversation = field(init=False)

    def __post_init__(self) -> None:
        self.conversation = Conversation(self.engine, self.ledger, self.fetcher)


@asynccontextmanager
async def open_runtime(
    settings: Settings, *, mode: OpenMode = "write", warn_demo: bool = True
) -> AsyncIterator[Runtime]:
    """Everything `seedbot run` and `generate` need. `mode` "run" (`seedbot run`) makes a SQLite
    ledger this process's alone; `warn_demo=False`: the caller tells the user about the demo
    provider itself (`generate` prints a note with its results)."""
    async with SeedbotHTTPClient(
        timeout=HTTP_TIMEOUT, limits=http_limits(settings), headers={"User-Agent": "seedbot/0.1"}
    ) as http:
        fetcher = SafeFetcher(http, allow_private=settings.allow_private_network)
        router = Router(
            build_providers(settings, http, fetcher),
            retries=settings.provider_retries,
            deadline=settings.provider_deadline,
            absent=absent_providers(settings),
        )
        ledger = await open_ledger(settings, mode=mode)
        try:
            engine = Engine(settings, ledger, router)
            # Only when it is so: demo can also be chosen (SEEDBOT_PROVIDERS, --provider) with keys set.
            if warn_demo and settings.demo_only and not keyed_providers(settings):
                log.warning("no provider key is configured: running on the offline demo provider")
            retention = ImageRetention(ledger, settings.image_retention_days)
            try:
                yield Runtime(settings, http, fetcher, ledger, engine, retention)
            except BaseException:
                # A settle (a refund) or a resumed delivery still writes to the ledger: it gets the
                # shutdown grace, not for ever, as the body failed (a platform refused its token).
                await engine.wait_background(timeout=settings.shutdown_grace)
                raise
            await engine.wait_background()
        finally:
            await ledger.close()

"""`/healthz` and `/metrics` on SEEDBOT_HTTP_PORT, served by `seedbot run` (aiohttp).

    GET /healthz   200 {"status": "ok", ...} when the database answers (its last write did not
                   fail) and every started platform reports ready; else 503 with what is down, e.g.
                   {"status": "down", "down": ["database", "platform:discord"], ...}
    GET /metrics   Prometheus text format (bot.metrics)

A platform says whether its connection is up through an optional `ready` bool property;
a platform without one counts as ready once started.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from bot import messages
from bot.app.runtime import Runtime
from bot.errors import SeedbotError
from bot.metrics import CONTENT_TYPE

__all__ = ["DB_TIMEOUT", "HealthServer", "platform_ready"]

log = logging.getLogger(__name__)

DB_TIMEOUT = 2.0  # seconds the database gets to answer a health check
BIND_HOST = "0.0.0.0"  # noqa: S104 - container health checks and scrapers reach it from outside
PROBE_USER = "seedbot:healthcheck"  # read-only quota lookup; never written


def platform_ready(platform: Any) -> bool:
    try:
        return bool(getattr(platform, "ready", True))
    except Exception:
        return False


class HealthServer:
    def __init__(self, runtime: Runtime, port: int, *, host: str = BIND_HOST) -> None:
        self.runtime = runtime
        self.host = host
        self.requested_port = port
        self.port: int | None = None
        self.platforms: list[Any] = []  # started platforms; `seedbot run` appends as they connect
        self.starting = True  # until every platform has been started
        self._runner: web.AppRunner | None = None

    def set_platforms(self, platforms: Sequence[Any]) -> None:
        self.platforms = list(platforms)
        self.starting = False

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.requested_port)
        try:
            await site.start()
        except OSError as exc:  # taken (another seedbot, an old container): one line, as Slack's
            raise SeedbotError(messages.cannot_listen(self.requested_port, "SEEDBOT_HTTP_PORT", exc)) from exc
        self.port = int(self._runner.addresses[0][1])
        log.info("health and metrics on http://%s:%d/healthz and /metrics", self.host, self.port)

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _database_ok(self) -> str | None:
        """None when the database answers, else why not."""
        try:
            await asyncio.wait_for(self.runtime.ledger.quota(PROBE_USER), DB_TIMEOUT)
        except TimeoutError:
            return f"no answer within {DB_TIMEOUT:g} s"
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"[:200]
        # Reads answer while writes fail (SQLite's disk full, its write lock held by another
        # process): the ledger remembers its last write's failure; no write probe here (it would
        # take the writer's lock from the jobs).
        failed = self.runtime.ledger.write_failure
        if failed is not None:
            return f"writes failing since {failed.since:%Y-%m-%d %H:%M:%S} UTC: {failed.reason}"[:200]
        return None

    async def status(self) -> tuple[bool, dict[str, Any]]:
        down: list[str] = []
        checks: dict[str, str] = {}
        db_error = await self._database_ok()
        checks["database"] = db_error or "ok"
        if db_error:
            down.append("database")
        for platform in self.platforms:
            ready = platform_ready(platform)
            checks[f"platform:{platform.name}"] = "ok" if ready else "not connected"
            if not ready:
                down.append(f"platform:{platform.name}")
        if self.starting:
            down.append("starting")
        engine = self.runtime.engine
        if engine.draining:
            down.append("shutting down")
        body: dict[str, Any] = {
            "status": "down" if down else "ok",
            "checks": checks,
            "jobs_running": len(engine.active_jobs),
            "queued": engine.gate.queued,
        }
        if down:
            body["down"] = down
        return not down, body

    async def _healthz(self, request: web.Request) -> web.Response:
        ok, body = await self.status()
        return web.json_response(body, status=200 if ok else 503)

    async def _metrics(self, request: web.Request) -> web.Response:
        response = web.Response(body=self.runtime.engine.metrics.render())
        response.headers["Content-Type"] = CONTENT_TYPE
        return response

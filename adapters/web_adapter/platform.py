"""The playground as a platform of `seedbot run`: an aiohttp server on SEEDBOT_WEB_HOST:PORT.

It runs when SEEDBOT_WEB_PORT is set (beside Discord and Slack), or, on 8080 unless that is set
(8081 when SEEDBOT_HTTP_PORT holds 8080), when `seedbot run` has no chat platform to serve
(`runtime.playground`); then it prints where to open it and how to connect Discord or Slack. It refuses to start, in one line, on an address
other machines can reach unless SEEDBOT_WEB_TOKEN is set.
"""

from __future__ import annotations

import errno
import logging
import socket

from aiohttp import web

from adapters.web_adapter.app import build_app
from adapters.web_adapter.reply import Page
from adapters.web_adapter.security import Guard
from adapters.web_adapter.settings import PLAYGROUND_PORT, WebSettings
from adapters.web_adapter.surface import PLATFORM, WebSurface
from bot import messages
from bot.app.runtime import Runtime
from bot.conversation.tasks import BackgroundTasks
from bot.errors import SeedbotError

__all__ = ["PLAYGROUND_CONNECT", "WebPlatform", "create"]

log = logging.getLogger(__name__)

# The second line `make run` prints in playground mode (platform words live in adapters).
PLAYGROUND_CONNECT = (
    "To run on Discord or Slack instead, set DISCORD_TOKEN, or SLACK_BOT_TOKEN with SLACK_SIGNING_SECRET "
    "or SLACK_APP_TOKEN, in .env (see .env.example); SEEDBOT_WEB_PORT keeps this page beside them."
)
SHUTDOWN_GRACE = 5.0  # seconds turns still answering get at close (jobs had the engine's grace)
# Ports after the default one the playground tries when that one is taken (another dev server
# on 8080 is common); a port the user set is never swapped for another.
SPARE_PORTS = 10


class WebPlatform:
    name = PLATFORM

    def __init__(self, runtime: Runtime, settings: WebSettings, port: int, *, spare: int = 0) -> None:
        self.runtime = runtime
        self.settings = settings
        self.requested_port = port
        self.spare = spare  # further ports to try when `port` is taken
        self.port: int | None = None
        self.page = Page()
        self.tasks = BackgroundTasks(PLATFORM)
        self.surface = WebSurface(runtime, self.page, self.tasks)
        self.guard = Guard(settings.token_value)
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        host = self.settings.host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port if self.port is not None else self.requested_port}"

    async def start(self) -> None:
        first = self.requested_port
        spare = range(first + 1, first + 1 + self.spare)
        ports = [first, *(p for p in spare if p != self.runtime.settings.http_port)]
        for i, port in enumerate(ports):
            self.requested_port = port
            try:
                await self._listen(port)
                break
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE and i + 1 < len(ports):
                    log.info("web: port %d is in use; trying %d", port, ports[i + 1])
                    continue
                # No such address (a name that doesn't resolve, an IP not on this machine), or the port.
                address = isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL
                reason = exc.strerror or str(exc)
                raise SeedbotError(messages.web_cannot_listen(self.url, reason, address=address)) from exc
        assert self._runner is not None
        self.port = int(self._runner.addresses[0][1])
        log.info("web: listening on %s", self.url)
        if self.runtime.playground:
            print(messages.playground_ready(self.url), flush=True)
            print(PLAYGROUND_CONNECT, flush=True)

    async def _listen(self, port: int) -> None:
        """Serve on `port`, or raise the OSError with nothing left open (a fresh app a try: an
        app whose runner was cleaned up can't be served again)."""
        app = build_app(self.surface, self.guard)
        app.on_shutdown.append(self._end_streams)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=2.0)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.settings.host, port).start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner

    async def _end_streams(self, app: web.Application) -> None:
        self.page.timeline.close()

    @property
    def ready(self) -> bool:
        return self._runner is not None and self.port is not None

    async def close(self) -> None:
        self.page.timeline.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.tasks.close(SHUTDOWN_GRACE)


def create(runtime: Runtime, settings: WebSettings) -> WebPlatform | None:
    """The playground when SEEDBOT_WEB_PORT is set or when `seedbot run` serves nothing else;
    None otherwise. Raises SeedbotError (one line) for settings that would expose it."""
    if settings.port is None and not runtime.playground:
        return None
    settings.check()  # `seedbot run` checked before opening the database; kept for other callers
    if not settings.loopback:
        log.warning("web: serving on %s, reachable from other machines; sign-in required", settings.host)
    if settings.port is not None:
        return WebPlatform(runtime, settings, settings.port)
    # 8080, unless /healthz serves there already (the Docker image): then 8081; taken, the next.
    port = PLAYGROUND_PORT if runtime.settings.http_port != PLAYGROUND_PORT else PLAYGROUND_PORT + 1
    return WebPlatform(runtime, settings, port, spare=SPARE_PORTS)

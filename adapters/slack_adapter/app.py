"""The Slack platform: a bolt AsyncApp served over HTTP (Events API) or Socket Mode.

    HTTP         POST /slack/events on SLACK_PORT (events, /imagine, buttons, modals), every
                 request's signature checked with SLACK_SIGNING_SECRET (bolt answers 401).
    Socket Mode  when SLACK_APP_TOKEN is set: no public URL, Slack pushes over a websocket.

`start()` signs in (auth.test), registers listeners, attaches to the conversation (resumed jobs
come through it), and returns once serving. A refused token, an unreachable Slack or a port in
use ends it with `PlatformUnavailable` (one line saying what to do; the traceback goes to the
debug log). `close()` stops taking requests, then gives running jobs a moment.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncConnectionErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack_adapter.dedupe import SeenMessages
from adapters.slack_adapter.doctor import describe_error
from adapters.slack_adapter.files import SlackFiles
from adapters.slack_adapter.handlers import PLATFORM, SlackHandlers
from adapters.slack_adapter.listeners import register_listeners
from adapters.slack_adapter.ratelimit import RateLimitRetry
from adapters.slack_adapter.settings import SlackSettings
from adapters.slack_adapter.tasks import BackgroundTasks
from bot import messages
from bot.app.runtime import Runtime
from bot.errors import PlatformUnavailable
from bot.logs import NetworkNotices, quiet_library

__all__ = ["EVENTS_PATH", "SlackPlatform", "create", "quiet_slack_logs"]

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
BIND_HOST = "0.0.0.0"  # noqa: S104 - Slack has to reach the Events API endpoint
API_TIMEOUT = 60  # seconds per Web API call (uploads of several MB included)
SHUTDOWN_GRACE = 10.0  # seconds running jobs get to finish at shutdown
SOCKET_TIMEOUT = 60.0  # seconds the first Socket Mode connection may take


# bolt warns that SLACK_BOT_TOKEN is unused when given a client; that is on purpose here. The
# Socket Mode client logs every failed (re)connection with a traceback: one line instead.
_NOTICES = NetworkNotices(
    "slack",
    notices=("Failed to connect",),
    drop=lambda message: message == warning_client_prioritized_and_token_skipped(),
)


def quiet_slack_logs() -> None:
    # slack_sdk formats every request and response for DEBUG when its own logger's level (not
    # the effective one) is at most DEBUG, as an unset level is: set it on the client's logger.
    quiet_library(
        _NOTICES,
        on=("slack_bolt.AsyncApp",),
        capped=("slack_bolt", "slack_sdk", "slack_sdk.web.async_base_client"),
    )


class SlackPlatform:
    name = PLATFORM

    def __init__(self, runtime: Runtime, settings: SlackSettings) -> None:
        assert settings.enabled
        quiet_slack_logs()
        self.runtime = runtime
        self.settings = settings
        self._token = settings.bot_token
        self._app_token = settings.app_token
        self._secret = settings.signing_secret
        self.socket_mode = settings.socket_mode
        # Where start() is, for its error: the app token in use (Socket Mode), the port binding.
        self._opening_socket = False
        self._listening = False
        self.tasks = BackgroundTasks()
        self.seen = SeenMessages()
        self.port: int | None = None
        self.app: AsyncApp | None = None
        self.handlers: SlackHandlers | None = None
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self._socket: AsyncSocketModeHandler | None = None

    async def start(self) -> None:
        try:
            await self._start()
        except PlatformUnavailable:
            raise
        except SlackApiError as exc:
            log.debug("slack: start-up failed", exc_info=True)
            error = str(exc.response.get("error") or exc.response.status_code)
            which = "SLACK_APP_TOKEN" if self._opening_socket else "SLACK_BOT_TOKEN"
            raise PlatformUnavailable(PLATFORM, f"Slack refused {which}: {describe_error(error)}") from exc
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            log.debug("slack: start-up failed", exc_info=True)
            raise PlatformUnavailable(PLATFORM, self._unreachable(exc)) from exc

    def _unreachable(self, exc: BaseException) -> str:
        if isinstance(exc, TimeoutError) and self._opening_socket:  # before OSError: it is one
            return (
                f"the Socket Mode connection did not open within {SOCKET_TIMEOUT:.0f} s: check the "
                "network connection (wss-primary.slack.com)"
            )
        if self._listening and isinstance(exc, OSError):
            return messages.cannot_listen(self.settings.slack_port, "SLACK_PORT", exc)
        return (
            f"could not reach Slack at {self.settings.slack_api_url} ({type(exc).__name__}): check the "
            "network connection, or SLACK_API_URL"
        )

    async def _start(self) -> None:
        # Every job in flight may be uploading at once: aiohttp's default of 100 would queue them.
        connector = aiohttp.TCPConnector(limit=max(100, self.runtime.settings.max_concurrency * 2))
        self._session = aiohttp.ClientSession(connector=connector)
        client = AsyncWebClient(
            token=self._token,
            base_url=self.settings.slack_api_url,
            session=self._session,
            timeout=API_TIMEOUT,
            retry_handlers=[AsyncConnectionErrorRetryHandler(max_retry_count=2), RateLimitRetry(3)],
        )
        auth = await client.auth_test()
        bot_user_id = str(auth.get("user_id") or "")
        log.info("slack: signed in as %s (%s) in team %s", auth.get("user"), bot_user_id, auth.get("team_id"))

        bolt_log = logging.getLogger("slack_bolt.AsyncApp")
        app = AsyncApp(
            client=client, signing_secret=self._secret, process_before_response=False, logger=bolt_log
        )
        files = SlackFiles(self.runtime.fetcher, client, self._token, self.settings.slack_api_url)
        self.handlers = SlackHandlers(self.runtime, client, files, bot_user_id=bot_user_id, seen=self.seen)
        register_listeners(app, self.handlers, self.tasks, assistant=self.settings.slack_assistant)
        self.app = app

        if self.socket_mode:
            self._opening_socket = True
            self._socket = AsyncSocketModeHandler(app, self._app_token)
            # The socket client retries a refused app token for ever (logging each time): ask
            # for the first connection URL here, so a refused token is one clear error.
            opened = await client.apps_connections_open(app_token=self._app_token)
            self._socket.client.wss_uri = str(opened["url"])
            await asyncio.wait_for(self._socket.connect_async(), SOCKET_TIMEOUT)  # type: ignore[no-untyped-call]
            self._opening_socket = False
            log.info("slack: connected in Socket Mode")
        else:
            self._runner = web.AppRunner(app.web_app(path=EVENTS_PATH), shutdown_timeout=2.0, access_log=None)
            await self._runner.setup()
            site = web.TCPSite(self._runner, BIND_HOST, self.settings.slack_port)
            self._listening = True
            await site.start()
            self._listening = False
            self.port = int(self._runner.addresses[0][1])
            log.info("slack: listening on http://%s:%d%s", BIND_HOST, self.port, EVENTS_PATH)

    @property
    def ready(self) -> bool:
        """For /healthz: the Socket Mode socket is connected, or the HTTP server is listening."""
        if self._socket is not None:
            client = self._socket.client
            session = client.current_session
            return not client.closed and session is not None and not session.closed
        return self._runner is not None and self.port is not None

    async def close(self) -> None:
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]
            self._socket = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.tasks.close(SHUTDOWN_GRACE)
        if self._session is not None:
            await self._session.close()
            self._session = None


def create(runtime: Runtime, settings: SlackSettings) -> SlackPlatform | None:
    """The platform for `seedbot run`: None when Slack is not configured."""
    if not settings.enabled:
        return None
    return SlackPlatform(runtime, settings)

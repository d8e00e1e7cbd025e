"""The Discord platform for `seedbot run`: log in, connect, and return once serving.

`start()` points discord.py at the configured endpoints, logs in (commands are synced and the
invite link logged in the client's setup hook), attaches it to the conversation (which delivers resumed jobs through it), starts
the gateway connection in a task and returns once the servers the bot is in are available.
A refused token, an unreachable Discord or a refused intent ends it with `PlatformUnavailable`
(one line saying what to do; the traceback goes to the debug log).
`close()` stops taking new work, lets running jobs finish for a while, then disconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import aiohttp
import discord

from adapters.discord_adapter.client import SeedBot, ShardedSeedBot, make_bot
from adapters.discord_adapter.endpoints import Endpoints
from adapters.discord_adapter.invite import REFUSED_LOGIN
from adapters.discord_adapter.settings import DiscordSettings
from adapters.discord_adapter.surface import PLATFORM
from bot.app.runtime import Runtime
from bot.conversation.tasks import BackgroundTasks
from bot.errors import PlatformUnavailable
from bot.logs import NetworkNotices, quiet_library

__all__ = ["DiscordPlatform", "create", "quiet_discord_logs"]

log = logging.getLogger(__name__)

READY_TIMEOUT = 60.0  # seconds from login to the gateway session being ready
SHUTDOWN_GRACE = 10.0  # seconds running jobs get to finish at shutdown


# Gateway close codes that no reconnect fixes (discord.py raises ConnectionClosed for them).
_CLOSE_CODES = {
    4004: REFUSED_LOGIN,
    4010: "Discord refused the shard settings: check DISCORD_SHARD_COUNT and DISCORD_SHARD_IDS",
    4011: "Discord says the bot is in too many servers for one connection: set DISCORD_SHARD_COUNT",
    4013: "Discord refused the gateway intents seedbot asked for (invalid intents)",
}


# discord.py warns at every start that voice support is missing (PyNaCl, davey): seedbot has no
# voice. Its reconnect notices carry a traceback: one line instead.
_NOTICES = NetworkNotices(
    "discord",
    notices=("Attempting a reconnect", "Failed to connect for shard"),
    drop=lambda message: message.endswith("voice will NOT be supported"),
)


def quiet_discord_logs() -> None:
    quiet_library(
        _NOTICES, on=("discord.client", "discord.shard"), capped=("discord.http", "discord.gateway")
    )


class DiscordPlatform:
    name = PLATFORM

    def __init__(self, runtime: Runtime, settings: DiscordSettings) -> None:
        assert settings.enabled
        quiet_discord_logs()
        self.runtime = runtime
        self.settings = settings
        self._token = settings.token
        self.endpoints = Endpoints.from_settings(settings)
        self.tasks = BackgroundTasks(PLATFORM)
        self.bot: SeedBot | None = None
        self._connection: asyncio.Task[None] | None = None

    @property
    def ready(self) -> bool:
        """For /healthz: logged in, the gateway session ready and its socket open."""
        bot = self.bot
        if bot is None or bot.is_closed() or not _session_ready(bot):
            return False
        if isinstance(bot, ShardedSeedBot):
            shards = bot.shards.values()
            return bool(shards) and not any(shard.is_closed() for shard in shards)
        ws = bot.ws
        return ws is not None and ws.open

    async def start(self) -> None:
        try:
            await self._start()
        except PlatformUnavailable:
            raise
        except Exception as exc:
            reason = self._unavailable(exc)
            if reason is None:
                raise
            log.debug("discord: start-up failed", exc_info=True)
            raise PlatformUnavailable(PLATFORM, reason) from exc

    def _unavailable(self, exc: Exception) -> str | None:
        """The one line for a start-up failure the operator fixes; None for a bug."""
        api = self.endpoints.api_base.rstrip("/")
        if isinstance(exc, discord.LoginFailure):
            return REFUSED_LOGIN
        if isinstance(exc, discord.PrivilegedIntentsRequired):
            return "Discord refused a privileged intent: turn it on in the Developer Portal (Bot -> Privileged Gateway Intents)"
        if isinstance(exc, discord.ConnectionClosed):
            known = _CLOSE_CODES.get(exc.code)
            return (
                known
                or f"the Discord gateway closed the connection (code {exc.code}): {exc.reason or 'no reason given'}"
            )
        if isinstance(exc, discord.GatewayNotFound):
            return f"Discord did not give a gateway address at {api}: Discord may be down; try again later"
        if isinstance(exc, discord.HTTPException):
            return f"Discord answered HTTP {exc.status} at start-up: {exc.text or exc}"[:300]
        if isinstance(exc, TimeoutError):  # before OSError: it is one
            return (
                f"Discord did not finish connecting within {READY_TIMEOUT:.0f} s: check the network "
                "connection, or DISCORD_GATEWAY_URL"
            )
        if isinstance(exc, aiohttp.ClientError | OSError):
            return (
                f"could not reach Discord at {api} ({type(exc).__name__}): check the network "
                "connection, or DISCORD_API_BASE_URL"
            )
        return None

    async def _start(self) -> None:
        self.endpoints.apply()
        bot = make_bot(self.runtime, self.tasks, self.settings)
        self.bot = bot
        await bot.login(self._token)
        self._connection = asyncio.create_task(bot.connect(reconnect=True), name="discord gateway")
        await self._wait_ready(bot, self._connection)
        user = bot.user
        log.info(
            "discord: connected as %s (%s) in %d server(s)",
            user.name if user else "?",
            user.id if user else "?",
            len(bot.guilds),
        )

    @staticmethod
    async def _wait_ready(bot: SeedBot, connection: asyncio.Task[None]) -> None:
        """Until every server READY listed is available (discord.py's on_ready waits 2 s more
        for stragglers; interactions work from here on)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + READY_TIMEOUT
        while True:
            if connection.done():
                connection.result()  # LoginFailure, PrivilegedIntentsRequired, ...
                raise PlatformUnavailable(
                    PLATFORM,
                    "the Discord gateway closed the connection before it was ready: try again; if "
                    "it keeps happening, check the network connection and DISCORD_GATEWAY_URL",
                )
            if _session_ready(bot):
                return
            if loop.time() > deadline:
                raise TimeoutError(f"Discord was not ready after {READY_TIMEOUT:.0f} s")
            await asyncio.sleep(0.02)

    async def close(self) -> None:
        await self.tasks.close(SHUTDOWN_GRACE)
        if self.bot is not None:
            await self.bot.close()
        if self._connection is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._connection, 5.0)
            self._connection = None
        self.endpoints.restore()


def _session_ready(bot: SeedBot) -> bool:
    guilds = bot.guilds
    return bot.is_ready() or bool(guilds and all(not g.unavailable for g in guilds))


def create(runtime: Runtime, settings: DiscordSettings) -> DiscordPlatform | None:
    """The platform for `seedbot run`: None when DISCORD_TOKEN is not set."""
    if not settings.enabled:
        return None
    return DiscordPlatform(runtime, settings)

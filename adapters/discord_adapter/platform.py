"""The Discord platform for `seedbot run`: log in, connect, and return once serving.

`start()` points discord.py at the configured endpoints, logs in (commands are synced and the
invite link logged in the client's setup hook), attaches it to the conversation (which delivers resumed jobs through it), starts
the gateway connection in a task and returns once the servers the bot is in are available.
`close()` stops taking new work, lets running jobs finish for a while, then disconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from adapters.discord_adapter.client import SeedBot, ShardedSeedBot, make_bot
from adapters.discord_adapter.endpoints import Endpoints
from adapters.discord_adapter.surface import PLATFORM
from bot.app.runtime import Runtime
from bot.conversation.tasks import BackgroundTasks

__all__ = ["DiscordPlatform", "create"]

log = logging.getLogger(__name__)

READY_TIMEOUT = 60.0  # seconds from login to the gateway session being ready
SHUTDOWN_GRACE = 10.0  # seconds running jobs get to finish at shutdown


class DiscordPlatform:
    name = PLATFORM

    def __init__(self, runtime: Runtime) -> None:
        assert runtime.settings.discord_token is not None
        self.runtime = runtime
        self._token = runtime.settings.discord_token.get_secret_value()
        self.endpoints = Endpoints.from_settings(runtime.settings)
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
        self.endpoints.apply()
        bot = make_bot(self.runtime, self.tasks)
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
                raise RuntimeError("the Discord connection ended before it was ready")
            if _session_ready(bot):
                return
            if loop.time() > deadline:
                raise TimeoutError(f"Discord was not ready after {READY_TIMEOUT:.0f}s")
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


def create(runtime: Runtime) -> DiscordPlatform | None:
    """The `seedbot.platforms` entry point: None when DISCORD_TOKEN is not set."""
    if not runtime.settings.discord_enabled:
        return None
    return DiscordPlatform(runtime)

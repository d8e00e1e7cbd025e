"""Fixtures for the reliability suite: every emulator at once, and the real bot in process.

`stack` starts the provider, Discord and Slack emulators; `stack.start_bot(**settings)` opens
the runtime the way `seedbot run` does (Settings -> open_runtime -> the platform plug-ins'
create() with their own settings -> start() -> engine.recover()) with Discord *and* Slack
enabled; `bot.stop()` ends it as SIGTERM would, and a bot started after on the same database is
the restarted process. Tests talk to the bot only over the wire, through the emulators, and wait
on what they recorded.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from adapters.discord_adapter.platform import DiscordPlatform
from adapters.discord_adapter.settings import DiscordSettings
from adapters.slack_adapter.app import EVENTS_PATH, SlackPlatform
from adapters.slack_adapter.settings import SlackSettings
from bot.app.platform import load_plugins
from bot.app.runtime import Runtime, open_runtime
from bot.config import Settings
from bot.ledger.base import QuotaStatus
from bot.request.models import Job, JobStatus
from tests.emulators.discord import DiscordEmulator
from tests.emulators.providers import ProviderEmulator
from tests.emulators.slack import SlackEmulator

PROVIDERS = ("novita", "segmind", "apiframe", "modellix")


@dataclass
class Secrets:
    """Distinctive random values for every secret the bot can hold."""

    discord_token: str = field(default_factory=lambda: "DSCTOK." + secrets.token_urlsafe(24))
    slack_bot_token: str = field(default_factory=lambda: "xoxb-" + secrets.token_hex(16))
    slack_signing_secret: str = field(default_factory=lambda: "SLKSIG" + secrets.token_hex(16))
    provider_keys: dict[str, str] = field(
        default_factory=lambda: {name: f"{name[:3]}KEY{secrets.token_hex(16)}" for name in PROVIDERS}
    )

    def all(self) -> dict[str, str]:
        out = {
            "discord_token": self.discord_token,
            "slack_bot_token": self.slack_bot_token,
            "slack_signing_secret": self.slack_signing_secret,
        }
        out.update({f"{k}_api_key": v for k, v in self.provider_keys.items()})
        return out


@dataclass
class ProviderRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


def capture_provider_requests(providers: ProviderEmulator) -> list[ProviderRequest]:
    """Record every request the provider emulator receives, result-file downloads included
    (its own records keep only the four APIs). Must run before the emulator starts."""
    seen: list[ProviderRequest] = []

    @web.middleware
    async def record(request: web.Request, handler: Any) -> web.StreamResponse:
        body = await request.read()
        seen.append(ProviderRequest(request.method, request.path, dict(request.headers), body))
        response: web.StreamResponse = await handler(request)
        return response

    providers.app.middlewares.append(record)
    return seen


@dataclass
class RunningBot:
    runtime: Runtime
    discord: DiscordPlatform
    slack: SlackPlatform
    exits: AsyncExitStack = field(default_factory=AsyncExitStack)

    async def stop(self) -> None:
        """What `seedbot run` does on SIGTERM, with no grace: running jobs are cut short (those
        polling a provider task stay for the next start, the others are refunded), then the
        platforms and the runtime close. The database stays for a bot started after."""
        self.runtime.engine.draining = True
        await self.runtime.engine.shutdown(0.0)
        await self.exits.aclose()

    @property
    def slack_url(self) -> str:
        return f"http://127.0.0.1:{self.slack.port}{EVENTS_PATH}"

    async def usage(self, user_key: str) -> QuotaStatus:
        return await self.runtime.ledger.quota(user_key)

    async def jobs(self, user_key: str) -> list[Job]:
        return await self.runtime.ledger.jobs_for_user(user_key, limit=500)

    async def wait_closed(self, user_key: str, count: int, timeout: float = 15.0) -> list[Job]:
        """Until `count` jobs of the user are closed in the ledger (succeeded or failed)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            jobs = await self.jobs(user_key)
            done = [j for j in jobs if j.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)]
            if len(done) >= count:
                return done
            if loop.time() > deadline:
                raise TimeoutError(f"{len(done)}/{count} jobs closed for {user_key}: {jobs}")
            await asyncio.sleep(0.02)


@dataclass
class Stack:
    providers: ProviderEmulator
    discord: DiscordEmulator
    slack: SlackEmulator
    secrets: Secrets
    provider_requests: list[ProviderRequest]
    tmp_path: Path
    start_bot: Callable[..., Awaitable[RunningBot]] = field(init=False)

    def discord_settings(self) -> DiscordSettings:
        return DiscordSettings(  # type: ignore[call-arg]
            _env_file=None,
            discord_token=self.secrets.discord_token,
            discord_api_base_url=self.discord.api_base,
            discord_gateway_url=self.discord.gateway_url,
        )

    def slack_settings(self) -> SlackSettings:
        return SlackSettings(  # type: ignore[call-arg]
            _env_file=None,
            slack_bot_token=self.secrets.slack_bot_token,
            slack_signing_secret=self.secrets.slack_signing_secret,
            slack_api_url=self.slack.api_url,
            slack_port=0,
        )

    def settings(self, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database": str(self.tmp_path / "seedbot.db"),
            "allow_private_network": True,
            "poll_interval": 0.05,
            "provider_retries": 0,
        }
        for name in PROVIDERS:
            values[f"{name}_api_key"] = self.secrets.provider_keys[name]
            values[f"{name}_base_url"] = self.providers.base_url(name)
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    keys = Secrets()
    async with AsyncExitStack() as exits:
        providers = ProviderEmulator()
        for name in PROVIDERS:
            providers.state(name).api_key = keys.provider_keys[name]
        seen = capture_provider_requests(providers)
        await exits.enter_async_context(providers)
        discord = await exits.enter_async_context(DiscordEmulator(token=keys.discord_token))
        slack = await exits.enter_async_context(
            SlackEmulator(bot_token=keys.slack_bot_token, signing_secret=keys.slack_signing_secret)
        )
        st = Stack(providers, discord, slack, keys, seen, tmp_path)
        bots = AsyncExitStack()

        async def start(**overrides: Any) -> RunningBot:
            exits = AsyncExitStack()
            bots.push_async_callback(exits.aclose)  # unless stopped before
            runtime = await exits.enter_async_context(open_runtime(st.settings(**overrides)))
            plugins = load_plugins()
            dc = plugins["discord"].create(runtime, st.discord_settings())
            sl = plugins["slack"].create(runtime, st.slack_settings())
            assert isinstance(dc, DiscordPlatform) and isinstance(sl, SlackPlatform)
            exits.push_async_callback(dc.close)
            exits.push_async_callback(sl.close)
            await dc.start()
            await sl.start()
            await runtime.engine.recover()
            return RunningBot(runtime, dc, sl, exits)

        st.start_bot = start
        async with bots:
            yield st

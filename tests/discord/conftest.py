"""Fixtures for the Discord end-to-end tests: the loopback Discord emulator and the real bot.

The bot is started the way `seedbot run` starts it: Settings -> open_runtime -> the platform
plug-in found through the `seedbot.platforms` entry points, given its DiscordSettings ->
`create()` -> `start()` -> `engine.recover()`,
in process (`start_bot`), or as `python -m bot run --discord` in a subprocess (`spawn_bot`,
through tests/botproc.py, for restarts). DISCORD_API_BASE_URL / DISCORD_GATEWAY_URL point it at the emulator. Tests act
as Discord users through the emulator and assert on what it recorded, waiting on those records
(never on fixed sleeps).
"""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from adapters.discord_adapter.platform import DiscordPlatform
from adapters.discord_adapter.settings import DiscordSettings
from bot import messages
from bot.app.platform import load_plugins
from bot.app.runtime import Runtime, open_runtime
from bot.config import Settings
from bot.ledger.base import QuotaStatus
from bot.request.models import Job, JobStatus
from tests.botproc import BotGroup, BotProcess, bot_env
from tests.emulators.discord import (
    CT_PUBLIC_THREAD,
    HUMAN_USER_ID,
    DiscordEmulator,
)
from tests.emulators.discord.validation import text_of, walk_components

BUTTON_RE = re.compile(r"^seedbot:(reroll|variations|edit|delete|info):([0-9a-f]+)$")
V2 = 1 << 15  # IS_COMPONENTS_V2


def png(width: int = 64, height: int = 48, color: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, format="PNG")
    return buf.getvalue()


def components(message: dict[str, Any]) -> list[dict[str, Any]]:
    """Every component of a message, nested ones too (Components V2 layouts), depth first."""
    return [c for _, c in walk_components(message.get("components") or [])]


def buttons(message: dict[str, Any]) -> dict[str, str]:
    """{action: job id} of the seedbot buttons on a message."""
    found: dict[str, str] = {}
    for comp in components(message):
        match = BUTTON_RE.match(str(comp.get("custom_id", "")))
        if match:
            found[match.group(1)] = match.group(2)
    return found


def job_id_of(message: dict[str, Any]) -> str:
    return buttons(message)["reroll"]


def text(message: dict[str, Any] | None) -> str:
    """What a message says (a V2 message: its text displays, one a line)."""
    if not message:
        return ""
    if message.get("flags", 0) & V2:
        return "\n".join(text_of(message.get("components") or []))
    return str(message.get("content") or "")


def body_text(body: dict[str, Any] | None) -> str:
    """What a recorded create/edit body says (its content, or its text displays)."""
    if not body:
        return ""
    if "data" in body and "type" in body:  # an interaction callback
        body = body.get("data") or {}
    return str(body.get("content") or "") or "\n".join(text_of(body.get("components") or []))


def _small_print(message: dict[str, Any]) -> list[str]:
    return [line[3:] for line in text(message).splitlines() if line.startswith("-# ")]


def details(message: dict[str, Any]) -> dict[str, str]:
    """The labelled details under a result's prompt ("-# Model: … · Size: …" and
    "-# References: …")."""
    lines = _small_print(message)
    found: dict[str, str] = {}
    for line in lines[:1] + [x for x in lines[1:] if x.startswith(f"{messages.LABEL_REFERENCES}: ")]:
        for part in line.split(" · "):
            label, _, value = part.partition(": ")
            found[label] = value
    return found


def notes(message: dict[str, Any]) -> str:
    """The remarks of a result (refitted, demo mode, not posted...), one a line."""
    lines = _small_print(message)[1:]
    return "\n".join(x for x in lines if not x.startswith(f"{messages.LABEL_REFERENCES}: "))


def gallery(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The media items of a result's galleries, as Discord returns them."""
    return [item for c in components(message) if c.get("type") == 12 for item in c.get("items") or []]


async def wait_result(
    emu: DiscordEmulator,
    *,
    channel_id: str | None = None,
    after: str | int | None = None,
    timeout: float = 10.0,
    exclude: set[str] | None = None,
) -> dict[str, Any]:
    """The next bot message carrying a result's buttons (in `channel_id`, newer than `after`);
    not a later message of a result, which has only Delete."""
    skip = exclude or set()
    return await emu.wait_for_message(
        lambda m: "reroll" in buttons(m) and job_id_of(m) not in skip,
        channel_id=channel_id,
        after=after,
        timeout=timeout,
    )


async def eventually(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.01)


def thread_of(emu: DiscordEmulator, message: dict[str, Any]) -> dict[str, Any]:
    channel = emu.channels[message["channel_id"]]
    assert channel["type"] == CT_PUBLIC_THREAD, channel
    return channel


def bot_message_requests(emu: DiscordEmulator) -> list[Any]:
    """Every request by which the bot wrote or edited a message (REST, callbacks, webhooks)."""
    return [
        r
        for r in emu.requests
        if r.kind == "api"
        and r.method in ("POST", "PATCH")
        and re.search(r"/messages(/|$)|/callback$|^/webhooks/\d+/[^/]+$", r.path)
        and isinstance(r.body, dict)
    ]


@dataclass
class RunningBot:
    runtime: Runtime
    platform: DiscordPlatform
    emu: DiscordEmulator

    async def usage(self, user_id: str = HUMAN_USER_ID) -> QuotaStatus:
        return await self.runtime.ledger.quota(f"discord:{user_id}")

    async def jobs(self, user_id: str = HUMAN_USER_ID) -> list[Job]:
        return await self.runtime.ledger.jobs_for_user(f"discord:{user_id}", limit=100)

    async def wait_job(self, job_id: str, timeout: float = 10.0) -> Job:
        """Until the ledger has closed the job (delivered and settled, or failed)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            job = await self.runtime.ledger.get_job(job_id)
            if job is not None and job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
                return job
            if loop.time() > deadline:
                raise TimeoutError(f"job {job_id} not finished: {job}")
            await asyncio.sleep(0.01)

    async def wait_idle(self, timeout: float = 10.0) -> None:
        """Until no job of the adapter is running any more."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.platform.tasks):
            if loop.time() > deadline:
                raise TimeoutError("the bot is still busy")
            await asyncio.sleep(0.01)


StartBot = Callable[..., Awaitable[RunningBot]]


@pytest.fixture
async def emu() -> AsyncIterator[DiscordEmulator]:
    async with DiscordEmulator() as e:
        yield e


def settings_for(emu: DiscordEmulator, tmp_path: Path, **overrides: Any) -> tuple[Settings, DiscordSettings]:
    """The core's and Discord's settings for a bot on the emulator; each override goes to the
    class that has the field (discord_guild_id to DiscordSettings, daily_images to Settings)."""
    values: dict[str, Any] = {
        "database": str(tmp_path / "seedbot.db"),
        "allow_private_network": True,
        "poll_interval": 0.05,
    }
    discord: dict[str, Any] = {
        "discord_token": emu.token,
        "discord_api_base_url": emu.api_base,
        "discord_gateway_url": emu.gateway_url,
    }
    for key, value in overrides.items():
        (discord if key in DiscordSettings.model_fields else values)[key] = value
    return (
        Settings(_env_file=None, **values),  # type: ignore[call-arg]
        DiscordSettings(_env_file=None, **discord),  # type: ignore[call-arg]
    )


@pytest.fixture
async def start_bot(emu: DiscordEmulator, tmp_path: Path) -> AsyncIterator[StartBot]:
    """`await start_bot(daily_images=1, ...)`: the bot in process, as `seedbot run` starts it
    (Settings keywords as overrides). Stopped at teardown."""
    stack = AsyncExitStack()

    async def start(**overrides: Any) -> RunningBot:
        settings, discord_settings = settings_for(emu, tmp_path, **overrides)
        runtime = await stack.enter_async_context(open_runtime(settings))
        platform = load_plugins()["discord"].create(runtime, discord_settings)
        assert isinstance(platform, DiscordPlatform)
        stack.push_async_callback(platform.close)
        await platform.start()
        await runtime.engine.recover()
        return RunningBot(runtime, platform, emu)

    async with stack:
        yield start


SpawnBot = Callable[..., Awaitable[BotProcess]]


@pytest.fixture
async def spawn_bot(emu: DiscordEmulator, tmp_path: Path, bot_group: BotGroup) -> AsyncIterator[SpawnBot]:
    """`await spawn_bot(SEEDBOT_DAILY_IMAGES="5")`: the bot as a process (env overrides as
    keywords). Bots share one database per test, so a second one is a restart (`bot_group`
    stops them all)."""

    async def spawn(**overrides: str) -> BotProcess:
        platform = {
            "DISCORD_TOKEN": emu.token,
            "DISCORD_API_BASE_URL": emu.api_base,
            "DISCORD_GATEWAY_URL": emu.gateway_url,
        }
        env = bot_env(tmp_path / "seedbot.db", **(platform | overrides))
        return await bot_group.run(BotProcess(env, tmp_path, platform="discord"))

    yield spawn

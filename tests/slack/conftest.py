"""Fixtures for the Slack end-to-end tests: the loopback Slack emulator and the real bot.

The bot runs as `python -m bot run --slack`, exactly as in production, with SLACK_API_URL
pointing at the emulator and SLACK_PORT=0; the port it bound is read from its log. Tests
talk to it only over the wire (signed Events API requests, Socket Mode) and assert on what
the emulator recorded, waiting on those records (never on fixed sleeps).
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests import botproc
from tests.emulators.slack import CHANNEL_ID, SlackEmulator

BOT_TOKEN = "xoxb-seedbot-test"
SIGNING_SECRET = "seedbot-signing-secret"
APP_TOKEN = "xapp-seedbot-test"


def png(width: int = 64, height: int = 48, color: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, format="PNG")
    return buf.getvalue()


class BotProcess(botproc.BotProcess):
    """`python -m bot run --slack` (tests/botproc.py), noting what the workspace held before it."""

    jobs_before = 0  # results already in the workspace when this bot started


@pytest.fixture
async def emu() -> AsyncIterator[SlackEmulator]:
    async with SlackEmulator(bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET, app_token=APP_TOKEN) as e:
        yield e


StartBot = Callable[..., Awaitable[BotProcess]]


@pytest.fixture
async def start_bot(
    emu: SlackEmulator, tmp_path: Path, bot_group: botproc.BotGroup
) -> AsyncIterator[StartBot]:
    """`await start_bot(SEEDBOT_DAILY_IMAGES="1", ...)` starts a bot (env overrides as keywords;
    `socket_mode=True` sets SLACK_APP_TOKEN instead of SLACK_SIGNING_SECRET), serving once
    this returns. One database per test: a second start is a restart (`bot_group` stops all)."""

    async def start(*, socket_mode: bool = False, **overrides: str) -> BotProcess:
        env = botproc.bot_env(
            tmp_path / "seedbot.db",
            SLACK_API_URL=emu.api_url,
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_PORT="0",
        )
        if socket_mode:  # needs no signing secret: nothing reaches the bot over HTTP
            env["SLACK_APP_TOKEN"] = APP_TOKEN
            del env["SLACK_SIGNING_SECRET"]
        env.update(overrides)
        bot = BotProcess(env, tmp_path)
        bot.jobs_before = len(controls_all(emu))
        return await bot_group.run(bot)

    yield start


def results(emu: SlackEmulator) -> list[dict[str, Any]]:
    """Completed uploads (one per image), oldest first."""
    return [u for u in emu.uploaded_files() if u["completed"]]


def controls(emu: SlackEmulator, channel: str = CHANNEL_ID) -> list[dict[str, Any]]:
    """Bot messages carrying the Re-roll / Variations / Edit buttons, oldest first."""
    return [
        m
        for m in emu.bot_messages(channel)
        if any(  # (a status message carries only Cancel)
            e.get("action_id") == "seedbot.reroll"
            for b in m.get("blocks") or []
            if b.get("type") == "actions"
            for e in b.get("elements") or []
        )
    ]


def button_values(message: dict[str, Any]) -> dict[str, str]:
    actions = next(b for b in message["blocks"] if b["type"] == "actions")
    return {e["action_id"]: e["value"] for e in actions["elements"]}


async def wait_results(
    emu: SlackEmulator, count: int, bot: BotProcess | None = None, timeout: float = 15.0
) -> list[dict[str, Any]]:
    """Wait for `count` completed uploads and the buttons of the job that made the last one;
    with `bot`, also until the bot has recorded every uploaded job as delivered (ledger)."""

    def done() -> list[dict[str, Any]] | None:
        found = results(emu)
        # The buttons follow the upload; wait for them so the job is fully delivered.
        uploads = emu.calls("files.completeUploadExternal")
        if len(found) >= count and len(controls_all(emu)) >= len(uploads):
            return found
        return None

    result: list[dict[str, Any]] = await emu.wait_for(done, timeout, message=f"{count} uploaded images")
    if bot is not None:
        await bot.wait_log(r"job \w+: delivered", count=len(controls_all(emu)) - bot.jobs_before)
    return result


def controls_all(emu: SlackEmulator) -> list[dict[str, Any]]:
    return [m for c in emu.messages for m in controls(emu, c)]

"""Acknowledging interactions: every failure of the acknowledgement is one log line (no
"Ignoring exception" traceback, nothing charged), and a component that is not one of seedbot's
live buttons gets a private "no longer active" instead of "This interaction failed"."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot import messages
from tests.discord.conftest import StartBot, text
from tests.emulators.discord import DiscordEmulator


@pytest.mark.parametrize(
    ("status", "code", "text"),
    [
        (400, 40060, "Interaction has already been acknowledged."),
        (401, 0, "401: Unauthorized"),
        (404, 10062, "Unknown interaction"),
    ],
)
async def test_a_refused_acknowledgement_is_one_log_line(
    emu: DiscordEmulator,
    start_bot: StartBot,
    caplog: pytest.LogCaptureFixture,
    status: int,
    code: int,
    text: str,
) -> None:
    bot = await start_bot()
    caplog.set_level(logging.INFO)
    emu.fail_next("POST", r"/interactions/\d+/[^/]+/callback$", status, {"code": code, "message": text})
    inter = await emu.send_slash_command("imagine", {"prompt": "a fox"})
    for _ in range(300):  # until the adapter has given up on the acknowledgement
        if any("could not be acknowledged" in r.getMessage() for r in caplog.records):
            break
        await asyncio.sleep(0.01)
    lines = [r for r in caplog.records if "could not be acknowledged" in r.getMessage()]
    assert len(lines) == 1 and str(status) in lines[0].getMessage() and lines[0].exc_info is None
    assert not any("Ignoring exception" in r.getMessage() for r in caplog.records)
    assert not any(r.exc_info for r in caplog.records if r.levelno >= logging.ERROR)
    assert inter.original is None
    assert await bot.jobs() == [] and (await bot.usage()).day_used == 0


@pytest.mark.parametrize(
    "custom_id",
    [
        "seedbot:reroll:nothex!",  # forged
        "seedbot:zoom:abc123",  # not an action of ours (upscale and cancel are, since issue 20)
        "someone-elses-button",  # a foreign or ancient component
    ],
)
async def test_a_component_that_is_not_ours_is_no_longer_active(
    emu: DiscordEmulator, start_bot: StartBot, custom_id: str
) -> None:
    bot = await start_bot()
    # An old message of ours (or another app's) still carrying a button seedbot no longer knows.
    old = emu.add_message(
        "an old result",
        components=[
            {"type": 1, "components": [{"type": 2, "style": 2, "label": "Go", "custom_id": custom_id}]}
        ],
    )
    press = await emu.send_component(custom_id, message_id=old["id"])
    assert await press.wait_ack() == 4
    assert press.original is not None and press.original["flags"] & 64
    assert messages.BUTTON_INACTIVE in text(press.original)
    assert await bot.jobs() == []

"""Shared pieces of the emulator's own tests: the real discord.py library against the loopback
Discord emulator (no mocks).
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator

import discord
import discord.gateway
import discord.http
import pytest
from discord.ext import commands
from PIL import Image

from tests.emulators.discord import GUILD_ID, DiscordEmulator

GUILD = discord.Object(id=int(GUILD_ID))


def png_bytes(color: tuple[int, int, int] = (255, 0, 0), size: tuple[int, int] = (8, 6)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="PNG")
    return buf.getvalue()


def make_bot(*, message_content: bool = True) -> commands.Bot:
    intents = discord.Intents.default()
    intents.message_content = message_content
    return commands.Bot(command_prefix="!", intents=intents, guild_ready_timeout=0.05, help_command=None)


@pytest.fixture
async def emu() -> AsyncIterator[DiscordEmulator]:
    async with DiscordEmulator() as e:
        yield e


async def eventually(cond, timeout: float = 2.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not cond():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)

"""DISCORD_SHARD_COUNT / DISCORD_SHARD_IDS: the client becomes an AutoShardedBot running those
shards; without them it is the single-connection bot, as before."""

from __future__ import annotations

import pytest
from discord.ext import commands
from pydantic import ValidationError

from adapters.discord_adapter.client import SeedBot, ShardedSeedBot
from bot.config import Settings
from tests.discord.conftest import StartBot, wait_result
from tests.emulators.discord_emulator import DiscordEmulator


async def test_without_shard_settings_the_bot_is_unsharded(emu: DiscordEmulator, start_bot: StartBot) -> None:
    bot = await start_bot()
    assert type(bot.platform.bot) is SeedBot
    assert "shard" not in (await emu.wait_identified())


async def test_a_shard_subset_identifies_with_its_shard_and_serves_commands(
    emu: DiscordEmulator, start_bot: StartBot
) -> None:
    bot = await start_bot(discord_shard_count=1, discord_shard_ids=[0])
    client = bot.platform.bot
    assert isinstance(client, ShardedSeedBot) and isinstance(client, commands.AutoShardedBot)
    assert client.shard_count == 1 and client.shard_ids == [0]
    assert (await emu.wait_identified())["shard"] == [0, 1]
    assert bot.platform.ready
    inter = await emu.send_slash_command("imagine", {"prompt": "a sharded fox"})
    assert await inter.wait_ack() == 5
    result = await wait_result(emu)
    assert result["attachments"]


def test_shard_ids_need_a_count_and_must_fit_it() -> None:
    settings = Settings(_env_file=None, DISCORD_SHARD_COUNT="4", DISCORD_SHARD_IDS="2, 3")  # type: ignore[call-arg]
    assert settings.discord_shard_ids == [2, 3] and settings.discord_shard_count == 4
    with pytest.raises(ValidationError, match="needs DISCORD_SHARD_COUNT"):
        Settings(_env_file=None, DISCORD_SHARD_IDS="0")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="between 0 and"):
        Settings(_env_file=None, DISCORD_SHARD_COUNT="2", DISCORD_SHARD_IDS="0,2")  # type: ignore[call-arg]

"""DISCORD_SHARD_COUNT / DISCORD_SHARD_IDS: the client becomes an AutoShardedBot running those
shards; without them it is the single-connection bot, as before. Two instances on one database,
running shard 0 and shard 1 of 2, each serve the servers of their own shard."""

from __future__ import annotations

from typing import Any

import discord
import pytest
from discord.ext import commands
from pydantic import ValidationError

from adapters.discord_adapter.client import SeedBot, ShardedSeedBot
from adapters.discord_adapter.settings import DiscordSettings
from bot.request.models import JobKind
from tests.discord.conftest import RunningBot, StartBot, job_id_of, wait_result
from tests.emulators.discord import GUILD_ID, DiscordEmulator


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
    settings = DiscordSettings(_env_file=None, DISCORD_SHARD_COUNT="4", DISCORD_SHARD_IDS="2, 3")  # type: ignore[call-arg]
    assert settings.discord_shard_ids == [2, 3] and settings.discord_shard_count == 4
    with pytest.raises(ValidationError, match="needs DISCORD_SHARD_COUNT"):
        DiscordSettings(_env_file=None, DISCORD_SHARD_IDS="0")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="between 0 and"):
        DiscordSettings(_env_file=None, DISCORD_SHARD_COUNT="2", DISCORD_SHARD_IDS="0,2")  # type: ignore[call-arg]


def _interactions_seen(bot: RunningBot) -> list[int]:
    """Ids of the interactions this instance's client receives from here on."""
    client = bot.platform.bot
    assert client is not None
    seen: list[int] = []

    async def on_interaction(interaction: discord.Interaction[Any]) -> None:
        seen.append(interaction.id)

    client.add_listener(on_interaction, "on_interaction")
    return seen


def _guild_of(emu: DiscordEmulator, message: dict[str, Any]) -> str:
    return str(emu.channels[message["channel_id"]]["guild_id"])


async def test_commands_and_buttons_are_served_by_the_instance_owning_the_shard(
    emu: DiscordEmulator, start_bot: StartBot
) -> None:
    second = emu.add_guild("Second server")
    assert (emu.shard_of(GUILD_ID, 2), emu.shard_of(second["id"], 2)) == (0, 1)
    # Two instances (each its own runtime) on one database: shard 0 and shard 1 of 2.
    first_bot = await start_bot(discord_shard_count=2, discord_shard_ids=[0])
    second_bot = await start_bot(discord_shard_count=2, discord_shard_ids=[1])
    first_client, second_client = first_bot.platform.bot, second_bot.platform.bot
    assert first_client is not None and second_client is not None
    assert [g.id for g in first_client.guilds] == [int(GUILD_ID)]
    assert [g.id for g in second_client.guilds] == [int(second["id"])]
    sessions = emu.session_shards()
    assert sorted(sessions) == [0, 1]
    assert [c.shard for c in emu.gateway_connections if c.kind == "identify"] == [(0, 2), (1, 2)]
    first_seen, second_seen = _interactions_seen(first_bot), _interactions_seen(second_bot)

    # /imagine in each server: delivered to, acknowledged and answered by that shard's instance.
    in_first = await emu.send_slash_command("imagine", {"prompt": "a fox in the first server"})
    assert await in_first.wait_ack() == 5
    assert (in_first.shard, in_first.session_id) == (0, sessions[0])
    result_first = await wait_result(emu)
    assert _guild_of(emu, result_first) == GUILD_ID
    job_first = await first_bot.wait_job(job_id_of(result_first))

    in_second = await emu.send_slash_command(
        "imagine", {"prompt": "an owl in the second server"}, channel_id=second["text_channel_id"]
    )
    assert await in_second.wait_ack() == 5
    assert (in_second.shard, in_second.session_id) == (1, sessions[1])
    result_second = await wait_result(emu, exclude={job_first.id})
    assert _guild_of(emu, result_second) == second["id"]
    job_second = await second_bot.wait_job(job_id_of(result_second))
    assert job_second.prompt == "an owl in the second server"

    # Re-roll under the second server's result: served by the second instance.
    press = await emu.send_component(f"seedbot:reroll:{job_second.id}", message_id=result_second["id"])
    assert await press.wait_ack() == 5
    assert press.shard == 1
    again = await wait_result(emu, exclude={job_first.id, job_second.id})
    assert _guild_of(emu, again) == second["id"]
    assert again["id"] == press.original_message_id
    reroll = await second_bot.wait_job(job_id_of(again))
    assert (reroll.kind, reroll.parent_id, reroll.prompt) == (
        JobKind.REROLL,
        job_second.id,
        job_second.prompt,
    )
    # The lineage is in the shared database: the other instance reads the same rows.
    seen_by_first = await first_bot.runtime.ledger.get_job(reroll.id)
    assert seen_by_first is not None and seen_by_first.parent_id == job_second.id

    assert first_seen == [int(in_first.id)]
    assert second_seen == [int(in_second.id), int(press.id)]

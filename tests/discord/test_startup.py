"""Start-up: login, intents, command sync (global, or one server), the invite link, and the
process-wide URL patch being undone at close."""

from __future__ import annotations

import logging
from pathlib import Path

import discord.gateway
import discord.http
import pytest

from adapters.discord_adapter.settings import DiscordSettings
from bot.app.platform import load_plugins
from bot.app.runtime import open_runtime
from bot.config import Settings
from tests.discord.conftest import StartBot, settings_for, wait_result
from tests.emulators.discord import GUILD_ID, DiscordEmulator, Intents


async def test_login_syncs_global_commands_and_logs_the_invite(
    emu: DiscordEmulator, start_bot: StartBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="adapters.discord_adapter")
    await start_bot()

    put = emu.last_request("PUT", rf"^/applications/{emu.application_id}/commands$")
    synced = {(c["name"], c.get("type", 1)) for c in put.json}
    assert synced == {
        ("imagine", 1),
        ("edit", 1),
        ("usage", 1),
        ("history", 1),
        ("seedbot", 1),
        ("cast", 1),
        ("Edit with Seedream", 3),
    }
    imagine = emu.find_command("imagine")
    assert imagine is not None
    options = {o["name"]: o for o in imagine["options"]}
    assert list(options)[:5] == ["prompt", "image", "image2", "image3", "image4"]
    assert options["prompt"]["required"] and options["image"]["type"] == 11
    # The same choices, in the same order, on every surface (bot.request.validation.ASPECTS).
    assert [c["value"] for c in options["aspect"]["choices"]] == [
        "1:1", "4:3", "3:4", "3:2", "2:3", "16:9", "9:16", "21:9",
    ]  # fmt: skip
    assert (options["count"]["min_value"], options["count"]["max_value"]) == (1, 15)
    assert options["resolution"]["autocomplete"] is True
    assert {c["value"] for c in options["model"]["choices"]} == {"5.0-lite", "4.5"}
    assert "format" in options and options["watermark"]["type"] == 5
    assert options["style"]["autocomplete"] is True and options["ref"]["autocomplete"] is True
    # Servers, the bot's DM, group DMs and DMs between people; from a server or a user install.
    for command in put.json:
        if command["name"] == "seedbot":  # admin commands: servers that installed the bot
            assert (command["contexts"], command["integration_types"]) == ([0], [0])
        else:
            assert (command["contexts"], command["integration_types"]) == ([0, 1, 2], [0, 1]), command

    # The application allows the message content intent, so the bot asks for it.
    identify = await emu.wait_identified()
    wanted = Intents.GUILDS | Intents.GUILD_MESSAGES | Intents.DIRECT_MESSAGES | Intents.MESSAGE_CONTENT
    assert identify["intents"] == wanted

    [invite] = [r.getMessage() for r in caplog.records if "invite the bot" in r.getMessage()]
    assert f"client_id={emu.application_id}" in invite
    assert "scope=bot+applications.commands" in invite
    assert "permissions=" in invite
    [mine] = [r.getMessage() for r in caplog.records if "add it to your account" in r.getMessage()]
    assert mine.endswith(
        f"https://discord.com/oauth2/authorize?client_id={emu.application_id}"
        "&integration_type=1&scope=applications.commands"
    )
    assert emu.unhandled_requests() == []


async def test_guild_sync_without_content_intent_and_a_bot_id_apart_from_the_app_id(
    tmp_path: Path,
) -> None:
    async with DiscordEmulator(
        application_id="1400000000000000001",
        bot_user_id="1400000000000000999",
        allowed_privileged_intents=0,
    ) as emu:
        settings, discord_settings = settings_for(emu, tmp_path, discord_guild_id=int(GUILD_ID))
        async with open_runtime(settings) as runtime:
            platform = load_plugins()["discord"].create(runtime, discord_settings)
            assert platform is not None
            try:
                await platform.start()
                assert emu.api_base == discord.http.Route.BASE
                put = emu.last_request(
                    "PUT", rf"^/applications/{emu.application_id}/guilds/{GUILD_ID}/commands$"
                )
                assert {c["name"] for c in put.json} == {
                    "imagine",
                    "edit",
                    "usage",
                    "history",
                    "seedbot",
                    "cast",
                    "Edit with Seedream",
                }
                assert not emu.find_requests("PUT", rf"^/applications/{emu.application_id}/commands$")
                assert emu.identify_payload is not None
                assert not emu.identify_payload["intents"] & Intents.MESSAGE_CONTENT

                # Works end to end with a bot user id that is not the application id.
                inter = await emu.send_slash_command("imagine", {"prompt": "a small boat"})
                assert await inter.wait_ack() == 5
                result = await wait_result(emu)
                assert result["author"]["id"] == emu.bot_user_id
            finally:
                await platform.close()
    assert discord.http.Route.BASE == "https://discord.com/api/v10"
    assert str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == "wss://gateway.discord.gg/"


async def test_no_token_means_no_platform(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, database=str(tmp_path / "x.db"))  # type: ignore[call-arg]
    async with open_runtime(settings) as runtime:
        assert load_plugins()["discord"].create(runtime, DiscordSettings(_env_file=None)) is None

"""The emulator's gateway driven by discord.py: login, READY, command sync, reconnects, shards."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import discord
import discord.gateway
import discord.http
import pytest

from tests.emulators.discord import (
    APPLICATION_ID,
    BOT_ROLE_ID,
    BOT_USER_ID,
    GUILD_ID,
    OTHER_CHANNEL_ID,
    TEXT_CHANNEL_ID,
    DiscordEmulator,
    Intents,
)
from tests.emulators.discord.conftest import make_bot

# ----------------------------------------------------------------------------------------------
# login, READY, sync
# ----------------------------------------------------------------------------------------------


async def test_login_ready_and_command_sync(emu: DiscordEmulator) -> None:
    base_before = discord.http.Route.BASE
    gateway_before = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    bot = make_bot()
    ready = asyncio.Event()

    @bot.event
    async def on_ready() -> None:
        ready.set()

    @bot.tree.command(description="Say hello")
    async def hello(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("hi")

    async with emu.run_client(bot):
        assert emu.api_base == discord.http.Route.BASE
        await asyncio.wait_for(ready.wait(), 1)
        assert bot.user is not None and bot.user.id == int(BOT_USER_ID)
        assert bot.application_id == int(APPLICATION_ID)
        identify = await emu.wait_identified()
        assert identify["intents"] == bot.intents.value == emu.intents
        assert identify["token"] == emu.token
        conn = emu.gateway_connections[0]
        assert conn.query["v"] == "10" and conn.query["encoding"] == "json" and conn.kind == "identify"
        guild = bot.get_guild(int(GUILD_ID))
        assert guild is not None and guild.me is not None
        channel = guild.get_channel(int(TEXT_CHANNEL_ID))
        assert isinstance(channel, discord.TextChannel) and channel.name == "general"
        assert channel.permissions_for(guild.me).attach_files
        assert emu.last_request("GET", r"^/users/@me$").headers["Authorization"] == f"Bot {emu.token}"

        synced = await bot.tree.sync()
        assert [c.name for c in synced] == ["hello"]
        stored = emu.find_command("hello")
        assert stored is not None and synced[0].id == int(stored["id"])
        put = emu.last_request("PUT", rf"^/applications/{APPLICATION_ID}/commands$")
        assert put.json[0]["name"] == "hello" and put.status == 200

        inter = await emu.send_slash_command("hello")
        assert await inter.wait_ack() == 4
        assert inter.original is not None and inter.original["content"] == "hi"
    assert bot.is_closed()
    assert base_before == discord.http.Route.BASE
    assert gateway_before == discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    assert emu.unhandled_requests() == []


class _Translator(discord.app_commands.Translator):
    def __init__(self, names: dict[str, str], description: str) -> None:
        self.names = names
        self.description = description

    async def translate(
        self,
        string: discord.app_commands.locale_str,
        locale: discord.Locale,
        context: discord.app_commands.TranslationContextTypes,
    ) -> str | None:
        if locale is not discord.Locale.japanese:
            return None
        if context.location is discord.app_commands.TranslationContextLocation.command_description:
            return self.description
        return self.names.get(string.message)


@pytest.mark.parametrize(
    ("names", "description", "error"),
    [
        ({"hello": "こんにちは", "who": "相手"}, "挨拶します", None),
        ({"hello": "Hello"}, "挨拶します", "0.name_localizations.ja: Command name is invalid"),  # upper case
        ({"who": "誰 に"}, "挨拶します", "0.options.0.name_localizations.ja: Command name is invalid"),
        ({}, "あ" * 101, "0.description_localizations.ja: Must be between 1 and 100"),
    ],
)
async def test_command_localizations_follow_discords_rules(
    emu: DiscordEmulator, names: dict[str, str], description: str, error: str | None
) -> None:
    bot = make_bot()

    @bot.tree.command(description="Say hello")
    async def hello(interaction: discord.Interaction, who: str) -> None:
        await interaction.response.send_message(f"hi {who} ({interaction.locale.value})")

    async with emu.run_client(bot):
        await bot.tree.set_translator(_Translator(names, description))
        if error is not None:
            with pytest.raises(discord.HTTPException) as refused:
                await bot.tree.sync()
            assert refused.value.status == 400 and error in str(refused.value.text)
            return
        await bot.tree.sync()
        stored = emu.find_command("hello")
        assert stored is not None
        assert stored["name_localizations"] == {"ja": "こんにちは"}
        assert stored["description_localizations"] == {"ja": "挨拶します"}
        assert stored["options"][0]["name_localizations"] == {"ja": "相手"}
        with pytest.raises(ValueError, match="not a Discord locale"):
            await emu.send_slash_command("hello", {"who": "x"}, locale="xx-XX")
        emu.set_guild_locale("ja")
        inter = await emu.send_slash_command("hello", {"who": "x"}, locale="ja")
        assert inter.payload["locale"] == inter.payload["guild_locale"] == "ja"
        assert await inter.wait_ack() == 4 and inter.original is not None
        assert inter.original["content"] == "hi x (ja)"


async def test_bad_token_is_login_failure(emu: DiscordEmulator) -> None:
    with pytest.raises(discord.LoginFailure):
        async with emu.run_client(make_bot(), token="wrong"):
            pass
    assert emu.last_request("GET", "/users/@me").status == 401


async def test_disallowed_privileged_intent_closes_4014() -> None:
    async with DiscordEmulator(allowed_privileged_intents=0) as emu:
        with pytest.raises(discord.PrivilegedIntentsRequired):
            async with emu.run_client(make_bot(message_content=True)):
                pass
        assert emu.gateway_connections[0].close_code == 4014


# ----------------------------------------------------------------------------------------------
# gateway reconnects
# ----------------------------------------------------------------------------------------------


async def test_gateway_reconnect_resume_and_invalid_session(emu: DiscordEmulator) -> None:
    bot = make_bot()
    contents: asyncio.Queue[str] = asyncio.Queue()

    async def before_identify_hook(shard_id: int | None, *, initial: bool = False) -> None:
        pass  # discord.py sleeps 5 s before every non-initial IDENTIFY; skip that in tests

    bot.before_identify_hook = before_identify_hook  # type: ignore[method-assign]

    @bot.event
    async def on_message(message: discord.Message) -> None:
        if message.author != bot.user:
            await contents.put(message.content)

    async with emu.run_client(bot):
        await emu.disconnect_gateway(op=7)
        await emu.wait_resumed(1)
        conn = await emu.wait_connections(2)
        assert conn.kind == "resume" and conn.path == "/resume-gateway"
        resume = [f for f in emu.gateway_received if f.get("op") == 6][-1]["d"]
        assert resume["seq"] >= 2 and resume["token"] == emu.token
        await emu.send_message("after resume")
        assert await asyncio.wait_for(contents.get(), 2) == "after resume"

        await emu.disconnect_gateway(op=9, resumable=False)
        await emu.wait_ready()
        await emu.wait_connections(3)
        assert emu.identify_count == 2
        await emu.send_message("after re-identify")
        assert await asyncio.wait_for(contents.get(), 2) == "after re-identify"


# ----------------------------------------------------------------------------------------------
# shards
# ----------------------------------------------------------------------------------------------


async def _identify(
    http: aiohttp.ClientSession, emu: DiscordEmulator, shard: list[int] | None
) -> aiohttp.ClientWebSocketResponse:
    ws = await http.ws_connect(emu.gateway_url + "?v=10&encoding=json")
    assert (await ws.receive_json(timeout=2))["op"] == 10
    d: dict[str, Any] = {
        "token": emu.token,
        "intents": Intents.GUILDS | Intents.GUILD_MESSAGES | Intents.DIRECT_MESSAGES,
        "properties": {},
    }
    if shard is not None:
        d["shard"] = shard
    await ws.send_json({"op": 2, "d": d})
    return ws


async def _dispatch(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    while True:
        frame: dict[str, Any] = await ws.receive_json(timeout=2)
        if frame["op"] == 0:
            return frame


async def test_shards_get_their_own_sessions_guilds_and_events(emu: DiscordEmulator) -> None:
    other = emu.add_guild("Other")
    assert (emu.shard_of(GUILD_ID, 2), emu.shard_of(other["id"], 2)) == (0, 1)
    emu.register_commands([{"name": "ping", "description": "Ping"}])
    async with aiohttp.ClientSession() as http:
        ws1 = await _identify(http, emu, [1, 2])
        ready = await _dispatch(ws1)
        assert ready["t"] == "READY" and ready["d"]["shard"] == [1, 2]
        assert ready["d"]["guilds"] == [{"id": other["id"], "unavailable": True}]
        guild = (await _dispatch(ws1))["d"]
        assert guild["id"] == other["id"] and guild["system_channel_id"] == other["text_channel_id"]
        assert [c["id"] for c in guild["channels"]] == [other["text_channel_id"]]
        assert {r["id"] for r in guild["roles"]} == {other["id"], other["bot_role_id"]}
        [me] = [m for m in guild["members"] if m["user"]["id"] == BOT_USER_ID]
        assert me["roles"] == [other["bot_role_id"]]

        ws0 = await _identify(http, emu, [0, 2])  # another shard: the first session stays
        ready = await _dispatch(ws0)
        assert ready["d"]["guilds"] == [{"id": GUILD_ID, "unavailable": True}]
        guild = (await _dispatch(ws0))["d"]
        assert guild["id"] == GUILD_ID
        assert [c["id"] for c in guild["channels"]] == [TEXT_CHANNEL_ID, OTHER_CHANNEL_ID]
        [me] = [m for m in guild["members"] if m["user"]["id"] == BOT_USER_ID]
        assert me["roles"] == [BOT_ROLE_ID]
        assert sorted(emu.session_shards()) == [0, 1] and not ws1.closed

        # Guild events go to the shard owning the guild, DMs to shard 0.
        inter = await emu.send_slash_command("ping", channel_id=other["text_channel_id"])
        assert inter.shard == 1 and inter.session_id == emu.session_shards()[1]
        await emu.send_message("in the first guild")
        await emu.send_message("a DM", dm=True)
        await emu.send_message("in the other guild", channel_id=other["text_channel_id"])
        frame = await _dispatch(ws1)
        assert (frame["t"], frame["s"], frame["d"]["guild_id"]) == ("INTERACTION_CREATE", 3, other["id"])
        assert frame["d"]["member"]["roles"] == []
        frame = await _dispatch(ws1)  # nothing of the first guild or the DM came in between
        assert (frame["t"], frame["d"]["guild_id"]) == ("MESSAGE_CREATE", other["id"])
        frame = await _dispatch(ws0)
        assert (frame["t"], frame["s"], frame["d"]["guild_id"]) == ("MESSAGE_CREATE", 3, GUILD_ID)
        frame = await _dispatch(ws0)
        assert frame["t"] == "MESSAGE_CREATE" and "guild_id" not in frame["d"]

        # A second IDENTIFY of the same shard replaces that shard's session only.
        ws1b = await _identify(http, emu, [1, 2])
        assert (await _dispatch(ws1b))["t"] == "READY"
        closing = await ws1.receive(timeout=2)
        assert (closing.type, closing.data) == (aiohttp.WSMsgType.CLOSE, 4009)
        assert not ws0.closed
        for ws in (ws0, ws1b):
            await ws.close()

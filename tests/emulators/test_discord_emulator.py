"""Smoke tests: the real discord.py library against the loopback Discord emulator (no mocks)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import discord.gateway
import discord.http
import pytest
from discord import app_commands
from discord.ext import commands
from PIL import Image

from tests.emulators.discord_emulator import (
    APPLICATION_ID,
    BOT_ROLE_ID,
    BOT_USER_ID,
    GUILD_ID,
    HUMAN_USER_ID,
    OTHER_CHANNEL_ID,
    TEXT_CHANNEL_ID,
    DiscordEmulator,
    Intents,
)

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
# slash command with attachment -> defer -> followup with file -> thread
# ----------------------------------------------------------------------------------------------


async def test_slash_command_attachment_followup_and_thread(emu: DiscordEmulator) -> None:
    bot = make_bot()
    seen: dict[str, object] = {}
    out_png = png_bytes((0, 255, 0), (5, 4))

    @bot.tree.command(description="Analyze an image", guild=GUILD)
    @app_commands.describe(prompt="What to do", image="Input image")
    async def analyze(interaction: discord.Interaction, prompt: str, image: discord.Attachment) -> None:
        await interaction.response.defer(thinking=True)
        data = await image.read()
        seen["input"] = data
        seen["filesize_limit"] = interaction.filesize_limit
        msg = await interaction.followup.send(
            f"{prompt}: {len(data)} bytes", file=discord.File(io.BytesIO(out_png), "out.png"), wait=True
        )
        # discord.py quirk: a followup WebhookMessage has no guild (its channel is a guild-less
        # PartialMessageable), so msg.create_thread() raises ValueError; go through the channel.
        assert isinstance(interaction.channel, discord.TextChannel)
        thread = await interaction.channel.create_thread(name="analysis", message=msg)
        await thread.send("details in thread")
        seen["thread"] = thread

    async with emu.run_client(bot):
        await bot.tree.sync(guild=GUILD)
        src = png_bytes((255, 0, 0))
        att = emu.add_cdn_file("my input.png", src)
        assert att["filename"] == "my_input.png" and att["content_type"] == "image/png"
        assert (att["width"], att["height"]) == (8, 6)

        inter = await emu.send_slash_command("analyze", {"prompt": "describe", "image": att})
        assert inter.data["guild_id"] == GUILD_ID  # guild-scoped command
        assert await inter.wait_ack() == 5
        thread_msg = await emu.wait_for_message(lambda m: m["content"] == "details in thread")

        assert seen["input"] == src
        assert seen["filesize_limit"] == emu.upload_limit
        assert emu.find_requests("GET", r"^/cdn/attachments/")[0].status == 200

        callback = emu.last_request("POST", rf"^/interactions/{inter.id}/")
        assert callback.json == {"type": 5} and callback.query["with_response"] == "1"
        assert "authorization" not in callback.headers  # headers are case-insensitive

        followup = emu.last_request("POST", rf"^/webhooks/{APPLICATION_ID}/{inter.token}$")
        assert followup.files == [("out.png", "application/octet-stream", out_png)]
        assert followup.file_fields == ["files[0]"]
        assert followup.payload_json["content"] == f"describe: {len(src)} bytes"
        assert followup.payload_json["attachments"] == [{"id": 0, "filename": "out.png"}]
        assert followup.query["wait"] == "1"

        # the first followup after a thinking-defer replaces the loading message (same id)
        [result] = inter.followups
        assert result["id"] == inter.original_message_id
        assert not result["flags"] & 128
        assert result["type"] == 20 and result["interaction_metadata"]["name"] == "analyze"
        att_out = result["attachments"][0]
        assert att_out["url"].startswith(emu.cdn_base) and att_out["content_type"] == "image/png"
        assert (att_out["width"], att_out["height"]) == (5, 4)
        assert emu.cdn_bytes(att_out["url"]) == out_png

        # thread started from the message shares its id; THREAD_CREATE reached the client
        thread_ch = emu.channels[result["id"]]
        assert thread_ch["type"] == 11 and thread_ch["parent_id"] == TEXT_CHANNEL_ID
        assert thread_msg["channel_id"] == result["id"]
        await eventually(lambda: "thread" in seen)
        thread = seen["thread"]
        assert isinstance(thread, discord.Thread) and thread.id == int(result["id"])
        await eventually(lambda: bot.get_channel(int(result["id"])) is not None)
        assert emu.gateway_sent[-1]["t"] in {"MESSAGE_CREATE", "THREAD_CREATE"}
        assert any(f.get("t") == "THREAD_CREATE" and f["d"]["newly_created"] for f in emu.gateway_sent)


async def test_slash_command_validation_is_strict(emu: DiscordEmulator) -> None:
    bot = make_bot()

    @bot.tree.command(description="Generate")
    @app_commands.describe(prompt="Prompt", steps="Steps")
    async def generate(
        interaction: discord.Interaction, prompt: str, steps: app_commands.Range[int, 1, 50] = 20
    ) -> None:
        await interaction.response.send_message(f"{prompt}/{steps}")

    async with emu.run_client(bot):
        with pytest.raises(LookupError, match="not been synced"):
            await emu.send_slash_command("generate", {"prompt": "x"})
        await bot.tree.sync()
        with pytest.raises(ValueError, match="missing required"):
            await emu.send_slash_command("generate", {})
        with pytest.raises(ValueError, match="unknown option"):
            await emu.send_slash_command("generate", {"prompt": "x", "seed": 1})
        with pytest.raises(ValueError, match="max_value"):
            await emu.send_slash_command("generate", {"prompt": "x", "steps": 51})
        inter = await emu.send_slash_command("generate", {"prompt": "cat", "steps": 7})
        assert await inter.wait_ack() == 4
        assert inter.original is not None and inter.original["content"] == "cat/7"


# ----------------------------------------------------------------------------------------------
# replies to bot messages, message content intent
# ----------------------------------------------------------------------------------------------


async def test_reply_to_bot_message_resolves_and_downloads_attachment(emu: DiscordEmulator) -> None:
    bot = make_bot()
    got: asyncio.Queue[tuple[discord.Message, bytes]] = asyncio.Queue()

    @bot.event
    async def on_message(message: discord.Message) -> None:
        if message.author == bot.user:
            return
        resolved = message.reference.resolved if message.reference else None
        assert isinstance(resolved, discord.Message)
        await got.put((message, await resolved.attachments[0].read()))

    async with emu.run_client(bot):
        channel = bot.get_channel(int(TEXT_CHANNEL_ID))
        assert isinstance(channel, discord.TextChannel)
        img = png_bytes((0, 0, 255))
        sent = await channel.send("here is your image", file=discord.File(io.BytesIO(img), "result.png"))
        rec = emu.last_request("POST", rf"^/channels/{TEXT_CHANNEL_ID}/messages$")
        assert rec.files == [("result.png", "application/octet-stream", img)]
        assert sent.attachments[0].url.startswith(emu.cdn_base)
        assert sent.attachments[0].width == 8

        await emu.send_message("make it bigger", reply_to=sent.id)
        message, data = await asyncio.wait_for(got.get(), 2)
        assert message.type is discord.MessageType.reply
        assert message.reference is not None and message.reference.message_id == sent.id
        assert data == img
        assert bot.user is not None and bot.user.mentioned_in(message)  # reply ping
        assert message.author.id == int(HUMAN_USER_ID) and isinstance(message.author, discord.Member)


async def test_message_content_requires_intent_or_mention(emu: DiscordEmulator) -> None:
    bot = make_bot(message_content=False)
    contents: asyncio.Queue[str] = asyncio.Queue()

    @bot.event
    async def on_message(message: discord.Message) -> None:
        if message.author != bot.user:
            await contents.put(message.content)

    async with emu.run_client(bot):
        await emu.send_message("nobody mentioned")
        assert await asyncio.wait_for(contents.get(), 2) == ""
        await emu.send_message(f"{emu.bot_mention} draw a cat", mentions=[BOT_USER_ID])
        assert await asyncio.wait_for(contents.get(), 2) == f"{emu.bot_mention} draw a cat"
        await emu.send_message("in a DM", dm=True)
        assert await asyncio.wait_for(contents.get(), 2) == "in a DM"


# ----------------------------------------------------------------------------------------------
# components, modals, context menus
# ----------------------------------------------------------------------------------------------


class ResultView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Regenerate", custom_id="seedbot:regen", style=discord.ButtonStyle.primary)
    async def regen(self, interaction: discord.Interaction, button: discord.ui.Button[ResultView]) -> None:
        await interaction.response.edit_message(content="regenerating…", view=None)

    @discord.ui.button(label="Info", custom_id="seedbot:info")
    async def info(self, interaction: discord.Interaction, button: discord.ui.Button[ResultView]) -> None:
        await interaction.response.send_message("only you can see this", ephemeral=True)


async def test_persistent_button_press(emu: DiscordEmulator) -> None:
    bot = make_bot()

    async def setup_hook() -> None:
        bot.add_view(ResultView())  # persistent: not bound to a message id

    bot.setup_hook = setup_hook  # type: ignore[method-assign]
    # a message left behind by a previous run of the bot
    old = emu.add_message("old result", components=ResultView().to_components())

    async with emu.run_client(bot):
        info = await emu.send_component("seedbot:info")
        assert info.payload["message"]["id"] == old["id"]
        assert await info.wait_ack() == 4
        assert info.original is not None and info.original["flags"] & 64
        assert not any(f.get("t") == "MESSAGE_CREATE" and "only you" in str(f["d"]) for f in emu.gateway_sent)

        regen = await emu.send_component("seedbot:regen", message_id=old["id"])
        assert await regen.wait_ack() == 7
        assert emu.messages[old["id"]]["content"] == "regenerating…"
        assert emu.messages[old["id"]]["components"] == []
        with pytest.raises(LookupError):
            await emu.send_component("seedbot:regen", message_id=old["id"])  # button is gone


class PromptModal(discord.ui.Modal, title="Refine prompt"):
    prompt: discord.ui.TextInput[PromptModal] = discord.ui.TextInput(
        label="Prompt", custom_id="prompt", max_length=200
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"refined: {self.prompt.value}", ephemeral=True)


async def test_modal_submit(emu: DiscordEmulator) -> None:
    bot = make_bot()

    @bot.tree.command(description="Refine a prompt")
    async def refine(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(PromptModal())

    async with emu.run_client(bot):
        await bot.tree.sync()
        inter = await emu.send_slash_command("refine")
        assert await inter.wait_ack() == 9
        assert inter.modal is not None and inter.modal["title"] == "Refine prompt"
        with pytest.raises(ValueError, match="no inputs"):
            await inter.submit_modal({"nope": "x"})
        with pytest.raises(ValueError, match="max_length"):
            await inter.submit_modal({"prompt": "x" * 201})
        submit = await inter.submit_modal({"prompt": "a watercolor cat"})
        assert submit.type == 5 and submit.data["custom_id"] == inter.modal["custom_id"]
        assert await submit.wait_ack() == 4
        assert submit.original is not None
        assert submit.original["content"] == "refined: a watercolor cat" and submit.original["flags"] & 64


async def test_message_context_menu_with_file_response(emu: DiscordEmulator) -> None:
    bot = make_bot()

    @bot.tree.context_menu(name="Upscale")
    async def upscale(interaction: discord.Interaction, message: discord.Message) -> None:
        data = await message.attachments[0].read()
        await interaction.response.send_message(
            f"upscaled {message.id}", file=discord.File(io.BytesIO(data), "up.png")
        )

    async with emu.run_client(bot):
        await bot.tree.sync()
        src = png_bytes((9, 9, 9))
        user_msg = await emu.send_message("look", attachments=[("cat.png", src)])
        inter = await emu.send_message_command("Upscale", user_msg["id"])
        assert inter.data["resolved"]["messages"][user_msg["id"]]["content"] == "look"
        assert await inter.wait_ack() == 4
        callback = emu.last_request("POST", rf"^/interactions/{inter.id}/")
        assert callback.files == [("up.png", "application/octet-stream", src)]
        assert callback.payload_json["type"] == 4
        original = inter.original
        assert original is not None and original["content"] == f"upscaled {user_msg['id']}"
        assert original["type"] == 23 and emu.cdn_bytes(original["attachments"][0]["url"]) == src


async def test_dm_slash_command_and_guild_only_rejected(emu: DiscordEmulator) -> None:
    bot = make_bot()
    seen: dict[str, object] = {}

    @bot.tree.command(description="Who am I")
    async def whoami(interaction: discord.Interaction) -> None:
        seen["user"] = interaction.user
        seen["guild"] = interaction.guild
        await interaction.response.send_message(f"you are {interaction.user.name}")

    @bot.tree.command(description="Guild only")
    @app_commands.guild_only()
    async def admin(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("ok")

    async with emu.run_client(bot):
        await bot.tree.sync()
        inter = await emu.send_slash_command("whoami", dm=True)
        assert "user" in inter.payload and "member" not in inter.payload
        assert await inter.wait_ack() == 4
        assert type(seen["user"]) is discord.User and seen["guild"] is None
        assert inter.original is not None and inter.original["content"] == "you are alice"
        with pytest.raises(ValueError, match=r"not available in bot DMs|dm_permission"):
            await emu.send_slash_command("admin", dm=True)


# ----------------------------------------------------------------------------------------------
# faults: rate limits, 5xx, expired tokens, double acks
# ----------------------------------------------------------------------------------------------


async def test_rate_limit_with_via_is_retried(emu: DiscordEmulator) -> None:
    bot = make_bot()
    async with emu.run_client(bot):
        channel = bot.get_channel(int(TEXT_CHANNEL_ID))
        assert isinstance(channel, discord.TextChannel)
        path = rf"^/channels/{TEXT_CHANNEL_ID}/messages$"
        emu.rate_limit_next("POST", path, retry_after=0.05)
        mark = emu.mark()
        msg = await channel.send("hello")
        recs = emu.find_requests("POST", path)[-2:]
        assert [r.status for r in recs] == [429, 200] and recs[0].fault
        assert recs[0].response["retry_after"] == 0.05
        assert emu.messages[str(msg.id)]["content"] == "hello"
        assert len(emu.find_requests("POST", path)) == 2 and emu.mark() > mark

        emu.fail_next("POST", path, 429, headers={})  # no Via: discord.py treats it as a ban, raises
        with pytest.raises(discord.HTTPException) as exc:
            await channel.send("again")
        assert exc.value.status == 429

        emu.fail_next("GET", rf"/messages/{msg.id}$", 500)  # discord.py retries 5xx after ~1 s
        fetched = await channel.fetch_message(msg.id)
        assert fetched.content == "hello"


async def test_followup_rate_limit_and_expired_token(emu: DiscordEmulator) -> None:
    bot = make_bot()
    gate = asyncio.Event()
    outcome: asyncio.Queue[object] = asyncio.Queue()

    @bot.tree.command(description="Slow command")
    async def slow(interaction: discord.Interaction) -> None:
        await interaction.response.defer()
        await interaction.followup.send("first")
        await gate.wait()
        try:
            await interaction.followup.send("too late")
        except discord.NotFound as e:
            await outcome.put(e)
        else:
            await outcome.put("sent")

    async with emu.run_client(bot):
        await bot.tree.sync()
        emu.rate_limit_next("POST", r"^/webhooks/", retry_after=0.05)
        inter = await emu.send_slash_command("slow")
        [first] = await inter.wait_followups(1)
        assert first["content"] == "first"
        assert [r.status for r in emu.find_requests("POST", r"^/webhooks/")] == [429, 200]

        inter.expire()
        gate.set()
        err = await asyncio.wait_for(outcome.get(), 2)
        assert isinstance(err, discord.NotFound) and err.code == 10015
        assert emu.last_request("POST", r"^/webhooks/").response == {
            "message": "Unknown Webhook",
            "code": 10015,
        }


async def test_rest_strictness_without_client(emu: DiscordEmulator) -> None:
    auth = {"Authorization": f"Bot {emu.token}"}
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{emu.api_base}/users/@me") as r:
            assert r.status == 401
        async with http.get(f"{emu.api_base}/users/@me", headers=auth) as r:
            assert r.status == 200 and r.headers["Content-Type"] == "application/json"
        async with http.get(f"{emu.api_base}/guilds/{GUILD_ID}/audit-logs", headers=auth) as r:
            assert r.status == 404 and await r.json() == {"message": "404: Not Found", "code": 0}
        url = f"{emu.api_base}/channels/{TEXT_CHANNEL_ID}/messages"
        async with http.post(url, json={"content": ""}, headers=auth) as r:
            assert r.status == 400 and (await r.json())["code"] == 50006
        async with http.post(url, json={"content": "x" * 2001}, headers=auth) as r:
            body = await r.json()
            assert r.status == 400 and body["code"] == 50035 and "content" in body["errors"]
        async with http.post(f"{emu.api_base}/interactions/1/nope/callback", json={"type": 5}) as r:
            assert r.status == 404 and (await r.json())["code"] == 10062  # no auth needed, unknown token
        async with http.get(f"{emu.cdn_base}/attachments/1/2/x.png") as r:
            assert r.status == 404
        att = emu.add_cdn_file("a.txt", b"hello")
        async with http.get(att["url"].split("?")[0]) as r:
            assert r.status == 404  # unsigned CDN links are refused, like real Discord
        async with http.get(att["proxy_url"]) as r:
            assert r.status == 200 and await r.read() == b"hello"
    assert [r.path for r in emu.unhandled_requests()] == [f"/guilds/{GUILD_ID}/audit-logs"]


async def test_double_ack_and_ack_deadline() -> None:
    async with DiscordEmulator(interaction_ack_deadline=0.2) as emu:
        bot = make_bot()
        release = asyncio.Event()

        @bot.tree.command(description="Acks")
        async def acks(interaction: discord.Interaction) -> None:
            await interaction.response.defer()

        @bot.tree.command(description="Too slow")
        async def sleepy(interaction: discord.Interaction) -> None:
            await release.wait()
            try:
                await interaction.response.send_message("late")
            except discord.NotFound as e:
                interaction.extras["error"] = e
                emu.late_error = e  # type: ignore[attr-defined]

        async with emu.run_client(bot):
            await bot.tree.sync()
            inter = await emu.send_slash_command("acks")
            assert await inter.wait_ack() == 5
            async with aiohttp.ClientSession() as http:
                url = f"{emu.api_base}/interactions/{inter.id}/{inter.token}/callback?with_response=1"
                async with http.post(url, json={"type": 4, "data": {"content": "again"}}) as r:
                    assert r.status == 400 and (await r.json())["code"] == 40060

            late = await emu.send_slash_command("sleepy")
            await asyncio.sleep(0.25)
            release.set()
            await eventually(lambda: hasattr(emu, "late_error"))
            assert emu.late_error.code == 10062  # type: ignore[attr-defined]
            assert not late.acknowledged


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

"""Injected faults and Discord's strictness: rate limits, 5xx, expired tokens, double acks."""

from __future__ import annotations

import asyncio

import aiohttp
import discord
import discord.gateway
import discord.http
import pytest

from tests.emulators.discord import GUILD_ID, TEXT_CHANNEL_ID, DiscordEmulator
from tests.emulators.discord.conftest import eventually, make_bot

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
        except discord.HTTPException as e:
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
        # An expired token is 401 Invalid Webhook Token, not 404 (discord-api-docs #6851).
        assert isinstance(err, discord.HTTPException) and (err.status, err.code) == (401, 50027)
        assert emu.last_request("POST", r"^/webhooks/").response == {
            "message": "Invalid Webhook Token",
            "code": 50027,
        }


async def test_a_channel_deleted_under_a_deferred_command(emu: DiscordEmulator) -> None:
    bot = make_bot()
    gate = asyncio.Event()
    outcome: asyncio.Queue[object] = asyncio.Queue()

    @bot.tree.command(description="Slow command")
    async def slow(interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        await gate.wait()
        for call in (
            lambda: interaction.edit_original_response(content="done"),
            lambda: interaction.followup.send("done", wait=True),
            lambda: bot.get_partial_messageable(int(TEXT_CHANNEL_ID)).send("done"),
        ):
            try:
                await call()
            except discord.NotFound as e:
                await outcome.put(e.code)

    async with emu.run_client(bot):
        await bot.tree.sync()
        inter = await emu.send_slash_command("slow")
        assert await inter.wait_ack() == 5
        channel = bot.get_channel(int(TEXT_CHANNEL_ID))
        assert isinstance(channel, discord.TextChannel)
        thread = await (await channel.send("a thread's starter")).create_thread(name="side")
        await thread.send("in the thread")
        deleted = await emu.delete_channel(TEXT_CHANNEL_ID)
        assert deleted["id"] == TEXT_CHANNEL_ID and str(thread.id) not in emu.channels
        assert not [m for m in emu.messages.values() if m["channel_id"] in (TEXT_CHANNEL_ID, str(thread.id))]
        await eventually(lambda: bot.get_channel(int(TEXT_CHANNEL_ID)) is None)  # CHANNEL_DELETE
        gate.set()
        # The response went with the channel (10008); a follow-up or a post has nowhere to go.
        assert [await asyncio.wait_for(outcome.get(), 2) for _ in range(3)] == [10008, 10003, 10003]


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
    async with DiscordEmulator() as emu:
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

            # The deadline only now: the second ack above, on a loaded machine, came past 0.2 s
            # and met "unknown interaction" before "already acknowledged".
            emu.interaction_ack_deadline = 0.2
            late = await emu.send_slash_command("sleepy")
            await asyncio.sleep(0.25)
            release.set()
            await eventually(lambda: hasattr(emu, "late_error"))
            assert emu.late_error.code == 10062  # type: ignore[attr-defined]
            assert not late.acknowledged

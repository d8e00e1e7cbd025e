"""Messages with discord.py: replies to the bot's messages, the MESSAGE_CONTENT intent."""

from __future__ import annotations

import asyncio
import io

import discord
import discord.gateway
import discord.http

from tests.emulators.discord import BOT_USER_ID, HUMAN_USER_ID, TEXT_CHANNEL_ID, DiscordEmulator
from tests.emulators.discord.conftest import make_bot, png_bytes

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

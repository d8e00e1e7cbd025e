"""Messages addressed to the bot: mentions, replies to its results, DMs.

    @seedbot a red fox --ar 3:2 (+ images)   -> like /imagine (the images are the references)
    reply to a result: "make it night #2"    -> edit: the result's images (or #2), then new ones
    @seedbot, replying to someone's images   -> those images, then any attached, as references
    in a DM, any message                     -> like a mention
    "usage", "history", "help", "admin ..."  -> answered (the conversation reads typed commands)

Without the privileged message-content intent Discord still delivers the text and attachments
of messages that ping the bot (a reply pings its author unless the user turns that off) and of
DMs; with the intent, replies to a result work with the ping turned off too. The bot's own
messages come back through the gateway and are ignored here.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import discord

from adapters.discord_adapter.attachments import DiscordAttachments, image_attachments
from adapters.discord_adapter.delivery import said
from adapters.discord_adapter.stream import job_message
from adapters.discord_adapter.surface import DiscordSurface
from adapters.discord_adapter.text import mentions_bot, prompt_from_message, words_from_message
from bot import messages
from bot.conversation.turns import Ask, Edit, ResultRef

__all__ = ["MessageHandler"]

log = logging.getLogger(__name__)

_USER_MESSAGES = (discord.MessageType.default, discord.MessageType.reply)
_THREAD_LOOKBACK = 50  # messages read back for seedbot's latest result in its thread


class MessageHandler:
    def __init__(self, surface: DiscordSurface, client: discord.Client) -> None:
        self.surface = surface
        self.client = client

    async def on_message(self, message: discord.Message) -> None:
        me = self.client.user
        if me is None or message.author.bot or message.webhook_id is not None:
            return  # our own messages (echoed by the gateway), other bots, webhooks
        if message.type not in _USER_MESSAGES:
            return
        in_dm = message.guild is None
        replied = await self._replied_message(message)
        pinged = mentions_bot(message, me.id)
        channel = message.channel
        if (
            replied is None
            and not pinged
            and isinstance(channel, discord.Thread)
            and channel.owner_id == me.id
        ):
            # A message in a thread seedbot started edits its latest result, as in a Slack
            # thread; one that names someone else, a role or everyone is talk between people
            # (@everyone typed without the right to ping is still said to everyone).
            if any(u.id != me.id for u in message.mentions) or message.role_mentions or _to_all(message):
                return
            replied = await self._latest_result(channel, me.id)
        to_result = replied is not None and replied.author.id == me.id
        if not (in_dm or pinged or to_result):
            return
        text = prompt_from_message(message, me.id)
        if not text and not message.attachments and not (in_dm or pinged):
            return  # without the content intent an unpinged reply arrives empty
        if self.surface.tasks.closing:
            await self._answer(message, messages.SHUTTING_DOWN)
            return
        attachments = self.surface.attachments(message.attachments)
        words = words_from_message(message, me.id)
        if to_result and replied is not None:
            result = ResultRef(message_id=str(job_message(replied.id)))
            fallback = await self._asked_images(replied, message.author.id)
            edit = Edit(result, text, attachments, fallback=fallback, commands=True, words=words)
            self.surface.message_turn(message, edit, "reply")
            return
        quoted = self.surface.attachments(image_attachments(replied) if replied is not None else [])
        ask = Ask(text, attachments=attachments, quoted=quoted, commands=True, words=words)
        self.surface.message_turn(message, ask, "dm" if in_dm else "mention")

    async def _asked_images(self, notice: discord.Message, author_id: int) -> DiscordAttachments | None:
        """A reply to the bot's words that answered someone's images ("What should I do with the
        image?"): those images, when they are the replier's own, for the core to edit if the
        words were no result. A result has its own images: nothing is fetched for it."""
        if notice.attachments or notice.reference is None:
            return None
        asked = await self._replied_message(notice)
        if asked is None or asked.author.id != author_id or not image_attachments(asked):
            return None
        return self.surface.attachments(image_attachments(asked))

    @staticmethod
    async def _latest_result(thread: discord.Thread, me: int) -> discord.Message | None:
        """The newest of seedbot's results in its thread (a message with images), else its
        newest message there (the status of the first one, still being made)."""
        newest = None
        with contextlib.suppress(discord.HTTPException):
            async for seen in thread.history(limit=_THREAD_LOOKBACK):
                if seen.author.id != me:
                    continue
                if seen.attachments:
                    return seen
                newest = newest or seen
        return newest

    async def _replied_message(self, message: discord.Message) -> discord.Message | None:
        ref = message.reference
        if ref is None or ref.message_id is None:
            return None
        if isinstance(ref.resolved, discord.Message):
            return ref.resolved
        if isinstance(ref.resolved, discord.DeletedReferencedMessage):
            return None
        if ref.cached_message is not None:
            return ref.cached_message
        channel: Any = message.channel
        with contextlib.suppress(discord.HTTPException, AttributeError):
            fetched: discord.Message = await channel.fetch_message(ref.message_id)
            return fetched
        return None

    @staticmethod
    async def _answer(message: discord.Message, text: str) -> None:
        try:
            await message.reply(mention_author=False, **said(text).as_send())
        except discord.HTTPException as exc:
            log.info("discord: could not answer message %s: %s", message.id, exc.status)


def _to_all(message: discord.Message) -> bool:
    return message.mention_everyone or "@everyone" in message.content or "@here" in message.content

"""Messages addressed to the bot: mentions, replies to its results, DMs.

    @seedbot a red fox --ar 3:2 (+ images)   -> like /imagine (the images are the references)
    reply to a result: "make it night #2"    -> edit: the result's images (or #2), then new ones
    @seedbot, replying to someone's images   -> those images, then any attached, as references
    in a DM, any message                     -> like a mention ("usage" / "help" answer directly)

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

from adapters.discord_adapter.attachments import image_attachments
from adapters.discord_adapter.delivery import NO_PINGS, MessageAnchor
from adapters.discord_adapter.studio import PLATFORM, Origin, Studio, requester_for
from adapters.discord_adapter.text import mentions_bot, prompt_from_message
from bot import messages
from bot.conversation.compose import compose_edit, compose_new
from bot.errors import InvalidRequest
from bot.request.flags import FLAG_HELP, parse_text
from bot.request.models import JobStatus

__all__ = ["MessageHandler"]

log = logging.getLogger(__name__)

_USER_MESSAGES = (discord.MessageType.default, discord.MessageType.reply)


class MessageHandler:
    def __init__(self, studio: Studio, client: discord.Client) -> None:
        self.studio = studio
        self.client = client

    async def on_message(self, message: discord.Message) -> None:
        me = self.client.user
        if me is None or message.author.bot or message.webhook_id is not None:
            return  # our own messages (echoed by the gateway), other bots, webhooks
        if message.type not in _USER_MESSAGES:
            return
        in_dm = message.guild is None
        replied = await self._replied_message(message)
        to_result = replied is not None and replied.author.id == me.id
        pinged = mentions_bot(message, me.id)
        if not (in_dm or pinged or to_result):
            return
        text = prompt_from_message(message, me.id)
        if not text and not message.attachments:
            if in_dm or pinged:  # without the content intent an unpinged reply arrives empty
                await self._answer(message, messages.mention_help(f"@{me.name}", FLAG_HELP))
            return
        if not message.attachments and text.lower() in {"usage", "quota"}:
            requester = requester_for(message.author, guild_id=None, channel_id=message.channel.id)
            await self._answer(message, await self.studio.engine.usage_text(requester))
            return
        if not message.attachments and text.lower() == "help":
            await self._answer(message, messages.mention_help(f"@{me.name}", FLAG_HELP))
            return
        what = "reply" if to_result else "dm" if in_dm else "mention"
        requester = requester_for(
            message.author,
            guild_id=message.guild.id if message.guild else None,
            channel_id=message.channel.id,
            parent_id=getattr(message.channel, "parent_id", None),
        )
        origin = Origin(requester, what)
        if self.studio.tasks.closing:
            await self._answer(message, messages.SHUTTING_DOWN)
            return
        self.studio.tasks.spawn(
            self._work(origin, message, text, replied, to_result), name=f"{what} {message.id}"
        )

    async def _work(
        self,
        origin: Origin,
        message: discord.Message,
        text: str,
        replied: discord.Message | None,
        to_result: bool,
    ) -> None:
        anchor = MessageAnchor(message)
        studio = self.studio
        async with studio.guard(origin, anchor):
            parse_text(text)  # flag errors before any download
            parent = None
            if to_result and replied is not None:
                parent = await studio.ledger.job_for_message(PLATFORM, str(replied.id))
                if parent is None and not message.attachments:
                    raise InvalidRequest(messages.NOT_A_RESULT)
            if parent is not None:
                if parent.status in (JobStatus.QUEUED, JobStatus.RUNNING):
                    await anchor.prepare(messages.WAITING_FOR_PARENT)
                images = await studio.reader.references(message.attachments)
                composed = await compose_edit(
                    studio.ledger, parent, text, images, wait=studio.engine.parent_wait
                )
            else:
                theirs = image_attachments(replied) if replied is not None and not to_result else []
                images = await studio.reader.references([*theirs, *message.attachments])
                composed = compose_new(text, images, **await studio.engine.defaults_for(origin.requester))
            await studio.run(origin, anchor, composed)

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
            await message.reply(text, mention_author=False, allowed_mentions=NO_PINGS)
        except discord.HTTPException as exc:
            log.info("discord: could not answer message %s: %s", message.id, exc.status)

"""Discord attachments as the conversation's `Attachments`: what Discord declares of each file
(name, type, size), and its download from the CDN (SafeFetcher: byte cap, no private addresses
unless allowed). The checks and their order are the core's (bot.conversation.attachments).
"""

from __future__ import annotations

import discord

from bot.conversation.attachments import AttachedFiles, Declared
from bot.media.fetch import SafeFetcher
from bot.request.validation import UPLOAD_MAX_BYTES, may_be_image

__all__ = ["DiscordAttachments", "image_attachments"]


def image_attachments(message: discord.Message) -> list[discord.Attachment]:
    """The attachments of a message that may be images (by declared type, or undeclared)."""
    return [a for a in message.attachments if may_be_image(a.content_type)]


class DiscordAttachments(AttachedFiles[discord.Attachment]):
    def __init__(self, fetcher: SafeFetcher, attachments: list[discord.Attachment]) -> None:
        super().__init__(attachments)
        self.fetcher = fetcher

    async def declared(self) -> list[Declared[discord.Attachment]]:
        return [Declared(a.filename, a.content_type, a.size, a) for a in self.items]

    async def fetch(self, item: Declared[discord.Attachment]) -> bytes:
        fetched = await self.fetcher.fetch(item.source.url, max_bytes=UPLOAD_MAX_BYTES, name=item.name)
        return fetched.data

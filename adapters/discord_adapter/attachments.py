"""Discord attachments -> reference images, checked before anything is spent.

Cheapest first: the count, then every attachment's declared size and type (from Discord's
metadata, before any download), then the downloads (SafeFetcher: byte cap, no private
addresses unless allowed), then magic bytes and dimensions (bot.conversation.compose.reference). Every
refusal raises with the user's explanation; the engine never sees a request, so nothing is charged.
"""

from __future__ import annotations

import asyncio

import discord

from bot.conversation.compose import reference
from bot.media.fetch import SafeFetcher
from bot.request.models import ImageInput
from bot.request.validation import REFERENCE_MAX_BYTES, check_declared, check_reference_count, may_be_image

__all__ = ["DiscordAttachments", "image_attachments"]


def image_attachments(message: discord.Message) -> list[discord.Attachment]:
    """The attachments of a message that may be images (by declared type, or undeclared)."""
    return [a for a in message.attachments if may_be_image(a.content_type)]


class DiscordAttachments:
    """A message's or command's attachments, as the conversation's `Attachments`."""

    def __init__(self, fetcher: SafeFetcher, attachments: list[discord.Attachment]) -> None:
        self.fetcher = fetcher
        self.items = attachments

    def __len__(self) -> int:
        return len(self.items)

    async def load(self, *, alongside: int = 0) -> list[ImageInput]:
        """Every attachment as a reference image, in order. `alongside`: references the request
        already has (an earlier result being edited), counted against Seedream's limit."""
        if not self.items:
            return []
        check_reference_count(len(self.items) + alongside)
        for a in self.items:
            check_declared(a.filename, a.content_type, a.size)
        return list(await asyncio.gather(*(self._download(a) for a in self.items)))

    async def _download(self, attachment: discord.Attachment) -> ImageInput:
        fetched = await self.fetcher.fetch(
            attachment.url, max_bytes=REFERENCE_MAX_BYTES, name=attachment.filename
        )
        # Discord's signed CDN links expire, so no URL is kept for URL-only providers.
        return reference(fetched.data, attachment.filename)

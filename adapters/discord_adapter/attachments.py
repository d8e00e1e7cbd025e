"""Discord attachments -> reference images, checked before anything is spent.

Cheapest first: the count, then every attachment's declared size and type (from Discord's
metadata, before any download), then the downloads (SafeFetcher: byte cap, no private
addresses unless allowed), then magic bytes and dimensions (bot.conversation.compose.reference). Every
refusal raises with the user's explanation; the engine never sees a request, so nothing is charged.
"""

from __future__ import annotations

import asyncio

import discord

from bot import messages
from bot.conversation.compose import check_declared_size, reference
from bot.errors import InvalidImage
from bot.media.fetch import SafeFetcher
from bot.request.models import ImageInput
from bot.request.validation import MAX_REFERENCES, REFERENCE_MAX_BYTES

__all__ = ["DiscordAttachments", "image_attachments", "precheck"]

# What Discord labels an image; a missing content type is left to the magic bytes.
_IMAGE_PREFIX = "image/"


def image_attachments(message: discord.Message) -> list[discord.Attachment]:
    """The attachments of a message that may be images (by declared type, or undeclared)."""
    return [
        a
        for a in message.attachments
        if not a.content_type or a.content_type.lower().startswith(_IMAGE_PREFIX)
    ]


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
        total = len(self.items) + alongside
        if total > MAX_REFERENCES:
            raise InvalidImage(messages.too_many_references(total, MAX_REFERENCES))
        for attachment in self.items:
            precheck(attachment)
        return list(await asyncio.gather(*(self._download(a) for a in self.items)))

    async def _download(self, attachment: discord.Attachment) -> ImageInput:
        fetched = await self.fetcher.fetch(
            attachment.url, max_bytes=REFERENCE_MAX_BYTES, name=attachment.filename
        )
        # Discord's signed CDN links expire, so no URL is kept for URL-only providers.
        return reference(fetched.data, attachment.filename)


def precheck(attachment: discord.Attachment) -> None:
    declared = (attachment.content_type or "").lower()
    if declared and not declared.startswith(_IMAGE_PREFIX):
        raise InvalidImage(messages.not_an_image(attachment.filename))
    check_declared_size(attachment.filename, attachment.size)

"""Images linked in a message: a reference people point at instead of attaching it.

`make this a watercolor https://i.imgur.com/cat.jpg` pastes a link where a chat would take an
attachment. A link whose path names an image file is taken out of the prompt and fetched as a
reference, checked as an attachment is (SafeFetcher: public hosts only, a byte cap, a time
limit). Other links stay words of the prompt.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import unquote, urlsplit

from bot.conversation.attachments import AttachedFiles, Declared
from bot.media.fetch import SafeFetcher
from bot.request.validation import UPLOAD_MAX_BYTES

__all__ = ["LinkedImages", "image_links"]

# A link (bare, or in the angle brackets Discord and Slack put around one) whose path ends in an
# image file's name; a query may follow (Discord's CDN signs its links with one).
_IMAGE_LINK = re.compile(
    r"<?(?P<url>https?://[^\s<>|/]+/[^\s<>|?#]*\.(?:png|jpe?g|webp|gif|bmp|tiff?|heic|heif|avif)(?:\?[^\s<>|#]*)?)>?"
    r"(?=[.,;:!?)]*(?:\s|$))",
    re.IGNORECASE,
)
MAX_LINKS = 4  # links past these stay in the prompt: a pasted list is no set of references


def image_links(text: str) -> tuple[str, list[str]]:
    """The text without its image links, and the links, in order (each once)."""
    links: list[str] = []

    def take(match: re.Match[str]) -> str:
        url = match.group("url")
        if url in links:
            return " "
        if len(links) >= MAX_LINKS:
            return match.group()
        links.append(url)
        return " "

    rest = _IMAGE_LINK.sub(take, text)
    return (re.sub(r" {2,}", " ", rest) if links else text), links


def _name(url: str) -> str:
    try:
        path = urlsplit(url).path
    except ValueError:  # "https://[::1/x.png": named plainly here, refused by the fetcher
        path = ""
    return unquote(path.rsplit("/", 1)[-1])[:80] or "image"


class LinkedImages(AttachedFiles[str]):
    """Linked images as attachments: the link is public, so URL-only hosts get it as it is."""

    def __init__(self, fetcher: SafeFetcher, urls: Sequence[str]) -> None:
        super().__init__(urls)
        self.fetcher = fetcher

    async def declared(self) -> list[Declared[str]]:
        return [Declared(_name(url), None, None, url) for url in self.items]

    async def fetch(self, item: Declared[str]) -> bytes:
        return (await self.fetcher.fetch(item.source, max_bytes=UPLOAD_MAX_BYTES, name=item.name)).data

    def public_url(self, item: Declared[str]) -> str | None:
        return item.source

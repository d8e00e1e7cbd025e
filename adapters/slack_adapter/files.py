"""Attached files -> reference images, downloaded safely.

Slack serves attachments from `url_private` only to a request carrying the bot token. The
token goes to Slack's own file host and nowhere else: the origin of SLACK_API_URL (the
loopback emulator in tests) or https://files.slack.com. A URL anywhere else is refused
without a request. Slack answers a token without `files:read` with 200 and an HTML sign-in
page, so HTML is refused with its own message; anything that is not an image is refused.
Nothing here charges the user: every refusal happens before the engine sees a request.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import urlsplit

from slack_sdk.web.async_client import AsyncWebClient

from bot import messages
from bot.conversation.compose import reference
from bot.errors import DownloadError
from bot.media.fetch import SafeFetcher
from bot.request.models import ImageInput
from bot.request.validation import REFERENCE_MAX_BYTES, check_declared, check_reference_count

__all__ = [
    "SLACK_FILE_HOST",
    "SlackAttachments",
    "SlackFiles",
    "origin",
]

log = logging.getLogger(__name__)

SLACK_FILE_HOST = "https://files.slack.com"


def origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) URL, or None."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    return parts.scheme, parts.hostname.lower(), port


class SlackFiles:
    def __init__(self, fetcher: SafeFetcher, client: AsyncWebClient, token: str, api_url: str) -> None:
        self.fetcher = fetcher
        self.client = client
        self._token = token
        self.trusted = {o for o in (origin(api_url), origin(SLACK_FILE_HOST)) if o is not None}

    def is_slack_hosted(self, url: str) -> bool:
        return origin(url) in self.trusted

    async def references(self, files: list[dict[str, Any]], *, alongside: int = 0) -> list[ImageInput]:
        """Every attached file as a reference image, or raise with the user's explanation."""
        if not files:
            return []
        check_reference_count(len(files) + alongside)
        infos = [await self._complete(f) for f in files]
        for info in infos:
            size = info.get("size")
            check_declared(
                self._name(info), str(info.get("mimetype") or ""), size if isinstance(size, int) else None
            )
        return list(await asyncio.gather(*(self._download(info) for info in infos)))

    async def _complete(self, file: dict[str, Any]) -> dict[str, Any]:
        # Files shared from another workspace come as stubs that need files.info.
        if file.get("file_access") == "check_file_info" or not (
            file.get("url_private_download") or file.get("url_private")
        ):
            response = await self.client.files_info(file=str(file.get("id", "")))
            info = response.get("file")
            if isinstance(info, dict):
                return info
        return file

    @staticmethod
    def _name(file: dict[str, Any]) -> str:
        return str(file.get("name") or file.get("title") or file.get("id") or "file")

    async def _download(self, file: dict[str, Any]) -> ImageInput:
        name = self._name(file)
        url = str(file.get("url_private_download") or file.get("url_private") or "")
        if not self.is_slack_hosted(url):
            log.warning("slack: refused file %s hosted at %s", file.get("id"), origin(url))
            raise DownloadError(messages.file_not_hosted(name), detail=f"untrusted file host {origin(url)}")
        fetched = await self.fetcher.fetch(
            url,
            max_bytes=REFERENCE_MAX_BYTES,
            headers={"Authorization": f"Bearer {self._token}"},
            name=name,
        )
        content_type = fetched.content_type.split(";", 1)[0].strip().lower()
        if content_type == "text/html":
            raise DownloadError(messages.file_access_denied(name), detail="Slack served HTML for a file")
        check_declared(name, content_type, None)  # as served, which may differ from the metadata
        return reference(fetched.data, name)


class SlackAttachments:
    """A message's files, as the conversation's `Attachments`."""

    def __init__(self, files: SlackFiles, items: list[dict[str, Any]]) -> None:
        self.files = files
        self.items = items

    def __len__(self) -> int:
        return len(self.items)

    async def load(self, *, alongside: int = 0) -> list[ImageInput]:
        return await self.files.references(self.items, alongside=alongside)

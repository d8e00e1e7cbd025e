"""Attached files as the conversation's `Attachments`: their details, downloaded safely (the
checks and their order are the core's: bot.conversation.attachments).

Slack serves attachments from `url_private` only to a request carrying the bot token. The
token goes to Slack's own file host and nowhere else: the origin of SLACK_API_URL (the
loopback emulator in tests) or https://files.slack.com. A URL anywhere else is refused
without a request. Slack answers a token without `files:read` with 200 and an HTML sign-in
page, so HTML is refused with its own message; anything that is not an image is refused.
Nothing here charges the user: every refusal happens before the engine sees a request.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import urlsplit

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack_adapter.text import LINK
from bot import messages
from bot.conversation.attachments import AttachedFiles, Declared
from bot.errors import DownloadError
from bot.media.fetch import SafeFetcher
from bot.request.validation import UPLOAD_MAX_BYTES, check_declared

__all__ = [
    "MAX_LINKED_FILES",
    "SLACK_FILE_HOST",
    "SlackAttachments",
    "SlackFiles",
    "origin",
]

log = logging.getLogger(__name__)

SLACK_FILE_HOST = "https://files.slack.com"
MAX_LINKED_FILES = 4  # file links read from one message, as the core reads other image links
# The file id in one of a file's paths: the file host's (/files-pri/T123-F456/cat.png) or a
# file's page (https://team.slack.com/files/U123/F456/cat.png).
_FILE_PATH = re.compile(
    r"/files-(?:pri|tmb)/T[A-Z0-9]+-(F[A-Z0-9]+)(?:/|$)|/files/[UW][A-Z0-9]+/(F[A-Z0-9]+)(?:/|$)"
)


def origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) URL, or None (a malformed one: `https://[x/`)."""
    try:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return None
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

    async def complete(self, file: dict[str, Any]) -> dict[str, Any]:
        # Files shared from another workspace (and linked ones) come as stubs that need files.info.
        if file.get("file_access") == "check_file_info" or not (
            file.get("url_private_download") or file.get("url_private")
        ):
            try:
                response = await self.client.files_info(file=str(file.get("id", "")))
            except SlackApiError as exc:
                error = str(exc.response.get("error"))
                raise DownloadError(messages.file_not_visible(self.name(file)), detail=error) from None
            info = response.get("file")
            if isinstance(info, dict):
                if "linked_by" in file and not _visible(info, file["linked_by"], file["linked_in"]):
                    raise DownloadError(
                        messages.file_not_visible(self.name(info)), detail="linked file not shared here"
                    )
                return info
        return file

    def linked(self, text: str, user: str, channel: str) -> tuple[str, list[dict[str, Any]]]:
        """Links to this Slack's files in a message's text (its "Copy link to file") -> stubs
        files.info completes, as for a file shared from elsewhere, and the text without them:
        fetched as a link, with no token, such a file is a sign-in page. Read with the bot's
        access, a link is taken only to a file `user` shared or one shared in `channel` (a link
        to a private channel's file made it public through the result)."""
        found: list[dict[str, Any]] = []

        def take(link: re.Match[str]) -> str:
            url = link.group(1)
            try:
                parts = urlsplit(url)
            except ValueError:  # `<https://[x/…>`: words, as the core leaves a link it can't read
                return link.group(0)
            file = _FILE_PATH.search(parts.path)
            ours = origin(url) in self.trusted or (parts.hostname or "").lower().endswith(".slack.com")
            if file is None or not ours or len(found) >= MAX_LINKED_FILES:
                return link.group(0)
            found.append(
                {
                    "id": file.group(1) or file.group(2),
                    "file_access": "check_file_info",
                    "linked_by": user,
                    "linked_in": channel,
                }
            )
            return " "

        return LINK.sub(take, text), found

    @staticmethod
    def name(file: dict[str, Any]) -> str:
        return str(file.get("name") or file.get("title") or file.get("id") or "file")

    async def download(self, name: str, file: dict[str, Any]) -> bytes:
        url = str(file.get("url_private_download") or file.get("url_private") or "")
        if not self.is_slack_hosted(url):
            log.warning("slack: refused file %s hosted at %s", file.get("id"), origin(url))
            raise DownloadError(messages.file_not_hosted(name), detail=f"untrusted file host {origin(url)}")
        fetched = await self.fetcher.fetch(
            url,
            max_bytes=UPLOAD_MAX_BYTES,
            headers={"Authorization": f"Bearer {self._token}"},
            name=name,
        )
        content_type = fetched.content_type.split(";", 1)[0].strip().lower()
        if content_type == "text/html":
            raise DownloadError(messages.file_access_denied(name), detail="Slack served HTML for a file")
        check_declared(name, content_type, None)  # as served, which may differ from the metadata
        return fetched.data


class SlackAttachments(AttachedFiles[dict[str, Any]]):
    """A message's files, as the conversation's `Attachments` (the checks are the core's)."""

    def __init__(self, files: SlackFiles, items: list[dict[str, Any]]) -> None:
        super().__init__(items)
        self.files = files

    async def declared(self) -> list[Declared[dict[str, Any]]]:
        infos = [await self.files.complete(f) for f in self.items]
        return [
            Declared(SlackFiles.name(i), str(i.get("mimetype") or ""), _size(i.get("size")), i) for i in infos
        ]

    async def fetch(self, item: Declared[dict[str, Any]]) -> bytes:
        return await self.files.download(item.name, item.source)


def _visible(info: dict[str, Any], user: str, channel: str) -> bool:
    """Whether the person who linked the file may see it where they linked it: theirs, or shared
    in that conversation (files.info lists where: channels, groups, ims, and the shares)."""
    if info.get("user") == user:
        return True
    where = {str(c) for key in ("channels", "groups", "ims") for c in info.get(key) or []}
    shares = info.get("shares")
    shares = shares if isinstance(shares, dict) else {}
    for kind in ("public", "private"):
        where |= {str(c) for c in (shares.get(kind) or {})}
    return channel in where


def _size(size: object) -> int | None:
    return size if isinstance(size, int) and not isinstance(size, bool) else None

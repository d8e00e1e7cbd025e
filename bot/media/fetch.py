"""Safe URL downloads: address checks on every redirect hop, byte and time caps.

Used for CLI `--image URL`, Slack/Discord attachments and provider result URLs. Loopback,
private, link-local (cloud metadata) and other special addresses are refused unless
SEEDBOT_ALLOW_PRIVATE_NETWORK is on (the test suites turn it on for their loopback emulators).
"""

from __future__ import annotations

import asyncio
import io
import ipaddress
import logging
import socket
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from bot import messages
from bot.errors import DownloadError
from bot.numbers import whole_number

__all__ = ["Fetched", "SafeFetcher", "host_of"]

log = logging.getLogger(__name__)

MAX_REDIRECTS = 5


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


def _body_buffer(resp: httpx.Response) -> io.BytesIO:
    """A buffer for the body, allocated once at the declared size (the caller truncates it to
    what arrived: an encoded body's length is not the decoded one's).

    Results are multi-megabyte and hundreds arrive at once: a list of chunks joined at the end
    holds each image twice for a moment and leaves the chunks' holes in the heap.
    """
    body = io.BytesIO()
    declared = whole_number(resp.headers.get("content-length", ""))
    if declared:
        body.seek(declared - 1)
        body.write(b"\0")
        body.seek(0)
    return body


def _is_public(addr: str) -> bool:
    ip = ipaddress.ip_address(addr)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


@dataclass(frozen=True, slots=True)
class Fetched:
    data: bytes
    content_type: str
    url: str  # final URL after redirects


class SafeFetcher:
    def __init__(self, client: httpx.AsyncClient, *, allow_private: bool = False) -> None:
        self.client = client
        self.allow_private = allow_private

    async def check_url(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise DownloadError(messages.download_failed(url[:80], messages.REASON_SCHEME))
        if self.allow_private:
            return
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                parts.hostname,
                parts.port or (443 if parts.scheme == "https" else 80),
                type=socket.SOCK_STREAM,
            )
        except OSError:
            raise DownloadError(messages.download_failed(parts.hostname, messages.REASON_NO_HOST)) from None
        if not infos or not all(_is_public(str(info[4][0])) for info in infos):
            raise DownloadError(
                messages.download_failed(parts.hostname, messages.REASON_NOT_ALLOWED),
                detail=f"refused non-public address for {parts.hostname}",
            )

    async def fetch(
        self,
        url: str,
        *,
        max_bytes: int,
        timeout: float = 30.0,
        headers: dict[str, str] | None = None,
        name: str | None = None,
    ) -> Fetched:
        """GET `url` with at most `max_bytes` of body. `headers` go only to the first URL's origin
        (scheme, host and port: not to another service, nor over a downgrade to plain http)."""
        label = name or url.rsplit("/", 1)[-1][:80] or "file"
        first_origin = _origin(url)
        try:
            async with asyncio.timeout(timeout):
                for _ in range(MAX_REDIRECTS + 1):
                    await self.check_url(url)
                    # Credentials never follow a redirect to another origin.
                    send = headers if headers and _origin(url) == first_origin else None
                    async with self.client.stream("GET", url, headers=send, follow_redirects=False) as resp:
                        if resp.is_redirect and "location" in resp.headers:
                            url = urljoin(url, resp.headers["location"])
                            continue
                        if resp.status_code != 200:
                            raise DownloadError(
                                messages.download_failed(label, messages.server_answered(resp.status_code))
                            )
                        declared = whole_number(resp.headers.get("content-length", ""))
                        if declared is not None and declared > max_bytes:
                            raise DownloadError(messages.download_failed(label, messages.REASON_TOO_LARGE))
                        body = _body_buffer(resp)
                        total = 0
                        async for chunk in resp.aiter_bytes():
                            total += len(chunk)
                            if total > max_bytes:
                                raise DownloadError(
                                    messages.download_failed(label, messages.REASON_TOO_LARGE)
                                )
                            body.write(chunk)
                        body.truncate(total)  # no zero tail when less arrived than declared
                        # getvalue() hands BytesIO's own buffer over, without a copy.
                        return Fetched(body.getvalue(), resp.headers.get("content-type", ""), str(resp.url))
                raise DownloadError(messages.download_failed(label, messages.REASON_REDIRECTS))
        except TimeoutError:
            raise DownloadError(messages.download_failed(label, messages.REASON_SLOW)) from None
        except httpx.HTTPError as exc:
            log.info("download of %s failed: %s", host_of(url), type(exc).__name__)
            raise DownloadError(messages.download_failed(label, messages.REASON_CONNECTION)) from None

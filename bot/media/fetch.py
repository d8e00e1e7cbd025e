"""Safe URL downloads: address checks on every redirect hop, byte and time caps.

Used for CLI `--image URL`, Slack/Discord attachments and provider result URLs. Loopback,
private, link-local (cloud metadata) and other special addresses are refused unless
SEEDBOT_ALLOW_PRIVATE_NETWORK is on (the test suites turn it on for their loopback emulators).
The check is made again where the connection is opened (`PUBLIC_ONLY`, read by the shared
client's network backend), so a name that resolves to a public address for the check and to a
private one for the connection (DNS rebinding) reaches nothing.
"""

from __future__ import annotations

import asyncio
import io
import ipaddress
import logging
import socket
import zlib
from contextvars import ContextVar
from dataclasses import dataclass
from urllib.parse import SplitResult, urljoin, urlsplit

import httpx

from bot import messages
from bot.errors import DownloadError
from bot.numbers import whole_number

__all__ = ["PUBLIC_ONLY", "Fetched", "SafeFetcher", "host_of", "public_address"]

log = logging.getLogger(__name__)

MAX_REDIRECTS = 5

# True while a SafeFetcher that may reach only public addresses downloads: the network backend
# (bot.app.http_pool.LargeReads) then resolves the name once and connects to the address checked.
PUBLIC_ONLY: ContextVar[bool] = ContextVar("seedbot_public_only", default=False)

# IPv6 ranges that carry an IPv4 address or are local, which `is_global` still calls global on
# some Pythons: NAT64 (its IPv4 address is checked), local-use NAT64, IPv4-compatible, site-local.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NOT_PUBLIC_V6 = tuple(ipaddress.ip_network(n) for n in ("64:ff9b:1::/48", "::/96", "fec0::/10"))

# Compressed bodies are inflated here, at most what is still allowed at a time: httpx inflates a
# whole read at once (a 256 KiB read of a gzip bomb is ~250 MB) before any byte cap is checked.
_INFLATED = {"gzip": 47, "x-gzip": 47, "deflate": 47}  # zlib wbits: gzip or zlib header, detected


def host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:  # a bracket without its partner: no host
        return ""


def _split(url: str) -> SplitResult:
    """urlsplit, refusing as any link no host could answer what it can't read: a bracket
    without its partner ("https://[::1/x.png") was a ValueError traceback."""
    try:
        return urlsplit(url)
    except ValueError:
        raise DownloadError(messages.download_failed(url[:80], messages.REASON_NO_HOST)) from None


def _port(url: str) -> int | None:
    """The URL's port; -1 for one that is no port ("example.com:99999")."""
    try:
        return urlsplit(url).port
    except ValueError:
        return -1


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = _split(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), _port(url) or default


def _body_buffer(resp: httpx.Response, presize: bool) -> io.BytesIO:
    """A buffer for the body; with `presize`, allocated once at the declared size (the caller
    truncates it to what arrived: an encoded body's length is not the decoded one's).

    Results are multi-megabyte and hundreds arrive at once: a list of chunks joined at the end
    holds each image twice for a moment and leaves the chunks' holes in the heap. Only a host
    seedbot pays is trusted with the size: a link anyone writes could declare 40 MB and send
    nothing, held for the whole timeout (ten messages of four links held 1.5 GB).
    """
    body = io.BytesIO()
    declared = whole_number(resp.headers.get("content-length", "")) if presize else None
    if declared:
        body.seek(declared - 1)
        body.write(b"\0")
        body.seek(0)
    return body


def _is_public(addr: str) -> bool:
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(addr.partition("%")[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.teredo is not None or any(ip in net for net in _NOT_PUBLIC_V6):
            return False
        if ip in _NAT64:
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        else:
            ip = ip.ipv4_mapped or ip.sixtofour or ip
    return ip.is_global and not ip.is_multicast


async def public_address(host: str, port: int) -> str:
    """An address of `host` to connect to, every address it has being public (else refused)."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):  # no such name; a label over 63 characters, an empty one
        raise DownloadError(messages.download_failed(host, messages.REASON_NO_HOST)) from None
    addresses = [str(info[4][0]) for info in infos]
    if not addresses or not all(_is_public(address) for address in addresses):
        raise DownloadError(
            messages.download_failed(host, messages.REASON_NOT_ALLOWED),
            detail=f"refused non-public address for {host}",
        )
    return addresses[0]


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
        parts, port = _split(url), _port(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise DownloadError(messages.download_failed(url[:80], messages.REASON_SCHEME))
        if port == -1:
            raise DownloadError(messages.download_failed(parts.hostname, messages.REASON_NO_HOST))
        if not self.allow_private:
            await public_address(parts.hostname, port or (443 if parts.scheme == "https" else 80))

    async def fetch(
        self,
        url: str,
        *,
        max_bytes: int,
        timeout: float = 30.0,
        headers: dict[str, str] | None = None,
        name: str | None = None,
        presize: bool = False,
    ) -> Fetched:
        """GET `url` with at most `max_bytes` of body. `headers` go only to the first URL's origin
        (scheme, host and port: not to another service, nor over a downgrade to plain http).
        `presize`: the body is allocated at its declared length at once (a provider's results)."""
        label = name or url.rsplit("/", 1)[-1][:80] or "file"
        first_origin = _origin(url)
        public_only = PUBLIC_ONLY.set(not self.allow_private)
        try:
            async with asyncio.timeout(timeout):
                for _ in range(MAX_REDIRECTS + 1):
                    await self.check_url(url)
                    # Credentials never follow a redirect to another origin.
                    send = {**headers} if headers and _origin(url) == first_origin else {}
                    send["Accept-Encoding"] = "identity"  # images are compressed already
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
                        body = _body_buffer(resp, presize)
                        encoding = resp.headers.get("content-encoding", "").strip().lower()
                        inflate = zlib.decompressobj(_INFLATED[encoding]) if encoding in _INFLATED else None
                        total = 0
                        async for raw in resp.aiter_raw():
                            chunk = inflate.decompress(raw, max_bytes - total + 1) if inflate else raw
                            total += len(chunk)
                            if total > max_bytes:
                                raise DownloadError(
                                    messages.download_failed(label, messages.REASON_TOO_LARGE)
                                )
                            body.write(chunk)
                        if inflate is not None:  # what the inflater still holds
                            rest = inflate.flush()
                            total += len(rest)
                            if total > max_bytes:
                                raise DownloadError(
                                    messages.download_failed(label, messages.REASON_TOO_LARGE)
                                )
                            body.write(rest)
                        body.truncate(total)  # no zero tail when less arrived than declared
                        # getvalue() hands BytesIO's own buffer over, without a copy.
                        return Fetched(body.getvalue(), resp.headers.get("content-type", ""), str(resp.url))
                raise DownloadError(messages.download_failed(label, messages.REASON_REDIRECTS))
        except TimeoutError:
            raise DownloadError(messages.download_failed(label, messages.REASON_SLOW)) from None
        except (httpx.HTTPError, zlib.error) as exc:
            log.info("download of %s failed: %s", host_of(url), type(exc).__name__)
            raise DownloadError(messages.download_failed(label, messages.REASON_CONNECTION)) from None
        finally:
            PUBLIC_ONLY.reset(public_only)

"""The provider interface: what each provider can do, the call it gets, what it returns.

A provider turns one validated request into its own wire body, talks to its API over the
shared httpx client, and returns images (bytes in hand, never URLs) or raises ProviderError.
It never builds user text and never logs its API key.
"""

from __future__ import annotations

import abc
import asyncio
import email.utils
import logging
import os
import re
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx

from bot import messages
from bot.config import Settings
from bot.errors import DownloadError, InvalidImage, ProviderError, ProviderErrorKind
from bot.media.fetch import SafeFetcher
from bot.media.images import measure
from bot.numbers import whole_number
from bot.request.models import GeneratedImage, ImageInput
from bot.request.validation import ValidatedRequest

__all__ = [
    "RESPONSE_MAX_BYTES",
    "RESULT_MAX_BYTES",
    "RETRY_AFTER_MAX",
    "Capabilities",
    "KeyCheck",
    "Provider",
    "ProviderCall",
    "ProviderOutput",
    "never_sent",
    "parse_retry_after",
]

log = logging.getLogger(__name__)

# A 3K/4K PNG is well under this; anything larger is not an image we asked for.
RESULT_MAX_BYTES = 40 * 1024 * 1024
# An API answer: JSON (perhaps with a few inline base64 images) or one binary image.
RESPONSE_MAX_BYTES = 64 * 1024 * 1024
# A provider asking for a longer wait than this is broken or means "not today": the router
# caps waits far lower (its max_delay); this bound keeps absurd values finite.
RETRY_AFTER_MAX = 24 * 3600.0
# Retry-After delay-seconds: digits (a fraction tolerated); never signs, exponents, inf or nan.
_DELAY_SECONDS = re.compile(r"[0-9]+(?:\.[0-9]+)?")
# Headers a re-built, already-decoded response must not carry.
_BODY_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


@dataclass(frozen=True, slots=True)
class Capabilities:
    models: frozenset[str]
    text_to_image: bool = True
    edit: bool = True
    max_references: int = 14
    max_outputs: int = 15
    # Size forms: an explicit "WxH" and/or a tier ("2K") with an aspect ratio.
    explicit_size: bool = True
    tier_size: bool = True
    aspect_ratios: frozenset[str] | None = None  # None: any ratio within the model's range
    # An edit without an aspect ratio of its own is sent as "match the input image": the
    # reference's shape, whichever it is, so aspect_ratios do not limit it.
    matches_input_shape: bool = False
    output_formats: frozenset[str] = frozenset({"jpeg", "png"})
    # Its body can ask for Seedream's "AI generated" mark. A preference, never a refusal (a
    # workspace's `watermark on` refused every request on a bot of other hosts): those that
    # can are tried first, and a result made without it says so.
    watermark: bool = True
    references_need_urls: bool = False  # takes only public URLs, not bytes
    max_prompt_chars: int = 2000
    resumable: bool = False  # a task id can be polled again after a restart
    streaming: bool = False  # can hand over each image as it is made (ProviderCall.on_image)

    def refusal(self, req: ValidatedRequest) -> str | None:
        """Why this provider can't serve `req`, or None if it can."""
        if req.spec.key not in self.models:
            return messages.cannot_model(req.spec.name)
        if req.images and not self.edit:
            return messages.CANNOT_EDIT
        if not req.images and not self.text_to_image:
            return messages.CANNOT_TEXT_TO_IMAGE
        if len(req.images) > self.max_references:
            return messages.cannot_references(self.max_references)
        if req.count > self.max_outputs:
            return messages.cannot_count(self.max_outputs)
        if req.tier is None and not self.explicit_size:
            return messages.CANNOT_EXPLICIT_SIZE
        if req.tier is not None and not (self.tier_size or self.explicit_size):
            return messages.CANNOT_TIER_SIZE
        fixed_ratios = req.tier is not None and not self.explicit_size and self.aspect_ratios is not None
        shaped_by_input = self.matches_input_shape and bool(req.images) and req.request.aspect is None
        if fixed_ratios and not shaped_by_input and req.aspect_text not in (self.aspect_ratios or ()):
            return messages.cannot_aspect(req.aspect_text)
        if req.request.output_format not in self.output_formats:
            return messages.cannot_format(req.request.output_format)
        if self.references_need_urls and any(img.url is None for img in req.images):
            return messages.CANNOT_BYTES
        if len(req.prompt) > self.max_prompt_chars:
            return messages.cannot_prompt(self.max_prompt_chars)
        return None


async def _no_task_id(task_id: str) -> None:
    return None


async def _no_progress(percent: float) -> None:
    return None


def _redacted(text: str, key: str) -> str:
    """`text` without the key, whole or cut off at its end (an error text is shortened before
    it gets here: a key across the cut kept its first characters)."""
    text = text.replace(key, "[redacted]")
    for size in range(len(key) - 1, 5, -1):
        if text.endswith(key[:size]):
            return text[:-size] + "[redacted]"
    return text


def never_sent(exc: httpx.HTTPError) -> bool:
    """Whether the request cannot have reached the host (no connection was made): sending it
    again pays for nothing twice."""
    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)


def network_reason(exc: BaseException) -> str:
    """The short reason under a failed connection, for the log: "Connection refused", "Name or
    service not known", "SSL: WRONG_VERSION_NUMBER", "certificate has expired"; "" when there
    is none. Never the words around it, which name the address."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, ssl.SSLCertVerificationError) and cause.verify_message:
            return str(cause.verify_message)
        if isinstance(cause, ssl.SSLError) and cause.reason:
            return f"{cause.library}: {cause.reason}" if cause.library else str(cause.reason)
        if isinstance(cause, socket.gaierror) and cause.strerror:
            return cause.strerror  # the resolver's words
        if isinstance(cause, OSError) and cause.errno:
            return os.strerror(cause.errno)  # its strerror may quote the address
        if isinstance(cause, BaseExceptionGroup) and cause.exceptions:  # several addresses tried
            cause = cause.exceptions[0]
            continue
        cause = cause.__cause__ or cause.__context__
    return ""


@dataclass(slots=True)
class ProviderCall:
    """One attempt to serve a request, with the hooks the engine listens on."""

    request: ValidatedRequest
    job_id: str  # also the idempotency key
    deadline: float  # seconds for the whole call, polling included
    on_task_id: Callable[[str], Awaitable[None]] = _no_task_id
    on_progress: Callable[[float], Awaitable[None]] = _no_progress
    # Streaming providers (capabilities.streaming) stream only when on_image is set: each image
    # is handed over (downloaded and measured) as soon as it is made, with its index in the
    # batch; on_image_failed gets the index and reason of one image the host refused. The
    # call still returns the full ProviderOutput at the end.
    on_image: Callable[[int, GeneratedImage], Awaitable[None]] | None = None
    on_image_failed: Callable[[int, str], Awaitable[None]] | None = None


@dataclass(frozen=True, slots=True)
class KeyCheck:
    """What a free authenticated call said about an API key (`seedbot doctor`)."""

    ok: bool | None  # True accepted, False refused, None not verified (no free call)
    detail: str = ""


@dataclass(slots=True)
class ProviderOutput:
    images: list[GeneratedImage]
    failed: int = 0  # images the provider reported as failed (e.g. moderated)
    usage: dict[str, Any] = field(default_factory=dict)
    request_id: str | None = None


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds to wait from Retry-After (seconds or HTTP date) or a rate-limit reset header.

    None when there is no such header or it makes no sense (negative, "soon", "1e9"): the
    router then backs off on its own, since a bad header must never cost the job. A date in
    the past is 0; anything longer than RETRY_AFTER_MAX is cut to it.
    """
    clock = time.time() if now is None else now
    value = headers.get("retry-after", "").strip()
    if value:
        if _DELAY_SECONDS.fullmatch(value):
            return min(float(value), RETRY_AFTER_MAX)
        return _until(_http_date(value), clock)
    reset = (headers.get("x-rate-limit-reset-at-utc") or headers.get("x-ratelimit-reset") or "").strip()
    if not reset:
        return None
    if _DELAY_SECONDS.fullmatch(reset):
        stamp = float(reset)
        # Small numbers are a delay in seconds; large ones an epoch time.
        return _until(stamp, clock) if stamp > 1e9 else min(stamp, RETRY_AFTER_MAX)
    try:
        reset_at = datetime.fromisoformat(reset)
    except ValueError:
        return None
    # The header says UTC: a stamp without an offset must not be read as local time.
    return _until((reset_at if reset_at.tzinfo else reset_at.replace(tzinfo=UTC)).timestamp(), clock)


def _http_date(value: str) -> float | None:
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):  # what malformed dates raise
        return None
    # HTTP dates are GMT; "-0000" or no zone at all comes back naive.
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def _until(stamp: float | None, now: float) -> float | None:
    return None if stamp is None else min(max(0.0, stamp - now), RETRY_AFTER_MAX)


class Provider(abc.ABC):
    """Base class: subclasses set `name` and `capabilities` and implement `generate`."""

    name: ClassVar[str]
    capabilities: ClassVar[Capabilities]
    # Cap on one API response body (tests lower it on an instance).
    response_max_bytes: int = RESPONSE_MAX_BYTES

    def __init__(self, settings: Settings, client: httpx.AsyncClient, fetcher: SafeFetcher) -> None:
        self.settings = settings
        self.client = client
        self.fetcher = fetcher

    @property
    def base_url(self) -> str:
        return self.settings.provider_base_url(self.name)

    def api_key(self) -> str:
        key = self.settings.provider_key(self.name)
        if key is None:
            raise ProviderError(self.name, ProviderErrorKind.AUTH, detail="no API key configured")
        return key.get_secret_value()

    @abc.abstractmethod
    async def generate(self, call: ProviderCall) -> ProviderOutput:
        """Serve one call: submit, wait (poll) and return images in hand."""

    async def resume(self, task_id: str, call: ProviderCall) -> ProviderOutput:
        """Poll a task submitted before a restart. Only resumable providers override this."""
        raise ProviderError(self.name, ProviderErrorKind.UNAVAILABLE, detail="not resumable", retryable=False)

    async def cancel(self, task_id: str) -> bool:
        """Ask the host to cancel a submitted task; True when it took the request.

        Only providers whose host has a cancel call override this.
        """
        return False

    async def check_key(self) -> KeyCheck:
        """Verify the API key with a free call, where the host has one."""
        return KeyCheck(None, "no free check available")

    # -- helpers shared by the concrete providers ------------------------------------------

    async def send(
        self,
        method: str,
        path: str,
        *,
        total_timeout: float | None = None,
        max_bytes: int | None = None,
        starts_work: bool = False,
        **kwargs: Any,
    ) -> httpx.Response:
        """One HTTP call to this provider's base URL; transport failures become ProviderError.

        The body is read in full, but never more than `max_bytes` (default
        `response_max_bytes`), and the whole exchange, body included, within `total_timeout`
        seconds when given (httpx's own timeouts are per read, so a dribbling body beats them;
        a read may also wait that long: a synchronous batch answers only once all its images are
        made, past the shared client's 180 s for six or more).

        `starts_work`: the call starts paid work (a generation, a task). An answer lost after the
        request went out (a timeout, a dropped connection) may mean work done or under way, so
        the call is not made again here (another host may still be tried); only a connection
        that was never made is.
        """
        limit = self.response_max_bytes if max_bytes is None else max_bytes
        if total_timeout is not None and "timeout" not in kwargs:
            connect = self.client.timeout.connect
            kwargs["timeout"] = httpx.Timeout(total_timeout, connect=connect or total_timeout)
        # What an answer lost after sending means: None, the kind's own rule (retry, fail over).
        again, elsewhere = (False, True) if starts_work else (None, None)
        try:
            async with asyncio.timeout(total_timeout):
                send_options = {k: kwargs.pop(k) for k in ("auth", "follow_redirects") if k in kwargs}
                request = self.client.build_request(method, f"{self.base_url}{path}", **kwargs)
                response = await self.client.send(request, stream=True, **send_options)
                try:
                    declared = whole_number(response.headers.get("content-length", ""))
                    if declared is not None and declared > limit:
                        raise self._too_large(response, method, path)
                    chunks: list[bytes] = []
                    total = 0
                    async for chunk in response.aiter_bytes():
                        total += len(chunk)
                        if total > limit:
                            raise self._too_large(response, method, path)
                        chunks.append(chunk)
                finally:
                    await response.aclose()
        except TimeoutError:
            raise ProviderError(
                self.name,
                ProviderErrorKind.TIMEOUT,
                detail=f"{method} {path} took too long",
                retryable=again,
                failover=elsewhere,
            ) from None
        except httpx.HTTPError as exc:
            kind = (
                ProviderErrorKind.TIMEOUT
                if isinstance(exc, httpx.TimeoutException)
                else ProviderErrorKind.UNAVAILABLE
            )
            why = network_reason(exc)  # for the log: the person reads only "unavailable"
            raise ProviderError(
                self.name,
                kind,
                detail=f"{method} {path}: {type(exc).__name__}" + (f" ({why})" if why else ""),
                retryable=None if never_sent(exc) else again,
                failover=None if never_sent(exc) else elsewhere,
            ) from None
        if 300 <= response.status_code < 400:
            # Never followed (a key goes to its own base URL only): a base URL that moved, or
            # http:// answered with https://, is configuration, for every request alike; it
            # was a "bad request" on two hosts (no other host tried) and retried on the rest.
            # Another host is tried only for a call that was to start the work, never for a GET
            # (a poll or a result: that task is under way and paid, and would be paid again).
            where = response.headers.get("location", "").split("?", 1)[0][:120] or "nowhere"
            raise self.error(
                ProviderErrorKind.UNAVAILABLE,
                response,
                f"{method} {path} answered {response.status_code}, a redirect to {where}: "
                f"check {self.name.upper()}_BASE_URL",
                retryable=False,
                failover=method.upper() != "GET",
            )
        headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _BODY_HEADERS]
        return httpx.Response(
            response.status_code,
            headers=headers,
            content=b"".join(chunks),
            request=response.request,
            extensions=response.extensions,
        )

    def _too_large(self, response: httpx.Response, method: str, path: str) -> ProviderError:
        return self.error(
            ProviderErrorKind.UNAVAILABLE,
            response,
            f"{method} {path}: response larger than allowed",
            retryable=False,
        )

    async def poll_until(
        self,
        call: ProviderCall,
        check: Callable[[], Awaitable[ProviderOutput | None]],
        *,
        max_interval: float = 10.0,
        task_id: str | None = None,
    ) -> ProviderOutput:
        """Call `check` until it returns an output, backing off, within the call's deadline.
        Given up on (the deadline, polls that keep failing), task `task_id` is cancelled where
        the host can: it would run on and be billed for images nobody gets."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + call.deadline
        interval = self.settings.poll_interval
        try:
            while True:
                output = await check()
                if output is not None:
                    return output
                if loop.time() + interval > give_up:
                    raise ProviderError(
                        self.name,
                        ProviderErrorKind.TIMEOUT,
                        detail="polling deadline passed",
                        retryable=False,
                        failover=False,
                    )
                await asyncio.sleep(interval)
                interval = min(max_interval, interval * 1.5)
        except ProviderError as exc:
            if task_id is not None and exc.kind not in (
                ProviderErrorKind.MODERATION,
                ProviderErrorKind.BAD_REQUEST,
            ):
                await self._abandon(task_id)
            raise

    async def _abandon(self, task_id: str) -> None:
        """Best effort: a cancel that fails changes nothing the person sees."""
        try:
            async with asyncio.timeout(15.0):
                if await self.cancel(task_id):
                    log.info("%s: cancelled task %s, given up on", self.name, task_id)
        except (ProviderError, TimeoutError):
            log.info("%s: could not cancel task %s", self.name, task_id)

    def error(
        self,
        kind: ProviderErrorKind,
        response: httpx.Response | None = None,
        detail: str = "",
        **kwargs: Any,
    ) -> ProviderError:
        status = response.status_code if response is not None else None
        # Some APIs echo the key they were given in their error text: never let it through.
        key = self.settings.provider_key(self.name)
        if key is not None:
            detail = _redacted(detail, key.get_secret_value())
        if response is not None and "retry_after" not in kwargs:
            kwargs["retry_after"] = parse_retry_after(response.headers)
        request_id = None
        if response is not None:
            request_id = response.headers.get("x-request-id") or response.headers.get("request-id")
        return ProviderError(
            self.name, kind, status=status, detail=detail[:300], request_id=request_id, **kwargs
        )

    def unreadable_success(self, response: httpx.Response, detail: str) -> ProviderError:
        """A success answer to a call that started paid work, that can't be read: the work was
        done (a generation) or started (a task) and is paid for, so it is neither asked for again
        nor elsewhere, where it would be paid again; the person is refunded."""
        log.warning("%s: paid work answered %s unreadably: %s", self.name, response.status_code, detail)
        return self.error(ProviderErrorKind.UNAVAILABLE, response, detail, retryable=False, failover=False)

    async def download_images(self, urls: list[str]) -> tuple[list[GeneratedImage], int]:
        """Fetch result URLs at once (they expire), in parallel. Returns (images, failed)."""
        results = await asyncio.gather(*(self._download_one(u) for u in urls), return_exceptions=True)
        images: list[GeneratedImage] = []
        failed = 0
        for url, result in zip(urls, results, strict=True):
            if isinstance(result, GeneratedImage):
                images.append(result)
            else:
                failed += 1
                log.warning("%s: result image from %s unusable: %s", self.name, _short(url), result)
        return images, failed

    async def _download_one(self, url: str) -> GeneratedImage:
        fetched = await self.fetcher.fetch(
            url, max_bytes=RESULT_MAX_BYTES, timeout=60.0, name="result", presize=True
        )
        return image_from_bytes(fetched.data)

    @staticmethod
    def data_uri(mime: str, data: bytes) -> str:
        import base64

        return f"data:{mime};base64,{base64.b64encode(data).decode()}"

    def reference(self, image: ImageInput, *, inline_max: int | None = None) -> str:
        """A reference image as a host that takes both forms wants it: its public URL when it
        has one (with `inline_max`, only when the bytes are larger), else a data URI."""
        if image.url and (inline_max is None or image.size > inline_max):
            return image.url
        return self.data_uri(image.mime, image.data)

    def check_capable(self, call: ProviderCall) -> None:
        """Refuse a request this provider cannot serve (routing should not have sent it)."""
        refusal = self.capabilities.refusal(call.request)
        if refusal is not None:
            raise ProviderError(self.name, ProviderErrorKind.BAD_REQUEST, detail=refusal, retryable=False)


def image_from_bytes(data: bytes) -> GeneratedImage:
    try:
        # The provider made it: header, size and an intact end are proof enough, no decode.
        mime, width, height = measure(data, "result", decode=False)
    except InvalidImage as exc:
        raise DownloadError(exc.user_text, detail="result is not an image") from None
    return GeneratedImage(data=data, mime=mime, width=width, height=height)


def _short(url: str) -> str:
    # Result URLs carry signatures in the query string: log only scheme, host and path.
    return url.split("?", 1)[0][:120]

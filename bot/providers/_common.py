"""Wire helpers the concrete providers share: reading error bodies, spotting moderation,
decoding result strings, asking for batches, riding out a flaky poll.

Not part of the Provider interface; only the modules in this package use it.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from typing import TYPE_CHECKING, Any

import httpx

from bot import messages
from bot.errors import DownloadError, ProviderError
from bot.providers.base import RESULT_MAX_BYTES, image_from_bytes
from bot.request.models import GeneratedImage

if TYPE_CHECKING:
    from bot.providers.base import Provider

__all__ = [
    "PollErrors",
    "batch_prompt",
    "body_message",
    "error_text",
    "images_from_strings",
    "json_body",
    "looks_moderated",
    "number",
]

# Words the providers use when a prompt, a reference or a result breaks a content policy:
# Ark's *SensitiveContentDetected / *RiskDetection codes, Apiframe's "content policy
# violation", Segmind's and Modellix's free text.
_MODERATION = re.compile(
    r"sensitive|content[ _-]?policy|moderat|nsfw|risk[ _-]?detect|inappropriate|unsafe content",
    re.IGNORECASE,
)
# Ark's "the safety service itself failed": a retryable outage, not a refusal.
_SAFETY_OUTAGE = re.compile(r"ContentSecurityDetectionError", re.IGNORECASE)


def looks_moderated(*texts: str | None) -> bool:
    joined = " ".join(t for t in texts if t)
    return bool(_MODERATION.search(joined)) and not _SAFETY_OUTAGE.search(joined)


def json_body(response: httpx.Response) -> Any:
    """The parsed JSON body, or None when there is none or it does not parse."""
    if not response.content:
        return None
    try:
        return json.loads(response.content)
    except ValueError:
        return None


def error_text(body: Any, fallback: str = "") -> str:
    """A short human message out of an error body of any of the shapes the providers use."""
    if isinstance(body, str):
        return body[:300]
    if not isinstance(body, dict):
        return fallback[:300]
    parts: list[str] = []
    for key in ("reason", "code", "message", "error", "detail", "msg"):
        value = body.get(key)
        if isinstance(value, dict):
            value = error_text(value)
        if value not in (None, "", 0) and str(value) not in parts:
            parts.append(str(value))
    return ": ".join(parts)[:300] or fallback[:300]


def body_message(response: httpx.Response, body: Any) -> str:
    """The error message of a parsed body, or a whitespace-squeezed hint of the text (a non-JSON
    body, or JSON in none of the shapes error_text knows: `[]`, `{"status": "x"}`)."""
    return (error_text(body) if body is not None else "") or " ".join(response.text[:160].split())


def number(value: str | None) -> int | float | None:
    """A header value such as x-remaining-credits as a number, when it is one."""
    if value is None:
        return None
    try:
        as_float = float(value)
    except ValueError:
        return None
    if not math.isfinite(as_float):  # "nan", "inf": no count, and JSON columns refuse them
        return None
    return int(as_float) if as_float.is_integer() else as_float


def batch_prompt(prompt: str, count: int, limit: int | None = None) -> str:
    """The prompt with a request for `count` images appended, when count > 1.

    Seedream's sequential mode treats max_images as an upper bound only: the model makes
    several images only when the prompt asks for them. Without the sentence a batch usually
    comes back as one image. When the sentence would push the prompt past `limit`, the prompt
    goes unchanged (and the batch may come back short; the missing images are refunded).
    """
    if count <= 1:
        return prompt
    text = f"{prompt.rstrip()}\n\nGenerate a set of {count} images."
    return prompt if limit is not None and len(text) > limit else text


def _decode_inline(item: str) -> GeneratedImage:
    payload = item.partition(",")[2] if item.startswith("data:") else item  # "data:…" with no comma: empty
    if len(payload) > RESULT_MAX_BYTES * 4 // 3 + 4:
        raise DownloadError(messages.RESULT_TOO_LARGE, detail="inline result larger than allowed")
    try:
        data = base64.b64decode("".join(payload.split()), validate=True)
    except (binascii.Error, ValueError):
        raise DownloadError(messages.RESULT_UNREADABLE, detail="result is neither a URL nor base64") from None
    return image_from_bytes(data)


async def images_from_strings(provider: Provider, items: list[str]) -> tuple[list[GeneratedImage], int]:
    """Result strings (URLs, data URIs or bare base64) -> (images, how many were unusable).

    URLs are fetched at once through the provider's safe fetcher (they expire).
    """
    images: list[GeneratedImage] = []
    failed = 0
    urls = [item for item in items if item.startswith(("http://", "https://"))]
    for item in items:
        if item.startswith(("http://", "https://")):
            continue
        try:
            images.append(_decode_inline(item))
        except DownloadError:
            failed += 1
    if urls:
        fetched, lost = await provider.download_images(urls)
        images.extend(fetched)
        failed += lost
    return images, failed


class PollErrors:
    """Rides out a few transient failures (429, 5xx, timeouts) of one task's status polls.

    Re-raising them would make the router retry the whole call and so submit (and pay for)
    the job again; the task is still running upstream, so polling on is the right answer.
    """

    def __init__(self, limit: int = 5) -> None:
        self.limit = limit
        self.streak = 0

    def ok(self) -> None:
        self.streak = 0

    def absorb(self, exc: ProviderError) -> None:
        """Return to keep polling; re-raise when the error is fatal or keeps coming. One that
        kept coming is no longer retryable, nor one to fail over on: the task is alive upstream
        (the router submitted it again, and again, each one paid)."""
        self.streak += 1
        if not exc.retryable:
            raise exc
        if self.streak > self.limit:
            exc.retryable = exc.failover = False
            raise exc

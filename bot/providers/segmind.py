"""Segmind (api.segmind.com): Seedream 5.0 lite text-to-image, synchronous v1 route.

Contract (seed 002, docs/providers.md "Segmind"):

    POST /v1/seedream-v5-lite-text-to-image
    x-api-key: <key>                      (never a Bearer token)
    {"prompt", "aspect_ratio": "16:9", "size": "2K" | "3K", "max_images": 1-15,
     "optimize_prompt": "standard", "watermark": bool}
    -> 200 image/jpeg bytes (x-remaining-credits: <n>), or JSON on some models/versions
    -> errors {"error": "<message>"}; 405 (and unknown routes) answer HTML

Decisions where the documents are silent:

- Tier sizes only: the body has no width/height, so explicit sizes route elsewhere; the
  aspect ratio must be one of the fixed set below (the page's list of allowed values is
  empty in the seed; these are Seedream's documented ratios).
- No references: this is the text-to-image route (capabilities.edit is False).
- How max_images > 1 comes back on v1 is undocumented. A JSON body with "images" (or
  "image"/"output") is read as the batch; a single binary image answers a batch with one
  image and the rest counted as failed (refunded by the engine).
- 406 means "Insufficient credits" or "Invalid content type": told apart by the message
  (anything that does not mention content type counts as out of credits, as the seed says).
- 404/405/410 are configuration (wrong route, retired model): no retry, but failover.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from bot.errors import DownloadError, ProviderError, ProviderErrorKind
from bot.providers._common import (
    body_message,
    images_from_strings,
    json_body,
    looks_moderated,
    number,
)
from bot.providers.base import Capabilities, Provider, ProviderCall, ProviderOutput, image_from_bytes

__all__ = ["SegmindProvider"]

log = logging.getLogger(__name__)

PATH = "/v1/seedream-v5-lite-text-to-image"
# Segmind's ratio names. Validation reduces ratios (21:9 becomes 7:3), so capabilities list
# the reduced forms and the body uses Segmind's label.
ASPECT_LABELS = {
    "1:1": "1:1",
    "4:3": "4:3",
    "3:4": "3:4",
    "16:9": "16:9",
    "9:16": "9:16",
    "3:2": "3:2",
    "2:3": "2:3",
    "7:3": "21:9",
}
ASPECT_RATIOS = frozenset(ASPECT_LABELS)


class SegmindProvider(Provider):
    name = "segmind"
    capabilities = Capabilities(
        models=frozenset({"5.0-lite"}),
        edit=False,
        max_references=0,
        max_outputs=15,
        explicit_size=False,
        tier_size=True,
        aspect_ratios=ASPECT_RATIOS,
        output_formats=frozenset({"jpeg"}),
        max_prompt_chars=2000,
        resumable=False,
    )

    def build_body(self, call: ProviderCall) -> dict[str, Any]:
        req = call.request
        return {
            "prompt": req.prompt,
            "aspect_ratio": ASPECT_LABELS.get(req.aspect_text, req.aspect_text),
            "size": req.tier,
            "max_images": req.count,
            "optimize_prompt": req.request.optimize,
            "watermark": bool(req.request.watermark),
        }

    async def generate(self, call: ProviderCall) -> ProviderOutput:
        req = call.request
        self.check_capable(call)  # the router never sends these; refuse before anything is paid
        headers = {"x-api-key": self.api_key(), "Content-Type": "application/json"}
        # (an answer lost may come after the images were made and charged: see starts_work)
        response = await self.send(
            "POST",
            PATH,
            json=self.build_body(call),
            headers=headers,
            total_timeout=call.deadline,
            starts_work=True,
        )
        if response.status_code != 200:
            raise self._error(response)

        usage: dict[str, Any] = {}
        remaining = number(response.headers.get("x-remaining-credits"))
        if remaining is not None:
            usage["remaining_credits"] = remaining
        request_id = response.headers.get("x-request-id") or response.headers.get("request-id")
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()

        if content_type.startswith("image/") or (not content_type and response.content[:4] != b"{"):
            try:
                image = image_from_bytes(response.content)
            except DownloadError:  # a 200 is billed (Segmind's status table)
                raise self.unreadable_success(
                    response, f"{content_type or 'untyped'} answer is not an image"
                ) from None
            return ProviderOutput([image], failed=req.count - 1, usage=usage, request_id=request_id)

        body = json_body(response)
        if not isinstance(body, dict):
            raise self.unreadable_success(response, f"unreadable {content_type} answer")
        if body.get("error"):
            raise self._error(response, body)
        items = _result_strings(body)
        if not items:
            raise self.unreadable_success(response, "answer without images")
        images, _ = await images_from_strings(self, items)
        if not images:
            # The generation was made (and paid for): asking again would pay twice.
            raise self.error(
                ProviderErrorKind.UNAVAILABLE,
                response,
                f"no usable image among {len(items)}",
                retryable=False,
                failover=False,
            )
        usage["images_returned"] = len(items)
        return ProviderOutput(
            images=images[: req.count],
            failed=max(0, req.count - len(images)),
            usage=usage,
            request_id=request_id,
        )

    def _error(self, response: httpx.Response, body: Any = None) -> ProviderError:
        status = response.status_code
        if body is None:
            body = json_body(response)
        # 404/405 answer an HTML page: keep only a hint of it.
        detail = message = body_message(response, body)
        if looks_moderated(message):
            return self.error(ProviderErrorKind.MODERATION, response, detail)
        lowered = message.lower()
        if status in (401, 403):
            return self.error(ProviderErrorKind.AUTH, response, detail)
        if status == 406:
            if "content type" in lowered or "content-type" in lowered:
                return self.error(ProviderErrorKind.BAD_REQUEST, response, detail)
            return self.error(ProviderErrorKind.NO_CREDITS, response, detail)
        if status == 402 or "insufficient credit" in lowered:
            return self.error(ProviderErrorKind.NO_CREDITS, response, detail)
        if status in (404, 405, 410):
            return self.error(ProviderErrorKind.UNAVAILABLE, response, detail, retryable=False)
        if status == 429:
            return self.error(ProviderErrorKind.RATE_LIMITED, response, detail)
        if status in (400, 413, 422):
            return self.error(ProviderErrorKind.BAD_REQUEST, response, detail)
        # 5xx, or a 200 whose JSON carries "error" (the run failed upstream).
        return self.error(ProviderErrorKind.UNAVAILABLE, response, detail)


def _result_strings(body: dict[str, Any]) -> list[str]:
    """Image strings out of the JSON shapes Segmind uses: image, images, output."""
    for key in ("images", "image", "output", "outputs"):
        value = body.get(key)
        if isinstance(value, str) and value:
            return [value]
        if isinstance(value, list):
            out: list[str] = []
            for item in value:
                if isinstance(item, str):
                    out.append(item)
                elif isinstance(item, dict):
                    found = item.get("url") or item.get("image") or item.get("b64_json")
                    if isinstance(found, str):
                        out.append(found)
            if out:
                return out
    return []

"""Novita (api.novita.ai): Seedream 5.0 lite and 4.5, synchronous.

Contract (seeds 000 and 001, docs/providers.md "Novita"):

    POST /v3/seedream-5.0-lite | /v3/seedream-4.5
    Authorization: Bearer <key>
    {"prompt", "size": "WxH", "image": [data URI | URL] (1-14, omitted when none),
     "watermark": bool, "optimize_prompt_options": {"mode"},
     "sequential_image_generation": "disabled" | "auto",
     "sequential_image_generation_options": {"max_images"}}   (only with "auto")
    -> 200 {"images": [URL | data URI | base64]}
    -> 4xx/5xx {"code", "reason", "message", "metadata"}

Decisions where the documents are silent:

- `size` is always the resolved explicit "WxH", so the aspect ratio the user asked for is kept
  (a bare tier lets the model pick the shape).
- The body has no `output_format`: Seedream answers JPEG unless told otherwise, so Novita
  only serves JPEG requests (PNG requests route to a provider that can ask for PNG).
- Batches use sequential mode, whose max_images is only an upper bound: the model makes N
  images only when the prompt asks, so "Generate a set of N images." is appended to the
  prompt for count > 1. Fewer images than asked are delivered as a partial batch.
- References go inline as base64 data URIs (the bytes are already checked, and nothing has
  to be public); a reference over INLINE_MAX_BYTES that has a public URL goes as the URL, to
  keep the JSON body sane.
- A sync call that runs past the call's deadline is not retried on Novita (it may have
  generated, and been paid for, already); the router may still fail over.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from bot.errors import ProviderError, ProviderErrorKind
from bot.providers._common import batch_prompt, body_message, images_from_strings, json_body, looks_moderated
from bot.providers.base import Capabilities, Provider, ProviderCall, ProviderOutput
from bot.request.validation import MODELS

__all__ = ["NovitaProvider"]

log = logging.getLogger(__name__)

PATHS = {"5.0-lite": "/v3/seedream-5.0-lite", "4.5": "/v3/seedream-4.5"}
INLINE_MAX_BYTES = 4 * 1024 * 1024

# reason -> kind, from Novita's error catalogue.
REASONS: dict[str, ProviderErrorKind] = {
    "INVALID_REQUEST_BODY": ProviderErrorKind.BAD_REQUEST,
    "FAILED_TO_AUTH": ProviderErrorKind.AUTH,
    "INVALID_API_KEY": ProviderErrorKind.AUTH,
    "NOT_ENOUGH_BALANCE": ProviderErrorKind.NO_CREDITS,
    "RATE_LIMIT_EXCEEDED": ProviderErrorKind.RATE_LIMITED,
    "SERVICE_NOT_AVAILABLE": ProviderErrorKind.UNAVAILABLE,
}
STATUSES: dict[int, ProviderErrorKind] = {
    400: ProviderErrorKind.BAD_REQUEST,
    401: ProviderErrorKind.AUTH,
    402: ProviderErrorKind.NO_CREDITS,
    403: ProviderErrorKind.AUTH,
    404: ProviderErrorKind.UNAVAILABLE,
    408: ProviderErrorKind.TIMEOUT,
    413: ProviderErrorKind.BAD_REQUEST,
    422: ProviderErrorKind.BAD_REQUEST,
    429: ProviderErrorKind.RATE_LIMITED,
}


class NovitaProvider(Provider):
    name = "novita"
    capabilities = Capabilities(
        models=frozenset(PATHS) & frozenset(MODELS),
        edit=True,
        max_references=14,
        max_outputs=15,
        explicit_size=True,
        tier_size=True,
        output_formats=frozenset({"jpeg"}),
        references_need_urls=False,
        max_prompt_chars=2000,
        resumable=False,
    )

    def build_body(self, call: ProviderCall) -> dict[str, Any]:
        req = call.request
        body: dict[str, Any] = {
            "prompt": batch_prompt(req.prompt, req.count),
            "size": req.size,
            "watermark": bool(req.request.watermark),
            "optimize_prompt_options": {"mode": req.request.optimize},
        }
        if req.images:
            body["image"] = [self.reference(img, inline_max=INLINE_MAX_BYTES) for img in req.images]
        if req.count > 1:
            body["sequential_image_generation"] = "auto"
            body["sequential_image_generation_options"] = {"max_images": req.count}
        else:
            body["sequential_image_generation"] = "disabled"
        return body

    async def generate(self, call: ProviderCall) -> ProviderOutput:
        req = call.request
        self.check_capable(call)  # the router never sends these; refuse before anything is paid
        path = PATHS[req.spec.key]
        headers = {"Authorization": f"Bearer {self.api_key()}", "Content-Type": "application/json"}
        # (an answer lost may come after the images were made and charged: see starts_work)
        response = await self.send(
            "POST",
            path,
            json=self.build_body(call),
            headers=headers,
            total_timeout=call.deadline,
            starts_work=True,
        )
        body = json_body(response)
        if response.status_code != 200:
            raise self._error(response, body)
        items = body.get("images") if isinstance(body, dict) else None
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise self.unreadable_success(response, "answer without an images list")
        images, unusable = await images_from_strings(self, items)
        if not images:
            raise self.error(
                ProviderErrorKind.UNAVAILABLE,
                response,
                f"no usable image among {len(items)} returned",
                # The generation was made (and paid for): asking again would pay twice.
                retryable=False,
                failover=False,
            )
        request_id = response.headers.get("x-request-id") or response.headers.get("request-id")
        return ProviderOutput(
            images=images[: req.count],
            failed=max(0, req.count - len(images)),
            usage={"images_returned": len(items), "unusable": unusable},
            request_id=request_id,
        )

    def _error(self, response: httpx.Response, body: Any) -> ProviderError:
        status = response.status_code
        reason = str(body.get("reason") or "") if isinstance(body, dict) else ""
        message = str(body.get("message") or "") if isinstance(body, dict) else ""
        detail = body_message(response, body)
        if looks_moderated(reason, message):
            return self.error(ProviderErrorKind.MODERATION, response, detail)
        kind = REASONS.get(reason) or STATUSES.get(status)
        if kind is None:
            kind = ProviderErrorKind.UNAVAILABLE if status >= 500 else ProviderErrorKind.BAD_REQUEST
        if status == 404:
            # A wrong base URL or a retired route: configuration, not a passing outage.
            return self.error(kind, response, detail, retryable=False)
        return self.error(kind, response, detail)

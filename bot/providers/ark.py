"""BytePlus ModelArk ("Ark", ByteDance's own API): Seedream 5.0 lite and 4.5, synchronous or
streamed (Server-Sent Events, one event per image).

Contract (../shared/docs/more-providers.md "BytePlus ModelArk"; BytePlus SDK
byteplussdkarkruntime/resources/images/images.py and types/images/*.py):

    POST /api/v3/images/generations
    Authorization: Bearer <ARK_API_KEY>
    {"model": <ARK_MODEL_50_LITE | ARK_MODEL_45>, "prompt", "size": "WxH",
     "image": data URI | URL | [data URI | URL, ...] (1-14, omitted when none),
     "sequential_image_generation": "disabled" | "auto",
     "sequential_image_generation_options": {"max_images"}        (only with "auto"),
     "response_format": "url" | "b64_json", "watermark": bool,
     "optimize_prompt_options": {"mode"}, "output_format": "jpeg" | "png" (5.0 lite only),
     "stream": bool}
    -> 200 {"model", "created", "data": [{"url" | "b64_json", "size"} | {"error": {code, message}}],
            "usage": {"generated_images", "output_tokens", "total_tokens"}}
    -> stream: text/event-stream, events typed by the "type" field of their data (and an
       "event:" line): image_generation.partial_succeeded {image_index, url | b64_json, size},
       image_generation.partial_failed {image_index, error {code, message}},
       image_generation.completed {usage}, then "data: [DONE]"
    -> errors {"error": {"code", "message", "param", "type"}} (parameter errors are never
       streamed: they come back as an ordinary JSON 400)

Decisions where the documents are silent:

- `size` is always the resolved explicit "WxH" (the aspect ratio the user asked for is kept).
- Batches use sequential mode with max_images = count and "Generate a set of N images."
  appended to the prompt (max_images is an upper bound only). Short batches are partial.
- References go inline as data URIs (already checked, nothing has to be public); one over
  INLINE_MAX_BYTES that has a public URL goes as that URL. One reference is sent as a string,
  several as a list, as the API describes both.
- Results are asked for as URLs (an answer of fifteen inline 4K images would be huge) and
  fetched at once (they expire after 24 hours); inline b64_json is read too.
- Streaming happens only when the call has an `on_image` hook. Each image is fetched as its
  event arrives and handed over before the next event is read; a refused image goes to
  `on_image_failed`. The call still returns every image at the end. If the stream breaks after
  images were handed over, those images are returned as a partial batch rather than raised
  (raising would make the router generate, and charge for, them again).
- A sync call that runs past the call's deadline is not retried on Ark (it may have been paid
  for already); the router may still fail over.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any

import httpx
from httpx_sse import ServerSentEvent, aconnect_sse

from bot.errors import ProviderError, ProviderErrorKind
from bot.providers._common import (
    batch_prompt,
    body_message,
    error_text,
    images_from_strings,
    json_body,
    looks_moderated,
)
from bot.providers.base import Capabilities, Provider, ProviderCall, ProviderOutput, never_sent
from bot.request.models import GeneratedImage

__all__ = ["ArkProvider"]

log = logging.getLogger(__name__)

PATH = "/api/v3/images/generations"
INLINE_MAX_BYTES = 4 * 1024 * 1024
RESPONSE_FORMAT = "url"

SUCCEEDED = "image_generation.partial_succeeded"
FAILED = "image_generation.partial_failed"
COMPLETED = "image_generation.completed"

# Ark error codes (BytePlus error-code page) that mean the account cannot pay or is capped.
_NO_CREDITS = re.compile(r"Overdue|QuotaExceeded|SetLimitExceeded|insufficient balance", re.IGNORECASE)
# "The safety service itself failed": an outage to retry, not a refusal.
_SAFETY_OUTAGE = "ContentSecurityDetectionError"


class ArkProvider(Provider):
    name = "ark"
    capabilities = Capabilities(
        models=frozenset({"5.0-lite", "4.5"}),
        edit=True,
        max_references=14,
        max_outputs=15,
        explicit_size=True,
        tier_size=True,
        output_formats=frozenset({"jpeg", "png"}),
        references_need_urls=False,
        max_prompt_chars=2000,
        resumable=False,
        streaming=True,
    )

    def model_id(self, key: str) -> str:
        return self.settings.ark_model_50_lite if key == "5.0-lite" else self.settings.ark_model_45

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key()}", "Content-Type": "application/json"}

    def build_body(self, call: ProviderCall, *, stream: bool = False) -> dict[str, Any]:
        req = call.request
        body: dict[str, Any] = {
            "model": self.model_id(req.spec.key),
            "prompt": batch_prompt(req.prompt, req.count),
            "size": req.size,
        }
        if req.images:
            refs = [self.reference(img, inline_max=INLINE_MAX_BYTES) for img in req.images]
            body["image"] = refs[0] if len(refs) == 1 else refs
        if req.count > 1:
            body["sequential_image_generation"] = "auto"
            body["sequential_image_generation_options"] = {"max_images": req.count}
        else:
            body["sequential_image_generation"] = "disabled"
        body["response_format"] = RESPONSE_FORMAT
        body["watermark"] = bool(req.request.watermark)
        body["optimize_prompt_options"] = {"mode": req.request.optimize}
        if req.spec.key == "5.0-lite":
            body["output_format"] = req.request.output_format
        if stream:
            body["stream"] = True
        return body

    async def generate(self, call: ProviderCall) -> ProviderOutput:
        self.check_capable(call)
        if call.on_image is not None:
            return await self._stream(call)
        # (an answer lost may come after the images were made and charged: see starts_work)
        response = await self.send(
            "POST",
            PATH,
            json=self.build_body(call),
            headers=self._headers(),
            total_timeout=call.deadline,
            starts_work=True,
        )
        body = json_body(response)
        if response.status_code == 200 and not isinstance(body, dict):
            raise self.unreadable_success(response, "unreadable answer")
        if response.status_code != 200 or not isinstance(body, dict) or "error" in body:
            raise self._error(response, body)
        return await self._from_json(call, response, body)

    async def _from_json(
        self, call: ProviderCall, response: httpx.Response, body: dict[str, Any]
    ) -> ProviderOutput:
        data = body.get("data")
        if not isinstance(data, list):
            raise self.unreadable_success(response, "answer without a data list")
        items: list[str] = []
        errors: list[str] = []
        for item in data:
            if not isinstance(item, dict):
                continue
            if item.get("error"):
                errors.append(error_text(item["error"], "failed"))
                continue
            found = item.get("b64_json") or item.get("url")
            if isinstance(found, str) and found:
                items.append(found)
        if not items:
            raise self._nothing_made(response, errors)
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
        return self._output(call, images, response, body.get("usage"), errors, unusable)

    def _output(
        self,
        call: ProviderCall,
        images: list[GeneratedImage],
        response: httpx.Response | None,
        host_usage: Any,
        errors: list[str],
        unusable: int = 0,
    ) -> ProviderOutput:
        count = call.request.count
        usage: dict[str, Any] = dict(host_usage) if isinstance(host_usage, dict) else {}
        if errors:
            usage["image_errors"] = errors
        if unusable:
            usage["unusable"] = unusable
        request_id = None
        if response is not None:
            request_id = response.headers.get("x-request-id") or response.headers.get("request-id")
        return ProviderOutput(
            images=images[:count], failed=max(0, count - len(images)), usage=usage, request_id=request_id
        )

    def _nothing_made(self, response: httpx.Response | None, errors: list[str]) -> ProviderError:
        detail = "; ".join(errors)[:300] or "no image was generated"
        if looks_moderated(*errors):
            return self.error(ProviderErrorKind.MODERATION, response, detail)
        # Ark bills generated images only: nothing was made, so another provider may try.
        return self.error(ProviderErrorKind.UNAVAILABLE, response, detail, retryable=False, failover=True)

    # -- streaming --------------------------------------------------------------------------

    async def _stream(self, call: ProviderCall) -> ProviderOutput:
        state = _StreamState()
        response: httpx.Response | None = None
        try:
            async with asyncio.timeout(call.deadline):
                async with aconnect_sse(
                    self.client,
                    "POST",
                    f"{self.base_url}{PATH}",
                    json=self.build_body(call, stream=True),
                    headers=self._headers(),
                    # the first event comes once the first image is made: a read may take long
                    timeout=httpx.Timeout(
                        call.deadline, connect=self.client.timeout.connect or call.deadline
                    ),
                ) as source:
                    response = source.response
                    content_type = response.headers.get("content-type", "")
                    if response.status_code != 200 or "text/event-stream" not in content_type:
                        return await self._not_a_stream(call, response)
                    async for event in source.aiter_sse():
                        if response.num_bytes_downloaded > self.response_max_bytes:
                            raise self._too_large(response, "POST", PATH)
                        if await self._on_event(call, event, state, response):
                            break
        except TimeoutError:
            return self._broken(call, state, response, ProviderErrorKind.TIMEOUT, "stream took too long")
        except httpx.HTTPError as exc:
            kind = (
                ProviderErrorKind.TIMEOUT
                if isinstance(exc, httpx.TimeoutException)
                else ProviderErrorKind.UNAVAILABLE
            )
            return self._broken(call, state, response, kind, type(exc).__name__, sent=not never_sent(exc))
        if not state.images:
            raise self._nothing_made(response, list(state.failures.values()))
        ordered = [state.images[i] for i in sorted(state.images)]
        return self._output(call, ordered, response, state.usage, list(state.failures.values()))

    async def _on_event(
        self, call: ProviderCall, event: ServerSentEvent, state: _StreamState, response: httpx.Response
    ) -> bool:
        """Handle one event; True when the stream is over."""
        if event.data.strip() == "[DONE]":
            return True
        if not event.data.strip():
            return False
        try:
            payload = json.loads(event.data)
        except ValueError:
            log.warning("%s: unreadable stream event %r skipped", self.name, event.event)
            return False
        if not isinstance(payload, dict):
            return False
        kind = str(payload.get("type") or event.event or "")
        index = payload.get("image_index")
        if not isinstance(index, int) or isinstance(index, bool):
            index = len(state.images) + len(state.failures)
        if kind == SUCCEEDED:
            item = payload.get("b64_json") or payload.get("url")
            images, _ = await images_from_strings(self, [item] if isinstance(item, str) and item else [])
            if images:
                state.images[index] = images[0]
                if call.on_image is not None:
                    await call.on_image(index, images[0])
            else:
                await self._image_failed(call, state, index, "result image could not be fetched")
        elif kind == FAILED:
            await self._image_failed(call, state, index, error_text(payload.get("error"), "failed"))
        elif kind == COMPLETED:
            if isinstance(payload.get("usage"), dict):
                state.usage = payload["usage"]
            if payload.get("error") and not state.images and not state.failures:
                state.failures[-1] = error_text(payload["error"], "failed")
        elif payload.get("error"):
            # An error object outside the typed events: the stream is over.
            if not state.images and not state.failures:
                raise self._error(response, payload)
            state.failures[-1 - len(state.failures)] = error_text(payload["error"], "failed")
            return True
        return False

    async def _image_failed(self, call: ProviderCall, state: _StreamState, index: int, reason: str) -> None:
        state.failures[index] = reason
        if call.on_image_failed is not None:
            await call.on_image_failed(index, reason)

    async def _not_a_stream(self, call: ProviderCall, response: httpx.Response) -> ProviderOutput:
        """An error (or a host that ignored `stream`) answered with a plain body."""
        chunks: list[bytes] = []
        total = 0
        async for chunk in response.aiter_bytes():
            total += len(chunk)
            if total > self.response_max_bytes:
                raise self._too_large(response, "POST", PATH)
            chunks.append(chunk)
        plain = httpx.Response(
            response.status_code,
            headers=[
                (k, v)
                for k, v in response.headers.multi_items()
                if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")
            ],
            content=b"".join(chunks),
            request=response.request,
        )
        body = json_body(plain)
        if plain.status_code != 200 or not isinstance(body, dict) or "error" in body:
            raise self._error(plain, body)
        output = await self._from_json(call, plain, body)
        for index, image in enumerate(output.images):
            if call.on_image is not None:
                await call.on_image(index, image)
        return output

    def _broken(
        self,
        call: ProviderCall,
        state: _StreamState,
        response: httpx.Response | None,
        kind: ProviderErrorKind,
        detail: str,
        *,
        sent: bool = True,
    ) -> ProviderOutput:
        if state.images:
            # Already handed over: deliver them as a partial batch, never generate them again.
            log.warning("%s: stream broke after %d image(s): %s", self.name, len(state.images), detail)
            ordered = [state.images[i] for i in sorted(state.images)]
            return self._output(call, ordered, response, state.usage, [*state.failures.values(), detail])
        if not sent:
            # No connection was made: safe to retry, as for a plain POST. (No answer yet is not
            # that: the headers come only once the first image is made, ~27 s in.)
            raise ProviderError(self.name, kind, detail=f"POST {PATH}: {detail}")
        # The host may be generating (and charging for) the images: fail over, never retry here.
        raise ProviderError(self.name, kind, detail=f"POST {PATH}: {detail}", retryable=False, failover=True)

    # -- errors -----------------------------------------------------------------------------

    def _error(self, response: httpx.Response, body: Any) -> ProviderError:
        status = response.status_code
        err = body.get("error") if isinstance(body, dict) else None
        code = str(err.get("code") or "") if isinstance(err, dict) else ""
        message = str(err.get("message") or "") if isinstance(err, dict) else ""
        detail = error_text(err) if err else body_message(response, body)
        if _SAFETY_OUTAGE in code:
            return self.error(ProviderErrorKind.UNAVAILABLE, response, detail)
        if looks_moderated(code, message):
            return self.error(ProviderErrorKind.MODERATION, response, detail)
        if _NO_CREDITS.search(code) or status == 402:
            return self.error(ProviderErrorKind.NO_CREDITS, response, detail)
        if status in (401, 403):
            return self.error(ProviderErrorKind.AUTH, response, detail)
        if status == 404:
            # Model or endpoint not found or not enabled for this account: configuration.
            return self.error(ProviderErrorKind.UNAVAILABLE, response, detail, retryable=False)
        if status == 429:
            return self.error(ProviderErrorKind.RATE_LIMITED, response, detail)
        if status == 200:
            return self.error(ProviderErrorKind.UNAVAILABLE, response, detail or "unreadable answer")
        if 400 <= status < 500:
            return self.error(ProviderErrorKind.BAD_REQUEST, response, detail)
        return self.error(ProviderErrorKind.UNAVAILABLE, response, detail)


class _StreamState:
    __slots__ = ("failures", "images", "usage")

    def __init__(self) -> None:
        self.images: dict[int, GeneratedImage] = {}
        self.failures: dict[int, str] = {}
        self.usage: dict[str, Any] = {}

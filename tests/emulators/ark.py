"""Loopback emulator of BytePlus ModelArk's image generation API (`{url}/ark`), mounted on the
ProviderEmulator app (state `emu.ark`, knobs on `emu.ark_host`).

    POST /api/v3/images/generations      sync JSON, or text/event-stream with "stream": true

Strict where ../shared/docs/more-providers.md is: Bearer auth, the SDK's field names, the model
ids, size forms per model, 1-14 references (URL or data:image/<fmt>;base64), references +
max_images <= 15, output_format on 5.0 lite only. Errors in Ark's shape
{"error": {"code", "message", "param", "type"}}; parameter errors are never streamed.

Knobs (ArkHost): refused (indexes of images refused as OutputImageSensitiveContentDetected),
event_gap (seconds between stream events), first_gap (seconds before the first one),
cut_after (close the stream after this many image events, without "completed"), stream_done
(set when the last stream event was written), event_times (time.monotonic() each image event
of the latest stream was written, by image index),
models (model id -> (tiers, min px, max px, output_format allowed)).
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.emulators.providers import (
    _DELIVERY_FAULTS,
    Fault,
    Recorded,
    _asked_count,
    _check_fields,
    _check_wxh,
    _decode_reference,
    _Invalid,
    _is_int,
    _size_of,
)

if TYPE_CHECKING:
    from tests.emulators.providers import ProviderEmulator

MODELS = {
    # model id -> (tiers, min pixels, max pixels, output_format allowed)
    "seedream-5-0-260128": ({"2K", "3K"}, 3_686_400, 10_404_496, True),
    "seedream-4-5-251128": ({"2K", "4K"}, 3_686_400, 16_777_216, False),
}
FIELDS = {
    "model",
    "prompt",
    "image",
    "size",
    "seed",
    "sequential_image_generation",
    "sequential_image_generation_options",
    "stream",
    "response_format",
    "watermark",
    "optimize_prompt_options",
    "output_format",
    "tools",
}
REFUSED = {
    "code": "OutputImageSensitiveContentDetected",
    "message": "The request failed because the output image may contain sensitive information.",
}


def ark_error(
    status: int, code: str, message: str, kind: str, param: str = "", **headers: str
) -> web.Response:
    request_id = secrets.token_hex(8)
    payload = {
        "error": {
            "code": code,
            "message": f"{message} Request id: {request_id}",
            "param": param,
            "type": kind,
        }
    }
    return web.json_response(payload, status=status, headers={"x-request-id": request_id, **headers})


class ArkHost:
    def __init__(self, emu: ProviderEmulator) -> None:
        self.emu = emu
        self.refused: set[int] = set()
        self.event_gap = 0.0
        self.first_gap = 0.0
        self.event_times: dict[int, float] = {}
        self.cut_after: int | None = None
        self.stream_done = False
        self.streams = 0
        self.models = dict(MODELS)

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/ark/api/v3/images/generations", self.generate)

    def _fault(self, fault: Fault) -> web.Response | None:
        e = ark_error
        return {
            "rate_limited": lambda: e(
                429,
                "ModelAccountIpmRateLimitExceeded",
                "The request has exceeded the IPM rate limit.",
                "TooManyRequests",
                **{"Retry-After": str(fault.params.get("retry_after", 1))},
            ),
            "server_error": lambda: e(
                500, "InternalServiceError", "The service encountered an unexpected error.", "InternalError"
            ),
            "unavailable": lambda: e(
                503, "ServiceUnavailable", "The service is unavailable.", "InternalError"
            ),
            "gateway_timeout": lambda: self.emu._html(504, "Gateway Timeout"),
            "not_found": lambda: e(
                404, "InvalidEndpointOrModel.NotFound", "The model or endpoint does not exist.", "NotFound"
            ),
            "no_credits": lambda: e(
                403, "AccountOverdueError", "The account has an overdue balance.", "Forbidden"
            ),
            "moderation": lambda: e(
                400,
                "InputTextSensitiveContentDetected",
                "The request failed because the input text may contain sensitive information.",
                "BadRequest",
            ),
            "auth": lambda: e(
                401, "AuthenticationError", "The API key is missing or invalid.", "Unauthorized"
            ),
            "bad_request": lambda: e(400, "InvalidParameter", "A parameter is invalid.", "BadRequest"),
        }.get(fault.kind, lambda: None)()

    def _auth(self, rec: Recorded) -> web.Response | None:
        auth = rec.headers.get("authorization", "")
        if not auth.startswith("Bearer "):
            return ark_error(401, "AuthenticationError", "The API key is missing.", "Unauthorized")
        if auth[7:] != self.emu.ark.api_key:
            return ark_error(
                401, "AuthenticationError", f"The API key {auth[7:]} is invalid.", "Unauthorized"
            )
        return None

    async def generate(self, request: web.Request) -> web.StreamResponse:
        st = self.emu.ark
        rec = await self.emu._before_submit(st, request)
        if (denied := self._auth(rec)) is not None:
            return denied
        fault = st.take("submit")
        if fault and fault.kind not in _DELIVERY_FAULTS:
            return self._fault(fault) or web.Response(status=500)
        body = rec.json
        model = body.get("model") if isinstance(body, dict) else None
        if isinstance(model, str) and model not in self.models:
            return ark_error(
                404,
                "InvalidEndpointOrModel.NotFound",
                f"The model or endpoint {model} does not exist or you do not have access to it.",
                "NotFound",
            )
        try:
            if not rec.headers.get("content-type", "").startswith("application/json"):
                raise _Invalid("Content-Type must be application/json")
            count, fmt, width, height = self._check(body)
        except _Invalid as exc:
            param = str(exc).split(" ", 1)[0]
            return ark_error(
                400, "InvalidParameter", f"The parameter `{param}` is invalid: {exc}", "BadRequest", param
            )
        urls = self.emu._results(st, count, width, height, fmt)
        created = int(time.time())
        items: list[dict[str, Any]] = []
        for index, url in enumerate(urls):
            if index in self.refused:
                items.append({"error": dict(REFUSED)})
                continue
            item: dict[str, Any] = {"size": f"{width}x{height}"}
            if body.get("response_format") == "b64_json":
                token = url.rsplit("/", 1)[-1]
                data = self.emu.files[token][0] if token in self.emu.files else b"not an image"
                item["b64_json"] = base64.b64encode(data).decode()
            else:
                item["url"] = f"{url}?X-Tos-Expires=86400&X-Tos-Signature={secrets.token_hex(8)}"
            items.append(item)
        made = sum(1 for item in items if "error" not in item)
        usage = {"generated_images": made, "output_tokens": made * width * height // 256}
        usage["total_tokens"] = usage["output_tokens"]
        if body.get("stream") is True:
            return await self._stream(request, body["model"], created, items, usage)
        if made == 0 and items:
            # Nothing at all was generated: a request-level error.
            return ark_error(400, REFUSED["code"], REFUSED["message"], "BadRequest")
        payload = {"model": body["model"], "created": created, "data": items, "usage": usage}
        return await self.emu._json(request, fault, payload)

    async def _stream(
        self,
        request: web.Request,
        model: str,
        created: int,
        items: list[dict[str, Any]],
        usage: dict[str, Any],
    ) -> web.StreamResponse:
        self.streams += 1
        self.stream_done = False
        self.event_times = {}
        resp = web.StreamResponse(status=200, headers={"Content-Type": "text/event-stream; charset=utf-8"})
        await resp.prepare(request)

        async def send(kind: str | None, data: Any) -> None:
            text = data if isinstance(data, str) else json.dumps(data)
            head = f"event: {kind}\n" if kind else ""
            await resp.write(f"{head}data: {text}\n\n".encode())

        try:
            for index, item in enumerate(items):
                if self.cut_after is not None and index >= self.cut_after:
                    resp.force_close()
                    return resp
                gap = self.event_gap if index else self.first_gap
                if gap:
                    await asyncio.sleep(gap)
                base = {"model": model, "created": created, "image_index": index}
                self.event_times[index] = time.monotonic()  # as the event leaves
                if "error" in item:
                    kind = "image_generation.partial_failed"
                    await send(kind, {"type": kind, **base, "error": item["error"]})
                else:
                    kind = "image_generation.partial_succeeded"
                    await send(kind, {"type": kind, **base, **item})
            if self.event_gap:
                await asyncio.sleep(self.event_gap)
            self.stream_done = True
            kind = "image_generation.completed"
            await send(kind, {"type": kind, "model": model, "created": created, "usage": usage})
            await send(None, "[DONE]")
            await resp.write_eof()
        except (ConnectionResetError, RuntimeError):
            pass
        return resp

    def _check(self, body: Any) -> tuple[int, str, int, int]:
        body = _check_fields(body, FIELDS)
        model = body.get("model")
        if not isinstance(model, str):
            raise _Invalid("model is required")
        tiers, lo, hi, has_format = self.models[model]
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise _Invalid("prompt is required")
        size = body.get("size", "2048x2048")
        if size not in tiers:
            _check_wxh(size, lo, hi)
        refs = 0
        if "image" in body:
            images = body["image"]
            listed = images if isinstance(images, list) else [images]
            if not 1 <= len(listed) <= 14:
                raise _Invalid("image must be 1 to 14 images")
            refs = len(listed)
            for item in listed:
                if isinstance(item, str) and item.startswith(("http://", "https://")):
                    self.emu.ark.received_urls.append(item)
                else:
                    self.emu.ark.received_images.append(_decode_reference(item))
        mode = body.get("sequential_image_generation", "disabled")
        if mode not in ("auto", "disabled"):
            raise _Invalid("sequential_image_generation must be auto or disabled")
        max_images = 15
        if "sequential_image_generation_options" in body:
            opts = _check_fields(
                body["sequential_image_generation_options"],
                {"max_images"},
                "sequential_image_generation_options",
            )
            max_images = opts.get("max_images", 15)
            if not _is_int(max_images) or not 1 <= max_images <= 15:
                raise _Invalid("max_images must be an integer in [1, 15]")
        if mode == "auto" and refs + max_images > 15:
            raise _Invalid("image count plus max_images must be at most 15")
        for flag in ("stream", "watermark"):
            if flag in body and not isinstance(body[flag], bool):
                raise _Invalid(f"{flag} must be a boolean")
        if body.get("response_format", "url") not in ("url", "b64_json"):
            raise _Invalid("response_format must be url or b64_json")
        if "optimize_prompt_options" in body:
            opts = _check_fields(
                body["optimize_prompt_options"], {"mode", "thinking"}, "optimize_prompt_options"
            )
            if opts.get("mode", "standard") != "standard":
                raise _Invalid("optimize_prompt_options.mode must be 'standard'")
        fmt = body.get("output_format", "jpeg")
        if "output_format" in body and not has_format:
            raise _Invalid("output_format is not supported by this model")
        if fmt not in ("jpeg", "png"):
            raise _Invalid("output_format must be jpeg or png")
        count = _asked_count(prompt, max_images) if mode == "auto" else 1
        width, height = _size_of(size if isinstance(size, str) else None)
        return count, fmt, width, height

"""Loopback emulator of fal.ai's queue API for the Seedream endpoints (`{url}/fal`), mounted on
the ProviderEmulator app (state `emu.fal`, knobs on `emu.fal_host`).

    POST /<endpoint id>                                   submit (4 Seedream endpoint ids)
    GET  /fal-ai/bytedance/requests/{id}/status           202 IN_QUEUE / IN_PROGRESS, 200 COMPLETED
    GET  /fal-ai/bytedance/requests/{id}                  the result (400 while unfinished)
    PUT  /fal-ai/bytedance/requests/{id}/cancel           202 CANCELLATION_REQUESTED / 400 ALREADY_COMPLETED

Strict where ../shared/docs/more-providers.md is: `Authorization: Key ...` (a Bearer token is
refused), the documented input fields per endpoint (image_urls only on edit, up to 10),
image_size presets per model or {"width", "height"}, num_images and max_images 1-6. Errors in
fal's shape {"detail": text | [{"loc", "msg", "type"}]}. Results are PNG, as fal's are.

Knobs (FalHost): foreign_urls (the submit answer's URLs point at another host), canceled (ids).
"""

from __future__ import annotations

import itertools
import secrets
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.emulators.providers import (
    _DELIVERY_FAULTS,
    Fault,
    Recorded,
    _asked_count,
    _check_fields,
    _decode_reference,
    _Invalid,
    _is_int,
)

if TYPE_CHECKING:
    from tests.emulators.providers import ProviderEmulator

APP = "fal-ai/bytedance"
PRESETS = {"square_hd", "square", "portrait_4_3", "portrait_16_9", "landscape_4_3", "landscape_16_9"}
ENDPOINTS = {
    # endpoint id -> (edit?, extra presets)
    f"{APP}/seedream/v5/lite/text-to-image": (False, {"auto_2K", "auto_3K"}),
    f"{APP}/seedream/v5/lite/edit": (True, {"auto_2K", "auto_3K"}),
    f"{APP}/seedream/v4.5/text-to-image": (False, {"auto_2K", "auto_4K"}),
    f"{APP}/seedream/v4.5/edit": (True, {"auto_2K", "auto_4K"}),
}
FIELDS = {"prompt", "image_size", "num_images", "max_images", "seed", "sync_mode", "enable_safety_checker"}
POLICY = "The content could not be processed because it contained material flagged by a content checker."


def fal_error(status: int, detail: Any, error_type: str | None = None, **headers: str) -> web.Response:
    payload: dict[str, Any] = {"detail": detail}
    if error_type:
        headers["x-fal-error-type"] = error_type
    return web.json_response(payload, status=status, headers=headers or None)


def _validation(loc: str, msg: str, kind: str = "value_error") -> list[dict[str, Any]]:
    return [{"loc": ["body", *loc.split(".")], "msg": msg, "type": kind}]


class FalHost:
    def __init__(self, emu: ProviderEmulator) -> None:
        self.emu = emu
        self.foreign_urls = False
        self.canceled: set[str] = set()
        self._ids = itertools.count(1)

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get(f"/fal/{APP}/requests/{{id}}/status", self.status)
        app.router.add_put(f"/fal/{APP}/requests/{{id}}/cancel", self.cancel)
        app.router.add_get(f"/fal/{APP}/requests/{{id}}", self.result)
        app.router.add_post("/fal/{endpoint:.+}", self.submit)

    def _fault(self, fault: Fault) -> web.Response | None:
        e = fal_error
        return {
            "rate_limited": lambda: e(
                429, "Rate limit exceeded", **{"Retry-After": str(fault.params.get("retry_after", 1))}
            ),
            "server_error": lambda: e(500, "Internal Server Error", "internal_error"),
            "unavailable": lambda: e(503, "Service Unavailable"),
            "gateway_timeout": lambda: self.emu._html(504, "Gateway Timeout"),
            "not_found": lambda: e(404, "Request not found"),
            "no_credits": lambda: e(
                403,
                "User is locked. Reason: Exhausted balance. Top up your balance at fal.ai/dashboard/billing.",
            ),
            "moderation": lambda: e(
                422, _validation("prompt", POLICY, "content_policy_violation"), "content_policy_violation"
            ),
            "auth": lambda: e(401, "Authentication is required to access this application."),
            "bad_request": lambda: e(422, _validation("image_size", "Invalid image size")),
        }.get(fault.kind, lambda: None)()

    def _auth(self, rec: Recorded) -> web.Response | None:
        auth = rec.headers.get("authorization", "")
        if not auth.startswith("Key "):
            return fal_error(401, "Missing or malformed authorization header: expected 'Key <key>'")
        if auth[4:] != self.emu.fal.api_key:
            return fal_error(401, f"No user found for Key ID and Secret: {auth[4:]}")
        return None

    def _urls(self, request_id: str) -> dict[str, str]:
        base = "http://127.0.0.1:9/fal" if self.foreign_urls else self.emu.base_url("fal")
        root = f"{base}/{APP}/requests/{request_id}"
        return {"status_url": f"{root}/status", "response_url": root, "cancel_url": f"{root}/cancel"}

    async def submit(self, request: web.Request) -> web.StreamResponse:
        st = self.emu.fal
        rec = await self.emu._before_submit(st, request)
        if (denied := self._auth(rec)) is not None:
            return denied
        fault = st.take("submit")
        if fault and fault.kind not in _DELIVERY_FAULTS:
            return self._fault(fault) or web.Response(status=500)
        endpoint = request.match_info["endpoint"]
        if endpoint not in ENDPOINTS:
            return fal_error(404, f"Application '{endpoint}' not found")
        try:
            if not rec.headers.get("content-type", "").startswith("application/json"):
                raise _Invalid("Content-Type must be application/json")
            count, width, height = self._check(endpoint, rec.json)
        except _Invalid as exc:
            field, _, msg = str(exc).partition(": ")
            return fal_error(422, _validation(field, msg or str(exc)))
        urls = self.emu._results(st, count, width, height, "png")
        task = self.emu._task(st, urls, "png", endpoint)
        payload = {"request_id": task.id, **self._urls(task.id), "queue_position": 0}
        return await self.emu._json(request, fault, payload)

    def _check(self, endpoint: str, body: Any) -> tuple[int, int, int]:
        edit, presets = ENDPOINTS[endpoint]
        body = _check_fields(body, FIELDS | ({"image_urls"} if edit else set()))
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise _Invalid("prompt: field required")
        size = body.get("image_size", "auto_2K")
        width = height = 2048
        if isinstance(size, dict):
            size = _check_fields(size, {"width", "height"}, "image_size")
            width, height = size.get("width"), size.get("height")
            if not (_is_int(width) and _is_int(height)) or not (1 <= width <= 14142 and 1 <= height <= 14142):
                raise _Invalid("image_size: width and height must be integers in [1, 14142]")
        elif size not in PRESETS | presets:
            raise _Invalid(f"image_size: must be one of {sorted(PRESETS | presets)} or {{width, height}}")
        num = body.get("num_images", 1)
        per = body.get("max_images", 1)
        for name, value in (("num_images", num), ("max_images", per)):
            if not _is_int(value) or not 1 <= value <= 6:
                raise _Invalid(f"{name}: must be an integer in [1, 6]")
        for flag in ("sync_mode", "enable_safety_checker"):
            if flag in body and not isinstance(body[flag], bool):
                raise _Invalid(f"{flag}: must be a boolean")
        refs = 0
        if edit:
            images = body.get("image_urls")
            if not isinstance(images, list) or not 1 <= len(images) <= 10:
                raise _Invalid("image_urls: must be a list of 1 to 10 images")
            refs = len(images)
            for item in images:
                if isinstance(item, str) and item.startswith(("http://", "https://")):
                    self.emu.fal.received_urls.append(item)
                else:
                    self.emu.fal.received_images.append(_decode_reference(item))
        if refs + per > 15:
            raise _Invalid("max_images: input images plus output images must be at most 15")
        count = sum(_asked_count(prompt, per) if per > 1 else 1 for _ in range(num))
        return count, width, height

    async def _poll(self, request: web.Request) -> tuple[Recorded, web.Response | None, Fault | None]:
        st = self.emu.fal
        rec = await self.emu._record(st, request)
        if (denied := self._auth(rec)) is not None:
            return rec, denied, None
        fault = st.take("poll")
        if fault and fault.kind not in _DELIVERY_FAULTS:
            return rec, self._fault(fault) or web.Response(status=500), None
        if request.match_info["id"] not in st.tasks:
            return rec, fal_error(404, "Request not found"), None
        return rec, None, fault

    async def status(self, request: web.Request) -> web.StreamResponse:
        self.emu.fal.polls += 1
        _, answer, fault = await self._poll(request)
        if answer is not None:
            return answer
        task = self.emu.fal.tasks[request.match_info["id"]]
        task.polls += 1
        if task.id not in self.canceled and task.polls <= task.pending:
            if task.polls == 1:
                payload: dict[str, Any] = {"status": "IN_QUEUE", "queue_position": 0}
            else:
                payload = {"status": "IN_PROGRESS", "logs": []}
            return await self.emu._json(request, fault, payload, 202)
        payload = {"status": "COMPLETED", "logs": [], "metrics": {"inference_time": 9.1}}
        if task.id in self.canceled:
            payload.update(error="Request was cancelled by the user", error_type="request_cancelled")
        elif task.error is not None:
            kind = "content_policy_violation" if "flagged" in task.error else "internal_error"
            payload.update(error=task.error, error_type=kind)
        return await self.emu._json(request, fault, payload)

    async def result(self, request: web.Request) -> web.StreamResponse:
        _, answer, fault = await self._poll(request)
        if answer is not None:
            return answer
        task = self.emu.fal.tasks[request.match_info["id"]]
        if task.id not in self.canceled and task.polls <= task.pending:
            return fal_error(400, "Request is still in progress")
        if task.id in self.canceled:
            return fal_error(400, "Request was cancelled", "request_cancelled")
        if task.error is not None:
            if "flagged" in task.error:
                return fal_error(
                    422,
                    _validation("prompt", task.error, "content_policy_violation"),
                    "content_policy_violation",
                )
            return fal_error(500, task.error, "internal_error")
        images = []
        for url in task.images:
            token = url.rsplit("/", 1)[-1]
            data = self.emu.files.get(token, (b"", ""))[0]
            images.append(
                {
                    "url": url,
                    "content_type": "image/png",
                    "file_name": f"{secrets.token_hex(4)}.png",
                    "file_size": len(data),
                    "width": 0,
                    "height": 0,
                }
            )
        return await self.emu._json(request, fault, {"images": images, "seed": 746406749})

    async def cancel(self, request: web.Request) -> web.StreamResponse:
        _, answer, _ = await self._poll(request)
        if answer is not None:
            return answer
        task = self.emu.fal.tasks[request.match_info["id"]]
        if task.polls > task.pending or task.id in self.canceled:
            return web.json_response({"status": "ALREADY_COMPLETED"}, status=400)
        self.canceled.add(task.id)
        return web.json_response({"status": "CANCELLATION_REQUESTED"}, status=202)

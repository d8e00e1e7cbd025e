"""Loopback emulators of the Seedream provider APIs: Novita, Segmind, Apiframe, Modellix here,
and BytePlus ModelArk, fal.ai and Replicate in ark.py, fal.py and replicate.py beside this file.

One aiohttp app on 127.0.0.1 (port 0) serves them all under their own path prefixes, plus the
result images they hand out:

    {url}/novita     POST /v3/seedream-5.0-lite, /v3/seedream-4.5            (sync JSON)
    {url}/segmind    POST /v1/seedream-v5-lite-text-to-image                  (sync image bytes)
    {url}/apiframe   POST /v2/images/generate, GET /v2/jobs/{id}               (async jobs)
    {url}/modellix   POST /api/v1/bytedance/seedream-5.0-lite[-edit]/async,
                     GET /api/v1/tasks/{id}                                    (async tasks)
    {url}/ark        POST /api/v3/images/generations                           (sync JSON or SSE)
    {url}/fal        POST /<endpoint id>, GET/PUT /fal-ai/bytedance/requests/{id}[/status|/cancel]
    {url}/replicate  POST /v1/models/bytedance/{name}/predictions, GET /v1/predictions/{id},
                     POST /v1/predictions/{id}/cancel, GET /v1/account              (predictions)
    {url}/files/{token}                                                        (result images)

Each emulator follows its provider's seed document and docs/providers.md:
exact auth header, exact body field names and value ranges; unknown or misspelled fields,
out-of-range values and wrong auth answer in that provider's own error shape.

Usage:

    async with ProviderEmulator() as emu:
        settings = Settings(**emu.settings_kwargs(), poll_interval=0.05, allow_private_network=True)
        emu.novita.fail("rate_limited", retry_after=0.2)    # next submit answers 429
        emu.apiframe.pending_polls = 3                      # 3 polls say QUEUED/PROCESSING
        emu.modellix.deliver = 2                            # the model makes only 2 images
        ...
        emu.novita.submissions, emu.novita.requests[-1].json, emu.novita.received_images

Faults (`state.fail(kind, times=1, on="submit" | "poll", **params)`), applied in order to
the next matching requests after auth has passed:

    rate_limited      429 with Retry-After (Segmind: x-rate-limit-reset-at-utc); param retry_after
    server_error      500                      unavailable     503
    gateway_timeout   504 (HTML)               not_found       404 (HTML)
    gone              410 (Segmind: model retired)
    no_credits        Novita 403 NOT_ENOUGH_BALANCE, Segmind 406 "Insufficient credits",
                      Apiframe 402, Modellix 402
    bad_content_type  Segmind 406 "Invalid content type"
    moderation        the provider's content-policy refusal (400)
    auth              401 in the provider's shape
    bad_request       400 in the provider's shape
    malformed_json    200, JSON content type, truncated body
    slow_body         the normal answer, dribbled over `seconds` (default 5)
    oversized_body    200 chunked body of `size` bytes (default 3 MB), no Content-Length
    delay             wait `seconds`, then answer normally

Error faults also take `headers` (a dict added to the answer), e.g.
`fail("unavailable", headers={"Retry-After": "soon"})` for a 503 with a malformed Retry-After.

Other knobs per provider state: latency (seconds before every submit answer), pending_polls,
deliver (images the model makes; default as asked), broken (how many result URLs 404),
job_error (async jobs end FAILED with this text; Segmind answers 200 {"error": text}),
result_mode (see ProviderState).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import colorsys
import io
import itertools
import json
import re
import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from PIL import Image

__all__ = ["FAULT_KINDS", "Fault", "ProviderEmulator", "ProviderState", "Recorded", "render_image"]

FAULT_KINDS = frozenset(
    {
        "rate_limited",
        "server_error",
        "unavailable",
        "gateway_timeout",
        "not_found",
        "gone",
        "no_credits",
        "bad_content_type",
        "moderation",
        "auth",
        "bad_request",
        "malformed_json",
        "slow_body",
        "oversized_body",
        "delay",
    }
)
_DELIVERY_FAULTS = frozenset({"malformed_json", "slow_body", "oversized_body", "delay"})
PROVIDER_NAMES = ("novita", "segmind", "apiframe", "modellix", "ark", "fal", "replicate")

NOVITA_MODELS = {
    # model -> (tiers, min pixels, max pixels)
    "seedream-5.0-lite": ({"2K", "3K"}, 3_686_400, 10_404_496),
    "seedream-4.5": ({"2K", "4K"}, 3_686_400, 16_777_216),
}
SEGMIND_SLUG = "seedream-v5-lite-text-to-image"
SEGMIND_RATIOS = {"1:1", "4:3", "3:4", "16:9", "9:16", "3:2", "2:3", "21:9"}
LITE_PIXELS = (3_686_400, 10_404_496)
REFERENCE_MIMES = {"jpeg", "png", "webp", "bmp", "tiff", "gif"}
_SIZE_RE = re.compile(r"^(\d{2,5})x(\d{2,5})$")
_RATIO_RE = re.compile(r"^(\d{1,3}):(\d{1,3})$")
_ASKS_FOR = re.compile(r"\b(\d{1,2})\s+images\b", re.IGNORECASE)
_TIER_SIDE = {"1K": 1024, "2K": 2048, "3K": 3072, "4K": 4096}


class _Invalid(Exception):
    """A request the real API would reject with 400 (message in the provider's words)."""


def _with_headers(fault: Fault, response: web.Response) -> web.Response:
    for name, value in fault.params.get("headers", {}).items():
        response.headers[name] = value
    return response


@dataclass
class Recorded:
    method: str
    path: str  # without the provider prefix
    headers: dict[str, str]  # lower-cased names
    body: bytes
    json: Any  # parsed body, or None


@dataclass
class Fault:
    kind: str
    on: str = "submit"  # "submit" or "poll"
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Task:
    id: str
    images: list[str]  # result URLs
    fmt: str
    pending: int
    error: str | None
    model: str
    polls: int = 0


@dataclass
class ProviderState:
    """One emulated provider: its key, what it received, and what it is told to do."""

    name: str
    api_key: str
    requests: list[Recorded] = field(default_factory=list)
    submissions: int = 0  # POSTs to the submit endpoint, whatever their outcome
    created: int = 0  # jobs / generations actually made
    polls: int = 0
    faults: deque[Fault] = field(default_factory=deque)
    latency: float = 0.0
    pending_polls: int = 0
    deliver: int | None = None
    broken: int = 0
    job_error: str | None = None
    # novita: "url" | "data_uri" | "base64"; segmind: "auto" | "binary" | "json_images" |
    # "json_image"; apiframe: "url" (result is a URL string) | "images" ({"images": [...]});
    # modellix: "url".
    result_mode: str = "url"
    credits: float = 1000.0  # segmind x-remaining-credits
    received_images: list[bytes] = field(default_factory=list)  # decoded inline references
    received_urls: list[str] = field(default_factory=list)  # references sent as URLs
    tasks: dict[str, _Task] = field(default_factory=dict)
    idempotency: dict[str, str] = field(default_factory=dict)  # apiframe key -> job id

    def fail(self, kind: str, times: int = 1, *, on: str = "submit", **params: Any) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; known: {sorted(FAULT_KINDS)}")
        for _ in range(times):
            self.faults.append(Fault(kind, on, dict(params)))

    def take(self, on: str) -> Fault | None:
        for fault in self.faults:
            if fault.on == on:
                self.faults.remove(fault)
                return fault
        return None

    @property
    def submits(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST"]

    @property
    def last_json(self) -> Any:
        posts = self.submits
        return posts[-1].json if posts else None


def render_image(width: int, height: int, fmt: str, index: int = 0) -> bytes:
    """A small solid image (distinct colour per index) in `fmt` ("jpeg"/"png")."""
    r, g, b = colorsys.hsv_to_rgb((index * 0.13) % 1.0, 0.5, 0.9)
    img = Image.new("RGB", (max(1, width), max(1, height)), (int(r * 255), int(g * 255), int(b * 255)))
    buf = io.BytesIO()
    if fmt == "png":
        img.save(buf, format="PNG")
    else:
        img.save(buf, format="JPEG", quality=80)
    return buf.getvalue()


def _small(width: int, height: int, side: int) -> tuple[int, int]:
    scale = side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _size_of(size: str | None, default: tuple[int, int] = (2048, 2048)) -> tuple[int, int]:
    if not size:
        return default
    match = _SIZE_RE.match(size)
    if match:
        return int(match.group(1)), int(match.group(2))
    side = _TIER_SIDE.get(size, 2048)
    return side, side


def _ratio_size(ratio: str, tier: str) -> tuple[int, int]:
    side = _TIER_SIDE.get(tier, 2048)
    match = _RATIO_RE.match(ratio)
    if not match:
        return side, side
    w, h = int(match.group(1)), int(match.group(2))
    scale = (side * side / (w * h)) ** 0.5
    return round(w * scale), round(h * scale)


def _asked_count(prompt: str, max_images: int) -> int:
    """Sequential mode makes several images only when the prompt asks for them."""
    match = _ASKS_FOR.search(prompt)
    return max(1, min(max_images, int(match.group(1)))) if match else 1


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_wxh(size: Any, lo: int, hi: int) -> None:
    match = _SIZE_RE.match(size) if isinstance(size, str) else None
    if not match:
        raise _Invalid(f"size must be WIDTHxHEIGHT, got {size!r}")
    w, h = int(match.group(1)), int(match.group(2))
    if not lo <= w * h <= hi:
        raise _Invalid(f"size {size}: total pixels must be in [{lo}, {hi}]")
    if not 1 / 16 <= w / h <= 16:
        raise _Invalid(f"size {size}: aspect ratio must be in [1/16, 16]")


def _check_fields(body: Any, allowed: set[str], where: str = "body") -> dict[str, Any]:
    if not isinstance(body, dict):
        raise _Invalid(f"{where} must be a JSON object")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise _Invalid(f"unknown field(s) in {where}: {', '.join(unknown)}")
    return body


def _check_urls(value: Any, field_name: str) -> list[str]:
    if not isinstance(value, list) or not 1 <= len(value) <= 14:
        raise _Invalid(f"{field_name} must be an array of 1 to 14 items")
    for item in value:
        if not isinstance(item, str) or not item.startswith(("http://", "https://")):
            raise _Invalid(f"{field_name} items must be http(s) URLs")
    return list(value)


def _decode_reference(item: Any) -> bytes:
    """A base64 (optionally data URI) reference -> image bytes, or _Invalid."""
    if not isinstance(item, str) or not item:
        raise _Invalid("image items must be strings")
    payload = item
    if item.startswith("data:"):
        match = re.match(r"^data:image/([a-z]+);base64,(.*)$", item, re.DOTALL)
        if not match or match.group(1) not in REFERENCE_MIMES:
            raise _Invalid("image data URI must be data:image/<jpeg|png|webp|bmp|tiff|gif>;base64,...")
        payload = match.group(2)
    try:
        data = base64.b64decode(payload, validate=True)
        with Image.open(io.BytesIO(data)) as img:
            img.verify()
    except (binascii.Error, ValueError, OSError):
        raise _Invalid("image is neither a URL nor a valid base64 image") from None
    return data


class ProviderEmulator:
    def __init__(
        self,
        *,
        image_side: int = 48,
        host: str = "127.0.0.1",
        render: Callable[[int, int, str, int], bytes] | None = None,
    ) -> None:
        self.host = host
        self.image_side = image_side  # result images are this many pixels on their long side
        # Full-size results (benchmarks): render(width, height, fmt, index) -> the image bytes,
        # called with the size asked for instead of drawing a small `image_side` image.
        self.render = render
        self.novita = ProviderState("novita", "nv_test_" + secrets.token_hex(8))
        self.segmind = ProviderState("segmind", "sg_test_" + secrets.token_hex(8))
        self.apiframe = ProviderState("apiframe", "afk_test_" + secrets.token_hex(8))
        self.modellix = ProviderState("modellix", "mlx_test_" + secrets.token_hex(8))
        self.ark = ProviderState("ark", "ark_test_" + secrets.token_hex(8))
        self.fal = ProviderState("fal", "fal_test_" + secrets.token_hex(8))
        self.replicate = ProviderState("replicate", "r8_test_" + secrets.token_hex(8))
        self.files: dict[str, tuple[bytes, str]] = {}
        self.file_requests: list[str] = []
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._url = ""
        self.app = self._build_app()

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> str:
        self._runner = web.AppRunner(self.app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self._url = f"http://{self.host}:{port}"
        return self._url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> ProviderEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        return self._url

    def base_url(self, name: str) -> str:
        return f"{self._url}/{name}"

    def state(self, name: str) -> ProviderState:
        state = getattr(self, name)
        assert isinstance(state, ProviderState)
        return state

    def settings_kwargs(self, *names: str) -> dict[str, Any]:
        """Settings(...) keywords pointing the named providers (default: all) here."""
        out: dict[str, Any] = {}
        for name in names or PROVIDER_NAMES:
            out[f"{name}_api_key"] = self.state(name).api_key
            out[f"{name}_base_url"] = self.base_url(name)
        return out

    def env(self, name: str, **extra: str) -> dict[str, str]:
        """A bot process's environment pointing one provider here (e.g. "apiframe", a polling one)."""
        upper = name.upper()
        return {
            f"{upper}_API_KEY": self.state(name).api_key,
            f"{upper}_BASE_URL": self.base_url(name),
            **extra,
        }

    def host_file(self, data: bytes, content_type: str = "image/png") -> str:
        """Serve `data` at a URL of its own (e.g. a reference image's public URL)."""
        token = f"f{next(self._ids)}-{secrets.token_hex(4)}"
        self.files[token] = (data, content_type)
        return f"{self._url}/files/{token}"

    def _result(self, state: ProviderState, width: int, height: int, fmt: str, index: int) -> str:
        mime = "image/png" if fmt == "png" else "image/jpeg"
        if self.render is not None:
            return self.host_file(self.render(width, height, fmt, index), mime)
        w, h = _small(width, height, self.image_side)
        return self.host_file(render_image(w, h, fmt, index), mime)

    def _results(self, state: ProviderState, n: int, width: int, height: int, fmt: str) -> list[str]:
        made = n if state.deliver is None else max(0, min(n, state.deliver))
        urls = [self._result(state, width, height, fmt, i) for i in range(made)]
        for i in range(min(state.broken, len(urls))):
            urls[-1 - i] = f"{self._url}/files/missing-{secrets.token_hex(4)}"
        state.created += 1
        return urls

    def _file_bytes(self, url: str) -> bytes:
        token = url.rsplit("/", 1)[-1]
        return self.files[token][0]

    # -- app and shared plumbing --------------------------------------------------------

    def _build_app(self) -> web.Application:
        app = web.Application(client_max_size=256 * 1024 * 1024)
        app.router.add_get("/files/{token}", self._file)
        app.router.add_post("/novita/v3/{model}", self._novita_submit)
        app.router.add_route("*", f"/segmind/v1/{SEGMIND_SLUG}", self._segmind_submit)
        app.router.add_route("*", "/segmind/{tail:.*}", self._segmind_unknown)
        app.router.add_post("/apiframe/v2/images/generate", self._apiframe_submit)
        app.router.add_get("/apiframe/v2/jobs/{id}", self._apiframe_job)
        app.router.add_post("/modellix/api/v1/bytedance/{model}/async", self._modellix_submit)
        app.router.add_get("/modellix/api/v1/tasks/{id}", self._modellix_task)
        # The three further hosts live in modules of their own (they import this one).
        from tests.emulators.ark import ArkHost
        from tests.emulators.fal import FalHost
        from tests.emulators.replicate import ReplicateHost

        self.ark_host = ArkHost(self)
        self.fal_host = FalHost(self)
        self.replicate_host = ReplicateHost(self)
        for host in (self.ark_host, self.fal_host, self.replicate_host):
            host.add_routes(app)
        return app

    async def _file(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        self.file_requests.append(token)
        if token not in self.files:
            return web.Response(status=404, text="not found")
        data, content_type = self.files[token]
        return web.Response(body=data, content_type=content_type)

    async def _record(self, state: ProviderState, request: web.Request) -> Recorded:
        body = await request.read()
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        prefix = f"/{state.name}"
        path = request.path[len(prefix) :] if request.path.startswith(prefix) else request.path
        rec = Recorded(request.method, path, {k.lower(): v for k, v in request.headers.items()}, body, parsed)
        state.requests.append(rec)
        return rec

    async def _deliver(
        self,
        request: web.Request,
        fault: Fault | None,
        body: bytes,
        content_type: str,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> web.StreamResponse:
        kind = fault.kind if fault else None
        if kind == "delay":
            await asyncio.sleep(float(fault.params.get("seconds", 1.0)) if fault else 1.0)
        if kind == "malformed_json":
            return web.Response(status=200, body=b'{"images": ["http', content_type="application/json")
        if kind == "oversized_body":
            size = int(fault.params.get("size", 3 * 1024 * 1024)) if fault else 0
            resp = web.StreamResponse(status=200, headers={"Content-Type": content_type})
            resp.enable_chunked_encoding()
            await resp.prepare(request)
            chunk = b"A" * 65536
            sent = 0
            try:
                while sent < size:
                    await resp.write(chunk)
                    sent += len(chunk)
                await resp.write_eof()
            except (ConnectionResetError, RuntimeError):
                pass
            return resp
        if kind == "slow_body":
            seconds = float(fault.params.get("seconds", 5.0)) if fault else 5.0
            resp = web.StreamResponse(
                status=status, headers={"Content-Type": content_type, **(headers or {})}
            )
            resp.enable_chunked_encoding()
            await resp.prepare(request)
            pieces = 10
            step = max(1, len(body) // pieces + 1)
            try:
                for i in range(0, len(body), step):
                    await resp.write(body[i : i + step])
                    await asyncio.sleep(seconds / pieces)
                await resp.write_eof()
            except (ConnectionResetError, RuntimeError):
                pass
            return resp
        return web.Response(status=status, body=body, content_type=content_type, headers=headers)

    async def _json(
        self, request: web.Request, fault: Fault | None, payload: Any, status: int = 200, **headers: str
    ) -> web.StreamResponse:
        return await self._deliver(
            request, fault, json.dumps(payload).encode(), "application/json", status, headers or None
        )

    @staticmethod
    def _retry_after(fault: Fault) -> str:
        return str(fault.params.get("retry_after", 1))

    @staticmethod
    def _html(status: int, title: str) -> web.Response:
        page = f"<html><head><title>{status} {title}</title></head><body><h1>{title}</h1></body></html>"
        return web.Response(status=status, text=page, content_type="text/html")

    async def _before_submit(self, state: ProviderState, request: web.Request) -> Recorded:
        rec = await self._record(state, request)
        state.submissions += 1
        if state.latency:
            await asyncio.sleep(state.latency)
        return rec

    def _task(self, state: ProviderState, images: list[str], fmt: str, model: str) -> _Task:
        task = _Task(
            id=f"{state.name[:3]}-{next(self._ids)}-{secrets.token_hex(4)}",
            images=images,
            fmt=fmt,
            pending=state.pending_polls,
            error=state.job_error,
            model=model,
        )
        state.tasks[task.id] = task
        return task

    # -- Novita ---------------------------------------------------------------------------

    @staticmethod
    def _novita_error(status: int, reason: str, message: str, **headers: str) -> web.Response:
        payload = {"code": status, "reason": reason, "message": message, "metadata": {}}
        return web.json_response(payload, status=status, headers=headers or None)

    def _novita_fault(self, fault: Fault) -> web.Response | None:
        e = self._novita_error
        return {
            "rate_limited": lambda: e(
                429, "RATE_LIMIT_EXCEEDED", "rate limit exceeded", **{"Retry-After": self._retry_after(fault)}
            ),
            "server_error": lambda: e(500, "INTERNAL_SERVER_ERROR", "internal server error"),
            "unavailable": lambda: e(503, "SERVICE_NOT_AVAILABLE", "service not available"),
            "gateway_timeout": lambda: self._html(504, "Gateway Timeout"),
            "not_found": lambda: self._html(404, "Not Found"),
            "no_credits": lambda: e(403, "NOT_ENOUGH_BALANCE", "not enough balance"),
            "moderation": lambda: e(
                400,
                "InputTextSensitiveContentDetected",
                "The request failed because the input text may contain sensitive information.",
            ),
            "auth": lambda: e(401, "FAILED_TO_AUTH", "failed to authenticate"),
            "bad_request": lambda: e(400, "INVALID_REQUEST_BODY", "invalid request body"),
        }.get(fault.kind, lambda: None)()

    async def _novita_submit(self, request: web.Request) -> web.StreamResponse:
        st = self.novita
        rec = await self._before_submit(st, request)
        auth = rec.headers.get("authorization", "")
        if not auth.startswith("Bearer "):
            return self._novita_error(401, "FAILED_TO_AUTH", "missing Bearer authorization")
        if auth[len("Bearer ") :] != st.api_key:
            return self._novita_error(403, "INVALID_API_KEY", f"invalid api key {auth[7:]}")
        fault = st.take("submit")
        if fault and fault.kind not in _DELIVERY_FAULTS:
            return _with_headers(fault, self._novita_fault(fault) or web.Response(status=500))
        model = request.match_info["model"]
        if model not in NOVITA_MODELS:
            return self._novita_error(404, "NOT_FOUND", f"no model {model}")
        try:
            if not rec.headers.get("content-type", "").startswith("application/json"):
                raise _Invalid("Content-Type must be application/json")
            urls = self._novita_generate(st, model, rec.json)
        except _Invalid as exc:
            return self._novita_error(400, "INVALID_REQUEST_BODY", str(exc))
        if st.result_mode == "url":
            items = urls
        else:
            items = []
            for url in urls:
                try:
                    data = self._file_bytes(url)
                except KeyError:
                    items.append("bm90IGFuIGltYWdl")  # "not an image"
                    continue
                b64 = base64.b64encode(data).decode()
                items.append(f"data:image/jpeg;base64,{b64}" if st.result_mode == "data_uri" else b64)
        return await self._json(request, fault, {"images": items})

    def _novita_generate(self, st: ProviderState, model: str, body: Any) -> list[str]:
        allowed = {
            "size",
            "image",
            "prompt",
            "watermark",
            "optimize_prompt_options",
            "sequential_image_generation",
            "sequential_image_generation_options",
        }
        body = _check_fields(body, allowed)
        tiers, lo, hi = NOVITA_MODELS[model]
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise _Invalid("prompt is required")
        size = body.get("size", "2048x2048")
        if size not in tiers:
            _check_wxh(size, lo, hi)
        refs = 0
        if "image" in body:
            images = body["image"]
            if not isinstance(images, list) or not 1 <= len(images) <= 14:
                raise _Invalid("image must be an array of 1 to 14 items")
            refs = len(images)
            for item in images:
                if isinstance(item, str) and item.startswith(("http://", "https://")):
                    st.received_urls.append(item)
                else:
                    st.received_images.append(_decode_reference(item))
        if "watermark" in body and not isinstance(body["watermark"], bool):
            raise _Invalid("watermark must be a boolean")
        if "optimize_prompt_options" in body:
            opts = _check_fields(body["optimize_prompt_options"], {"mode"}, "optimize_prompt_options")
            if opts.get("mode", "standard") != "standard":
                raise _Invalid("optimize_prompt_options.mode must be 'standard'")
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
            raise _Invalid("reference images plus max_images must be at most 15")
        count = _asked_count(prompt, max_images) if mode == "auto" else 1
        width, height = _size_of(size if isinstance(size, str) else None)
        return self._results(st, count, width, height, "jpeg")

    # -- Segmind --------------------------------------------------------------------------

    @staticmethod
    def _segmind_error(status: int, message: str, **headers: str) -> web.Response:
        return web.json_response({"error": message}, status=status, headers=headers or None)

    def _segmind_fault(self, fault: Fault) -> web.Response | None:
        e = self._segmind_error
        if fault.kind == "rate_limited":
            reset = datetime.now(UTC) + timedelta(seconds=float(fault.params.get("retry_after", 1)))
            stamp = reset.isoformat().replace("+00:00", "Z")
            return e(429, "Rate limit exceeded", **{"x-rate-limit-reset-at-utc": stamp})
        return {
            "server_error": lambda: e(500, "Internal server error"),
            "unavailable": lambda: e(503, "Service unavailable"),
            "gateway_timeout": lambda: self._html(504, "Gateway Timeout"),
            "not_found": lambda: self._html(404, "Not Found"),
            "gone": lambda: e(410, "This model has been retired"),
            "no_credits": lambda: e(406, "Insufficient credits"),
            "bad_content_type": lambda: e(406, "Invalid content type"),
            "moderation": lambda: e(400, "Prompt flagged: NSFW or sensitive content is not allowed"),
            "auth": lambda: e(401, "Invalid API key"),
            "bad_request": lambda: e(400, "Invalid parameter"),
        }.get(fault.kind, lambda: None)()

    async def _segmind_unknown(self, request: web.Request) -> web.Response:
        await self._record(self.segmind, request)
        return self._html(404, "Not Found")

    async def _segmind_submit(self, request: web.Request) -> web.StreamResponse:
        st = self.segmind
        if request.method != "POST":
            await self._record(st, request)
            return self._html(405, "Method Not Allowed")
        rec = await self._before_submit(st, request)
        key = rec.headers.get("x-api-key")
        if key is None:
            return self._segmind_error(401, "Missing x-api-key header (Bearer tokens are not accepted)")
        if key != st.api_key:
            return self._segmind_error(401, f"Invalid API key: {key}")
        fault = st.take("submit")
        if fault and fault.kind not in _DELIVERY_FAULTS:
            return _with_headers(fault, self._segmind_fault(fault) or web.Response(status=500))
        if not rec.headers.get("content-type", "").startswith("application/json"):
            return self._segmind_error(406, "Invalid content type")
        try:
            count, width, height = self._segmind_check(rec.json)
        except _Invalid as exc:
            return self._segmind_error(400, str(exc))
        if st.job_error is not None:
            # The run failed upstream: a 200 whose JSON body carries the error.
            return await self._json(request, fault, {"error": st.job_error})
        urls = self._results(st, count, width, height, "jpeg")
        st.credits -= 0.05 * len(urls)
        headers = {"x-remaining-credits": f"{st.credits:g}"}
        blobs = [self.files[u.rsplit("/", 1)[-1]][0] for u in urls if u.rsplit("/", 1)[-1] in self.files]
        mode = st.result_mode if st.result_mode != "url" else "auto"
        if mode == "auto":
            mode = "binary" if count == 1 else "json_images"
        if not blobs:
            return self._segmind_error(500, "Generation produced no image")
        if mode == "binary":
            return await self._deliver(request, fault, blobs[0], "image/jpeg", headers=headers)
        if mode == "json_image":
            payload: Any = {"image": base64.b64encode(blobs[0]).decode()}
        else:
            payload = {"images": [base64.b64encode(b).decode() for b in blobs]}
        return await self._json(request, fault, payload, **headers)

    def _segmind_check(self, body: Any) -> tuple[int, int, int]:
        allowed = {"prompt", "aspect_ratio", "size", "max_images", "optimize_prompt", "watermark"}
        body = _check_fields(body, allowed)
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise _Invalid("prompt is required")
        ratio = body.get("aspect_ratio", "16:9")
        if ratio not in SEGMIND_RATIOS:
            raise _Invalid(f"aspect_ratio must be one of {sorted(SEGMIND_RATIOS)}")
        size = body.get("size", "2K")
        if size not in ("2K", "3K"):
            raise _Invalid("size must be 2K or 3K")
        count = body.get("max_images", 1)
        if not _is_int(count) or not 1 <= count <= 15:
            raise _Invalid("max_images must be an integer in [1, 15]")
        if body.get("optimize_prompt", "standard") not in ("standard", "fast"):
            raise _Invalid("optimize_prompt must be standard or fast")
        if "watermark" in body and not isinstance(body["watermark"], bool):
            raise _Invalid("watermark must be a boolean")
        width, height = _ratio_size(ratio, size)
        return count, width, height

    # -- Apiframe -------------------------------------------------------------------------

    @staticmethod
    def _apiframe_error(status: int, code: str, message: str, **headers: str) -> web.Response:
        payload = {"error": {"code": code, "message": message}}
        return web.json_response(payload, status=status, headers=headers or None)

    def _apiframe_fault(self, fault: Fault) -> web.Response | None:
        e = self._apiframe_error
        return {
            "rate_limited": lambda: e(
                429, "RATE_LIMITED", "Too many requests", **{"Retry-After": self._retry_after(fault)}
            ),
            "server_error": lambda: e(500, "INTERNAL_ERROR", "Internal server error"),
            "unavailable": lambda: e(503, "SERVICE_UNAVAILABLE", "Service unavailable"),
            "gateway_timeout": lambda: self._html(504, "Gateway Timeout"),
            "not_found": lambda: e(404, "NOT_FOUND", "Not found"),
            "no_credits": lambda: e(402, "INSUFFICIENT_CREDITS", "Insufficient credits"),
            "moderation": lambda: e(400, "CONTENT_POLICY", "Prompt rejected: content policy violation"),
            "auth": lambda: e(401, "UNAUTHORIZED", "Invalid API key"),
            "bad_request": lambda: e(400, "VALIDATION_ERROR", "Invalid request"),
        }.get(fault.kind, lambda: None)()

    def _apiframe_auth(self, rec: Recorded) -> web.Response | None:
        key = rec.headers.get("x-api-key")
        if key is None:
            return self._apiframe_error(401, "UNAUTHORIZED", "Missing X-API-Key header")
        if key != self.apiframe.api_key:
            return self._apiframe_error(401, "UNAUTHORIZED", f"Invalid API key {key}")
        return None

    async def _apiframe_submit(self, request: web.Request) -> web.StreamResponse:
        st = self.apiframe
        rec = await self._before_submit(st, request)
        if (denied := self._apiframe_auth(rec)) is not None:
            return denied
        fault = st.take("submit")
        if fault and fault.kind not in _DELIVERY_FAULTS:
            return _with_headers(fault, self._apiframe_fault(fault) or web.Response(status=500))
        idem = rec.headers.get("idempotency-key")
        if idem and idem in st.idempotency:
            job = st.tasks[st.idempotency[idem]]
            return await self._json(request, fault, {"jobId": job.id, "status": "QUEUED"}, 202)
        try:
            if not rec.headers.get("content-type", "").startswith("application/json"):
                raise _Invalid("Content-Type must be application/json")
            fmt, width, height = self._apiframe_check(st, rec.json)
        except _Invalid as exc:
            return self._apiframe_error(400, "VALIDATION_ERROR", str(exc))
        urls = self._results(st, 1, width, height, "png" if fmt == "png" else "jpeg")
        job = self._task(st, urls, fmt, "seedream-5-lite")
        if idem:
            st.idempotency[idem] = job.id
        return await self._json(request, fault, {"jobId": job.id, "status": "QUEUED"}, 202)

    def _apiframe_check(self, st: ProviderState, body: Any) -> tuple[str, int, int]:
        body = _check_fields(body, {"prompt", "model", "seedreamParams", "webhookUrl", "webhookEvents"})
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not 1 <= len(prompt) <= 2000:
            raise _Invalid("prompt must be 1 to 2000 characters")
        if body.get("model") != "seedream-5-lite":
            raise _Invalid(f"unknown model {body.get('model')!r}")
        params = _check_fields(
            body.get("seedreamParams", {}),
            {"aspect_ratio", "size", "image_input", "output_format"},
            "seedreamParams",
        )
        if "image_input" in params:
            st.received_urls.extend(_check_urls(params["image_input"], "seedreamParams.image_input"))
        ratio = params.get("aspect_ratio", "1:1")
        if ratio == "match_input_image":
            if "image_input" not in params:
                raise _Invalid("aspect_ratio match_input_image needs image_input")
            ratio = "1:1"
        elif not isinstance(ratio, str) or not _RATIO_RE.match(ratio) or "0" in ratio.split(":"):
            raise _Invalid("aspect_ratio must be 'W:H' or 'match_input_image'")
        size = params.get("size", "2K")
        if size not in ("2K", "3K"):
            raise _Invalid("seedreamParams.size must be 2K or 3K")
        fmt = params.get("output_format", "png")
        if fmt not in ("png", "jpg"):
            raise _Invalid("seedreamParams.output_format must be png or jpg")
        width, height = _ratio_size(ratio, size)
        return fmt, width, height

    async def _apiframe_job(self, request: web.Request) -> web.StreamResponse:
        st = self.apiframe
        rec = await self._record(st, request)
        st.polls += 1
        if (denied := self._apiframe_auth(rec)) is not None:
            return denied
        fault = st.take("poll")
        if fault and fault.kind not in _DELIVERY_FAULTS:
            return _with_headers(fault, self._apiframe_fault(fault) or web.Response(status=500))
        job = st.tasks.get(request.match_info["id"])
        if job is None:
            return self._apiframe_error(404, "NOT_FOUND", "Job not found")
        job.polls += 1
        payload: dict[str, Any] = {
            "id": job.id,
            "model": job.model,
            "result": None,
            "error": None,
            "creditCost": 4,
            "webhookStatus": None,
            "createdAt": "2026-01-01T00:00:00Z",
            "completedAt": None,
        }
        if job.polls <= job.pending:
            payload["status"] = "QUEUED" if job.polls == 1 else "PROCESSING"
            payload["progress"] = int(100 * (job.polls - 1) / job.pending)
        elif job.error is not None:
            payload.update(status="FAILED", progress=100, error=job.error, creditCost=0)
        else:
            result: Any = job.images[0] if st.result_mode == "url" else {"images": list(job.images)}
            payload.update(
                status="COMPLETED", progress=100, result=result, completedAt="2026-01-01T00:00:09Z"
            )
        return await self._json(request, fault, payload)

    # -- Modellix -------------------------------------------------------------------------

    @staticmethod
    def _modellix_error(status: int, message: str, **headers: str) -> web.Response:
        return web.json_response({"code": status, "message": message}, status=status, headers=headers or None)

    def _modellix_fault(self, fault: Fault) -> web.Response | None:
        e = self._modellix_error
        return {
            "rate_limited": lambda: e(
                429, "Rate Limit: too many requests", **{"Retry-After": self._retry_after(fault)}
            ),
            "server_error": lambda: e(500, "Internal Error: something went wrong"),
            "unavailable": lambda: e(503, "Service Unavailable: try again later"),
            "gateway_timeout": lambda: self._html(504, "Gateway Timeout"),
            "not_found": lambda: e(404, "Not Found: no such resource"),
            "no_credits": lambda: e(402, "Insufficient Balance: please top up"),
            "moderation": lambda: e(400, "Content Moderation: the prompt contains sensitive content"),
            "auth": lambda: e(401, "Unauthorized: invalid API key"),
            "bad_request": lambda: e(400, "Invalid Parameter: bad request"),
        }.get(fault.kind, lambda: None)()

    def _modellix_auth(self, rec: Recorded) -> web.Response | None:
        auth = rec.headers.get("authorization", "")
        if not auth.startswith("Bearer "):
            return self._modellix_error(401, "Unauthorized: missing Bearer token")
        if auth[7:] != self.modellix.api_key:
            return self._modellix_error(401, f"Unauthorized: invalid API key {auth[7:]}")
        return None

    async def _modellix_submit(self, request: web.Request) -> web.StreamResponse:
        st = self.modellix
        rec = await self._before_submit(st, request)
        if (denied := self._modellix_auth(rec)) is not None:
            return denied
        fault = st.take("submit")
        if fault and fault.kind not in _DELIVERY_FAULTS:
            return _with_headers(fault, self._modellix_fault(fault) or web.Response(status=500))
        model = request.match_info["model"]
        if model not in ("seedream-5.0-lite", "seedream-5.0-lite-edit"):
            return self._modellix_error(404, f"Not Found: no model {model}")
        try:
            if not rec.headers.get("content-type", "").startswith("application/json"):
                raise _Invalid("Content-Type must be application/json")
            count, fmt, width, height = self._modellix_check(st, rec.json, edit=model.endswith("-edit"))
        except _Invalid as exc:
            return self._modellix_error(400, f"Invalid Parameter: {exc}")
        urls = self._results(st, count, width, height, fmt)
        task = self._task(st, urls, fmt, model)
        data = {
            "status": "pending",
            "task_id": task.id,
            "model_id": f"model-{model}",
            "get_result": {"method": "GET", "url": f"{self.base_url('modellix')}/api/v1/tasks/{task.id}"},
        }
        return await self._json(request, fault, {"code": 0, "message": "success", "data": data})

    def _modellix_check(self, st: ProviderState, body: Any, *, edit: bool) -> tuple[int, str, int, int]:
        allowed = {
            "prompt",
            "size",
            "sequential_image_generation",
            "sequential_image_generation_max_images",
            "optimize_prompt_mode",
            "output_format",
        }
        body = _check_fields(body, allowed | ({"image"} if edit else set()))
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not 1 <= len(prompt) <= 600:
            raise _Invalid("prompt must be 1 to 600 characters")
        refs = 0
        if edit:
            if "image" not in body:
                raise _Invalid("image is required")
            urls = _check_urls(body["image"], "image")
            st.received_urls.extend(urls)
            refs = len(urls)
        size = body.get("size", "2048x2048")
        _check_wxh(size, *LITE_PIXELS)
        mode = body.get("sequential_image_generation", "disabled")
        if mode not in ("auto", "disabled"):
            raise _Invalid("sequential_image_generation must be auto or disabled")
        max_images = body.get("sequential_image_generation_max_images", 15)
        if not _is_int(max_images) or not 1 <= max_images <= 15:
            raise _Invalid("sequential_image_generation_max_images must be in [1, 15]")
        if mode == "auto" and refs + max_images > 15:
            raise _Invalid("reference images plus max images must be at most 15")
        if body.get("optimize_prompt_mode", "standard") != "standard":
            raise _Invalid("optimize_prompt_mode must be standard")
        fmt = body.get("output_format", "jpeg")
        if fmt not in ("jpeg", "png"):
            raise _Invalid("output_format must be jpeg or png")
        count = _asked_count(prompt, max_images) if mode == "auto" else 1
        width, height = _size_of(size)
        return count, fmt, width, height

    async def _modellix_task(self, request: web.Request) -> web.StreamResponse:
        st = self.modellix
        rec = await self._record(st, request)
        st.polls += 1
        if (denied := self._modellix_auth(rec)) is not None:
            return denied
        fault = st.take("poll")
        if fault and fault.kind not in _DELIVERY_FAULTS:
            return _with_headers(fault, self._modellix_fault(fault) or web.Response(status=500))
        task = st.tasks.get(request.match_info["id"])
        if task is None:
            return self._modellix_error(404, "Not Found: task not found")
        task.polls += 1
        data: dict[str, Any] = {"task_id": task.id, "model_id": f"model-{task.model}"}
        if task.polls <= task.pending:
            data["status"] = "pending"
        elif task.error is not None:
            data.update(status="failed", error=task.error)
        else:
            resources = []
            for url in task.images:
                token = url.rsplit("/", 1)[-1]
                w = h = 0
                if token in self.files:
                    with Image.open(io.BytesIO(self.files[token][0])) as img:
                        w, h = img.size
                resources.append(
                    {
                        "url": url,
                        "type": "image",
                        "width": w,
                        "height": h,
                        "format": task.fmt,
                        "role": "output",
                    }
                )
            data.update(
                status="success",
                result={
                    "resources": resources,
                    "metadata": {"image_count": len(resources), "request_id": f"req-{task.id}"},
                    "extensions": {"submit_time": 1767225600, "end_time": 1767225609},
                },
            )
        return await self._json(request, fault, {"code": 0, "message": "success", "data": data})

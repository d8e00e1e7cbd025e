"""Loopback emulator of Replicate's predictions API for bytedance/seedream-4.5 and
bytedance/seedream-5-lite (`{url}/replicate`), mounted on the ProviderEmulator app (state
`emu.replicate`, knobs on `emu.replicate_host`).

    POST /v1/models/bytedance/{seedream-4.5 | seedream-5-lite}/predictions     201 prediction
    GET  /v1/predictions/{id}                                                  prediction
    POST /v1/predictions/{id}/cancel                                           prediction
    GET  /v1/account                                                           the token's account

Strict where ../shared/docs/more-providers.md is: Bearer auth, {"input": {...}} with each model's
own input fields (no custom size or width/height on 5-lite, no output_format on 4.5), 1-14
references (URL or data URI), references + max_images <= 15. Errors as RFC 7807 problem JSON
{"title", "detail", "status"}. The "moderation" fault makes a prediction that fails with E005,
as Replicate's content filter does.

Knobs (ReplicateHost): prefer (the Prefer headers received), canceled (ids).
"""

from __future__ import annotations

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
    _ratio_size,
)

if TYPE_CHECKING:
    from tests.emulators.providers import ProviderEmulator

RATIOS = {"match_input_image", "1:1", "4:3", "3:4", "16:9", "9:16", "3:2", "2:3", "21:9"}
MODELS = {
    # name -> (input fields, sizes)
    "seedream-4.5": (
        {
            "prompt",
            "image_input",
            "size",
            "aspect_ratio",
            "width",
            "height",
            "sequential_image_generation",
            "max_images",
            "disable_safety_checker",
        },
        {"2K", "4K", "custom"},
    ),
    "seedream-5-lite": (
        {
            "prompt",
            "image_input",
            "size",
            "aspect_ratio",
            "sequential_image_generation",
            "max_images",
            "output_format",
        },
        {"2K", "3K"},
    ),
}
FLAGGED = "The input or output was flagged as sensitive. Please try again with different inputs. (E005)"


def problem(status: int, title: str, detail: str, **headers: str) -> web.Response:
    payload = {
        "type": "https://replicate.com/docs/reference/http",
        "title": title,
        "detail": detail,
        "status": status,
    }
    return web.json_response(
        payload, status=status, headers=headers or None, content_type="application/problem+json"
    )


class ReplicateHost:
    def __init__(self, emu: ProviderEmulator) -> None:
        self.emu = emu
        self.prefer: list[str] = []
        self.canceled: set[str] = set()
        self.inputs: dict[str, dict[str, Any]] = {}

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/replicate/v1/models/{owner}/{name}/predictions", self.create)
        app.router.add_get("/replicate/v1/predictions/{id}", self.get)
        app.router.add_post("/replicate/v1/predictions/{id}/cancel", self.cancel)
        app.router.add_get("/replicate/v1/account", self.account)

    def _fault(self, fault: Fault) -> web.Response | None:
        return {
            "rate_limited": lambda: problem(
                429,
                "Request was throttled.",
                "Request was throttled. Expected available in 1 second.",
                **{"Retry-After": str(fault.params.get("retry_after", 1))},
            ),
            "server_error": lambda: problem(500, "Internal server error", "Something went wrong."),
            "unavailable": lambda: problem(503, "Service unavailable", "Please try again later."),
            "gateway_timeout": lambda: self.emu._html(504, "Gateway Timeout"),
            "not_found": lambda: problem(404, "Not found", "The requested resource could not be found."),
            "no_credits": lambda: problem(
                402,
                "Insufficient credit",
                "You have insufficient credit to run this model. Go to https://replicate.com/account/billing "
                "to purchase credit.",
            ),
            "auth": lambda: problem(401, "Unauthenticated", "You did not pass a valid authentication token"),
            "bad_request": lambda: problem(422, "Input validation failed", "- input.size: Invalid value"),
        }.get(fault.kind, lambda: None)()

    def _auth(self, rec: Recorded) -> web.Response | None:
        auth = rec.headers.get("authorization", "")
        if not auth.startswith("Bearer "):
            return problem(401, "Unauthenticated", "You did not pass an authentication token")
        if auth[7:] != self.emu.replicate.api_key:
            return problem(401, "Invalid token", f"The token {auth[7:]} is not valid")
        return None

    def _prediction(self, task_id: str, *, created: bool = False) -> dict[str, Any]:
        st = self.emu.replicate
        task = st.tasks[task_id]
        root = f"{self.emu.base_url('replicate')}/v1/predictions/{task.id}"
        out: dict[str, Any] = {
            "id": task.id,
            "model": f"bytedance/{task.model}",
            "version": "hidden",
            "input": self.inputs.get(task.id, {}),
            "logs": "",
            "output": None,
            "error": None,
            "status": "starting",
            "created_at": "2026-01-01T00:00:00.000Z",
            "started_at": None,
            "completed_at": None,
            "urls": {"get": root, "cancel": f"{root}/cancel", "web": f"https://replicate.com/p/{task.id}"},
            "metrics": {},
        }
        if created:
            return out
        if task.id in self.canceled:
            out.update(status="canceled", completed_at="2026-01-01T00:00:05.000Z")
        elif task.polls <= task.pending:
            out.update(status="starting" if task.polls <= 1 else "processing")
        elif task.error is not None:
            out.update(status="failed", error=task.error, completed_at="2026-01-01T00:00:09.000Z")
        else:
            out.update(
                status="succeeded",
                output=list(task.images),
                started_at="2026-01-01T00:00:01.000Z",
                completed_at="2026-01-01T00:00:09.000Z",
                metrics={"predict_time": 8.1, "image_count": len(task.images)},
            )
        return out

    async def create(self, request: web.Request) -> web.StreamResponse:
        st = self.emu.replicate
        rec = await self.emu._before_submit(st, request)
        if "prefer" in rec.headers:
            self.prefer.append(rec.headers["prefer"])
        if (denied := self._auth(rec)) is not None:
            return denied
        fault = st.take("submit")
        moderated = fault is not None and fault.kind == "moderation"
        if fault and fault.kind not in _DELIVERY_FAULTS and not moderated:
            return self._fault(fault) or web.Response(status=500)
        owner, name = request.match_info["owner"], request.match_info["name"]
        if owner != "bytedance" or name not in MODELS:
            return problem(404, "Not found", f"Model {owner}/{name} not found")
        try:
            if not rec.headers.get("content-type", "").startswith("application/json"):
                raise _Invalid("Content-Type must be application/json")
            count, fmt, width, height = self._check(name, rec.json)
        except _Invalid as exc:
            return problem(422, "Input validation failed", f"- {exc}")
        urls = self.emu._results(st, count, width, height, fmt)
        task = self.emu._task(st, urls, fmt, name)
        if moderated:
            task.error = FLAGGED
        self.inputs[task.id] = rec.json["input"]
        return await self.emu._json(
            request, None if moderated else fault, self._prediction(task.id, created=True), 201
        )

    def _check(self, name: str, body: Any) -> tuple[int, str, int, int]:
        body = _check_fields(body, {"input", "webhook", "webhook_events_filter"})
        fields, sizes = MODELS[name]
        data = _check_fields(body.get("input"), fields, "input")
        prompt = data.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise _Invalid("input.prompt: prompt is required")
        if len(prompt) > 4000:
            raise _Invalid("input.prompt: at most 4000 characters")
        refs = 0
        if "image_input" in data:
            images = data["image_input"]
            if not isinstance(images, list) or len(images) > 14:
                raise _Invalid("input.image_input: a list of up to 14 images")
            refs = len(images)
            for item in images:
                if isinstance(item, str) and item.startswith(("http://", "https://")):
                    self.emu.replicate.received_urls.append(item)
                else:
                    self.emu.replicate.received_images.append(_decode_reference(item))
        size = data.get("size", "2K")
        if size not in sizes:
            raise _Invalid(f"input.size: must be one of {sorted(sizes)}")
        ratio = data.get("aspect_ratio", "match_input_image")
        if ratio not in RATIOS:
            raise _Invalid(f"input.aspect_ratio: must be one of {sorted(RATIOS)}")
        if size == "custom":
            width, height = data.get("width", 2048), data.get("height", 2048)
            if not (_is_int(width) and _is_int(height)) or not (
                1024 <= width <= 4096 and 1024 <= height <= 4096
            ):
                raise _Invalid("input.width/height: integers in [1024, 4096]")
        else:
            if "width" in data or "height" in data:
                raise _Invalid("input.width/height: only with size custom")
            width, height = _ratio_size("1:1" if ratio == "match_input_image" else ratio, size)
        mode = data.get("sequential_image_generation", "disabled")
        if mode not in ("auto", "disabled"):
            raise _Invalid("input.sequential_image_generation: auto or disabled")
        max_images = data.get("max_images", 1)
        if not _is_int(max_images) or not 1 <= max_images <= 15:
            raise _Invalid("input.max_images: an integer in [1, 15]")
        if mode == "auto" and refs + max_images > 15:
            raise _Invalid("input.max_images: input images plus max_images must be at most 15")
        fmt = data.get("output_format", "png" if name == "seedream-5-lite" else "jpeg")
        if fmt not in ("png", "jpeg"):
            raise _Invalid("input.output_format: png or jpeg")
        if "disable_safety_checker" in data and not isinstance(data["disable_safety_checker"], bool):
            raise _Invalid("input.disable_safety_checker: a boolean")
        count = _asked_count(prompt, max_images) if mode == "auto" else 1
        return count, fmt, width, height

    async def _poll(self, request: web.Request) -> tuple[web.Response | None, Fault | None]:
        st = self.emu.replicate
        rec = await self.emu._record(st, request)
        if (denied := self._auth(rec)) is not None:
            return denied, None
        fault = st.take("poll")
        if fault and fault.kind not in _DELIVERY_FAULTS:
            return self._fault(fault) or web.Response(status=500), None
        if request.match_info.get("id") not in st.tasks:
            return problem(404, "Not found", "The requested resource could not be found."), None
        return None, fault

    async def get(self, request: web.Request) -> web.StreamResponse:
        self.emu.replicate.polls += 1
        answer, fault = await self._poll(request)
        if answer is not None:
            return answer
        task = self.emu.replicate.tasks[request.match_info["id"]]
        task.polls += 1
        return await self.emu._json(request, fault, self._prediction(task.id))

    async def cancel(self, request: web.Request) -> web.StreamResponse:
        answer, _ = await self._poll(request)
        if answer is not None:
            return answer
        task = self.emu.replicate.tasks[request.match_info["id"]]
        if task.polls <= task.pending:
            self.canceled.add(task.id)
        # Replicate answers the prediction as it now is (a finished one stays finished).
        return web.json_response(self._prediction(task.id))

    async def account(self, request: web.Request) -> web.Response:
        rec = await self.emu._record(self.emu.replicate, request)
        if (denied := self._auth(rec)) is not None:
            return denied
        return web.json_response(
            {"type": "user", "username": "seedbot-test", "name": "Seedbot Test", "github_url": None}
        )

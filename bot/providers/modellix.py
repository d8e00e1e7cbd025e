"""Modellix (api.modellix.ai): Seedream 5.0 lite and 5.0 lite edit, asynchronous tasks.

Contract (seed 004, docs/providers.md "Modellix"):

    POST /api/v1/bytedance/seedream-5.0-lite-edit/async   (with references)
    POST /api/v1/bytedance/seedream-5.0-lite/async        (text-to-image)
    Authorization: Bearer <key>
    {"prompt" (1-600 chars), "image": [URL] (1-14, edit only), "size": "WxH",
     "sequential_image_generation": "disabled" | "auto",
     "sequential_image_generation_max_images": 1-15, "optimize_prompt_mode": "standard",
     "output_format": "jpeg" | "png"}
    -> {"code": 0, "message": "success",
        "data": {"status": "pending", "task_id", "model_id", "get_result": {"method", "url"}}}
    GET /api/v1/tasks/{task_id}
    -> {"code": 0, "data": {"status": pending|success|failed,
                            "result": {"resources": [{"url", "type", "width", "height", ...}],
                                       "metadata": {"image_count", "request_id"}}}}
    errors: {"code": <HTTP status>, "message": "<Category>: <detail>"}

Decisions where the documents are silent:

- References go as public URLs (the documented examples are URLs; capabilities say so).
- `size` is always the resolved "WxH" (custom 2K/3K sizes are accepted).
- Batches: sequential "auto" with max_images = count, and "Generate a set of N images."
  appended to the prompt when it still fits in 600 characters (max_images is an upper bound
  only). Short batches are delivered as partial.
- A failed task's reason is read from data.error / data.message / the top-level message.
- A failed task fails over (not retried here: a retry would be a second paid submission);
  content-policy failures end the request.
- Transient errors while polling are ridden out, so a flaky status call never resubmits.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from bot.errors import ProviderError, ProviderErrorKind
from bot.providers._common import (
    PollErrors,
    batch_prompt,
    body_message,
    error_text,
    images_from_strings,
    json_body,
    looks_moderated,
)
from bot.providers.base import Capabilities, Provider, ProviderCall, ProviderOutput

__all__ = ["ModellixProvider"]

log = logging.getLogger(__name__)

SUBMIT_TIMEOUT = 60.0  # seconds for a submit answer (the work happens later, while polling)

EDIT_PATH = "/api/v1/bytedance/seedream-5.0-lite-edit/async"
TEXT_PATH = "/api/v1/bytedance/seedream-5.0-lite/async"
TASK_PATH = "/api/v1/tasks/{}"
PROMPT_MAX = 600

CODES: dict[int, ProviderErrorKind] = {
    400: ProviderErrorKind.BAD_REQUEST,
    401: ProviderErrorKind.AUTH,
    402: ProviderErrorKind.NO_CREDITS,
    403: ProviderErrorKind.AUTH,
    404: ProviderErrorKind.UNAVAILABLE,
    422: ProviderErrorKind.BAD_REQUEST,
    429: ProviderErrorKind.RATE_LIMITED,
}


class ModellixProvider(Provider):
    name = "modellix"
    capabilities = Capabilities(
        models=frozenset({"5.0-lite"}),
        edit=True,
        max_references=14,
        max_outputs=15,
        explicit_size=True,
        tier_size=True,
        output_formats=frozenset({"jpeg", "png"}),
        watermark=False,  # no such field in its body
        references_need_urls=True,
        max_prompt_chars=PROMPT_MAX,
        resumable=True,
    )

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key()}", "Accept": "application/json"}

    def build_body(self, call: ProviderCall) -> dict[str, Any]:
        req = call.request
        body: dict[str, Any] = {"prompt": batch_prompt(req.prompt, req.count, PROMPT_MAX)}
        if req.images:
            body["image"] = [img.url for img in req.images]
        body["size"] = req.size
        if req.count > 1:
            body["sequential_image_generation"] = "auto"
            body["sequential_image_generation_max_images"] = req.count
        else:
            body["sequential_image_generation"] = "disabled"
        body["optimize_prompt_mode"] = req.request.optimize
        body["output_format"] = req.request.output_format
        return body

    async def generate(self, call: ProviderCall) -> ProviderOutput:
        self.check_capable(call)
        path = EDIT_PATH if call.request.images else TEXT_PATH
        response = await self.send(
            "POST",
            path,
            json=self.build_body(call),
            headers=self._headers(),
            total_timeout=min(SUBMIT_TIMEOUT, call.deadline),
            starts_work=True,  # a lost answer may hide a task already running: not submitted twice
        )
        body = json_body(response)
        if response.status_code == 200 and not isinstance(body, dict):
            raise self.unreadable_success(response, "unreadable submit answer")
        if response.status_code != 200 or not isinstance(body, dict) or body.get("code") != 0:
            raise self._error(response, body)
        data = body.get("data")
        task_id = data.get("task_id") if isinstance(data, dict) else None
        if not isinstance(task_id, str) or not task_id:
            raise self.unreadable_success(response, "submit answer without a task_id")
        await call.on_task_id(task_id)
        return await self._wait(task_id, call)

    async def resume(self, task_id: str, call: ProviderCall) -> ProviderOutput:
        return await self._wait(task_id, call)

    async def _wait(self, task_id: str, call: ProviderCall) -> ProviderOutput:
        headers = self._headers()
        errors = PollErrors()

        async def check() -> ProviderOutput | None:
            try:
                response = await self.send(
                    "GET", TASK_PATH.format(task_id), headers=headers, total_timeout=30.0
                )
                body = json_body(response)
                if response.status_code != 200 or not isinstance(body, dict) or body.get("code") != 0:
                    raise self._error(response, body)
                data = body.get("data")
                if not isinstance(data, dict):
                    raise self.error(ProviderErrorKind.UNAVAILABLE, response, "task answer without data")
            except ProviderError as exc:
                errors.absorb(exc)
                return None
            errors.ok()
            status = str(data.get("status") or "").lower()
            if status == "success":
                return await self._finish(task_id, data, call, response)
            if status == "failed":
                raise self._task_error(body, data, response)
            return None

        return await self.poll_until(call, check, task_id=task_id)

    async def _finish(
        self, task_id: str, data: dict[str, Any], call: ProviderCall, response: httpx.Response
    ) -> ProviderOutput:
        raw = data.get("result")
        result: dict[str, Any] = raw if isinstance(raw, dict) else {}
        resources = result.get("resources")
        urls: list[str] = []
        if isinstance(resources, list):
            for item in resources:
                if isinstance(item, dict) and item.get("type", "image") == "image":
                    url = item.get("url")
                    if isinstance(url, str) and url:
                        urls.append(url)
        if not urls:
            raise self.error(
                ProviderErrorKind.UNAVAILABLE, response, "task succeeded without images", retryable=False
            )
        images, _ = await images_from_strings(self, urls)
        if not images:
            raise self.error(
                ProviderErrorKind.UNAVAILABLE,
                response,
                "result images could not be fetched",
                retryable=False,
                failover=False,
            )
        usage: dict[str, Any] = {"task_id": task_id}
        metadata = result.get("metadata")
        request_id = None
        if isinstance(metadata, dict):
            if metadata.get("image_count") is not None:
                usage["image_count"] = metadata["image_count"]
            if isinstance(metadata.get("request_id"), str):
                request_id = metadata["request_id"]
                usage["request_id"] = request_id
        count = call.request.count
        return ProviderOutput(
            images=images[:count], failed=max(0, count - len(images)), usage=usage, request_id=request_id
        )

    def _task_error(
        self, body: dict[str, Any], data: dict[str, Any], response: httpx.Response
    ) -> ProviderError:
        reason = (
            error_text(data.get("error"))
            or error_text(data.get("message"))
            or error_text(data.get("reason"))
            or error_text(body.get("message"))
            or "failed"
        )
        detail = f"task failed: {reason}"
        if looks_moderated(reason):
            return self.error(ProviderErrorKind.MODERATION, response, detail)
        return self.error(ProviderErrorKind.UNAVAILABLE, response, detail, retryable=False, failover=True)

    def _error(self, response: httpx.Response, body: Any) -> ProviderError:
        status = response.status_code
        code = body.get("code") if isinstance(body, dict) else None
        if isinstance(body, dict):
            message = str(body.get("message") or "")[:300]
        else:
            message = body_message(response, body)
        # The body's code is the HTTP status; on a 200 with a non-zero code it is the only one.
        effective = code if isinstance(code, int) and code >= 400 else status
        if effective == 200:
            return self.error(ProviderErrorKind.UNAVAILABLE, response, message or "unreadable answer")
        if looks_moderated(message):
            return self.error(ProviderErrorKind.MODERATION, response, message)
        kind = CODES.get(effective)
        if kind is None:
            kind = ProviderErrorKind.UNAVAILABLE if effective >= 500 else ProviderErrorKind.BAD_REQUEST
        if effective == 404:
            return self.error(kind, response, message, retryable=False)
        return self.error(kind, response, message)

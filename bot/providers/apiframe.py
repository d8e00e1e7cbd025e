"""Apiframe (api.apiframe.ai): Seedream 5 lite, asynchronous jobs.

Contract (seed 003, docs/providers.md "Apiframe"):

    POST /v2/images/generate
    X-API-Key: <key>, Idempotency-Key: <our job id>
    {"prompt", "model": "seedream-5-lite",
     "seedreamParams": {"aspect_ratio": "W:H" | "match_input_image", "size": "2K" | "3K",
                        "image_input": [URL, ...], "output_format": "png" | "jpg"}}
    -> 202 {"jobId", "status": "QUEUED"}
    GET /v2/jobs/{jobId}
    -> {"id", "status": QUEUED|PROCESSING|COMPLETED|FAILED|CANCELLED, "progress": 0-100,
        "result": URL | {"images": [URL | {"url"}]}, "error": "<text>", "creditCost", ...}

Decisions where the documents are silent:

- One image per job: the body has no count, so capabilities.max_outputs is 1 (batches route
  to providers that take a count).
- Tier sizes only (no width/height in the body); any W:H ratio is passed through. An edit
  with no aspect ratio of the user's own asks for "match_input_image".
- References must be public URLs (`image_input` takes URLs only).
- The 4xx error body has no documented schema: the text is read from "error"/"message"
  (string or {code, message}) and the kind from the status, then from the words.
- A FAILED job is not retried on Apiframe: the same Idempotency-Key would only return the
  same failed job. Content-policy failures end the request; others fail over.
- Transient errors while polling (429, 5xx, timeouts) are ridden out rather than raised, so
  a flaky status call never makes the router submit the job a second time.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import httpx

from bot.errors import ProviderError, ProviderErrorKind
from bot.providers._common import (
    PollErrors,
    body_message,
    error_text,
    images_from_strings,
    json_body,
    looks_moderated,
)
from bot.providers.base import Capabilities, Provider, ProviderCall, ProviderOutput

__all__ = ["ApiframeProvider"]

log = logging.getLogger(__name__)

SUBMIT_TIMEOUT = 60.0  # seconds for a submit answer (the work happens later, while polling)

SUBMIT_PATH = "/v2/images/generate"
JOB_PATH = "/v2/jobs/{}"
MODEL = "seedream-5-lite"
FORMATS = {"jpeg": "jpg", "png": "png"}
_NO_CREDITS = re.compile(r"insufficient|not enough credit|out of credit|balance|quota", re.IGNORECASE)


class ApiframeProvider(Provider):
    name = "apiframe"
    capabilities = Capabilities(
        models=frozenset({"5.0-lite"}),
        edit=True,
        max_references=14,
        max_outputs=1,
        explicit_size=False,
        tier_size=True,
        aspect_ratios=None,
        output_formats=frozenset(FORMATS),
        watermark=False,  # no such field in its body
        references_need_urls=True,
        max_prompt_chars=2000,
        resumable=True,
    )

    def _headers(self) -> dict[str, str]:
        return {"X-API-Key": self.api_key(), "Accept": "application/json"}

    def build_body(self, call: ProviderCall) -> dict[str, Any]:
        req = call.request
        own_aspect = req.request.aspect is not None
        params: dict[str, Any] = {
            "aspect_ratio": "match_input_image" if req.images and not own_aspect else req.aspect_text,
            "size": req.tier,
            "output_format": FORMATS[req.request.output_format],
        }
        if req.images:
            params["image_input"] = [img.url for img in req.images]
        return {"prompt": req.prompt, "model": MODEL, "seedreamParams": params}

    async def generate(self, call: ProviderCall) -> ProviderOutput:
        self.check_capable(call)
        headers = {**self._headers(), "Idempotency-Key": call.job_id}
        response = await self.send(
            "POST",
            SUBMIT_PATH,
            json=self.build_body(call),
            headers=headers,
            total_timeout=min(SUBMIT_TIMEOUT, call.deadline),
        )
        body = json_body(response)
        if response.status_code not in (200, 201, 202):
            raise self._error(response, body)
        job_id = (body.get("jobId") or body.get("id")) if isinstance(body, dict) else None
        if not isinstance(job_id, str) or not job_id:
            raise self.error(ProviderErrorKind.UNAVAILABLE, response, "submit answer without a jobId")
        await call.on_task_id(job_id)
        return await self._wait(job_id, call)

    async def resume(self, task_id: str, call: ProviderCall) -> ProviderOutput:
        return await self._wait(task_id, call)

    async def _wait(self, job_id: str, call: ProviderCall) -> ProviderOutput:
        headers = self._headers()
        errors = PollErrors()
        last_progress: float | None = None

        async def check() -> ProviderOutput | None:
            nonlocal last_progress
            try:
                response = await self.send(
                    "GET", JOB_PATH.format(job_id), headers=headers, total_timeout=30.0
                )
                body = json_body(response)
                if response.status_code != 200:
                    raise self._error(response, body)
                if not isinstance(body, dict):
                    raise self.error(ProviderErrorKind.UNAVAILABLE, response, "unreadable job status")
            except ProviderError as exc:
                errors.absorb(exc)
                return None
            errors.ok()
            progress = body.get("progress")
            if isinstance(progress, int | float) and progress != last_progress:
                last_progress = float(progress)
                await call.on_progress(max(0.0, min(100.0, last_progress)))
            status = str(body.get("status") or "").upper()
            if status == "COMPLETED":
                return await self._finish(job_id, body, call, response)
            if status in ("FAILED", "CANCELLED", "CANCELED"):
                raise self._job_error(status, body, response)
            return None

        return await self.poll_until(call, check, task_id=job_id)

    async def _finish(
        self, job_id: str, body: dict[str, Any], call: ProviderCall, response: httpx.Response
    ) -> ProviderOutput:
        items = _result_urls(body.get("result"))
        if not items:
            raise self.error(
                ProviderErrorKind.UNAVAILABLE, response, "job completed without a result", retryable=False
            )
        images, _ = await images_from_strings(self, items)
        if not images:
            raise self.error(
                ProviderErrorKind.UNAVAILABLE,
                response,
                "result image could not be fetched",
                retryable=False,
                failover=False,
            )
        usage: dict[str, Any] = {"job_id": job_id}
        if body.get("creditCost") is not None:
            usage["credits"] = body["creditCost"]
        count = call.request.count
        return ProviderOutput(
            images=images[:count], failed=max(0, count - len(images)), usage=usage, request_id=job_id
        )

    def _job_error(self, status: str, body: dict[str, Any], response: httpx.Response) -> ProviderError:
        message = error_text(body.get("error"), status.lower())
        detail = f"job {status.lower()}: {message}"
        if looks_moderated(message):
            return self.error(ProviderErrorKind.MODERATION, response, detail)
        if _NO_CREDITS.search(message):
            return self.error(ProviderErrorKind.NO_CREDITS, response, detail)
        return self.error(ProviderErrorKind.UNAVAILABLE, response, detail, retryable=False, failover=True)

    def _error(self, response: httpx.Response, body: Any) -> ProviderError:
        status = response.status_code
        message = body_message(response, body)
        if looks_moderated(message):
            return self.error(ProviderErrorKind.MODERATION, response, message)
        if status in (401, 403):
            return self.error(ProviderErrorKind.AUTH, response, message)
        if status == 402 or (status < 500 and status != 429 and _NO_CREDITS.search(message)):
            return self.error(ProviderErrorKind.NO_CREDITS, response, message)
        if status == 429:
            return self.error(ProviderErrorKind.RATE_LIMITED, response, message)
        if status in (404, 405, 409, 410):
            return self.error(ProviderErrorKind.UNAVAILABLE, response, message, retryable=False)
        if 400 <= status < 500:
            return self.error(ProviderErrorKind.BAD_REQUEST, response, message)
        return self.error(ProviderErrorKind.UNAVAILABLE, response, message)


def _result_urls(result: Any) -> list[str]:
    """The result as a list of strings: a bare URL, {"images": [...]}, or a list."""
    if isinstance(result, str):
        return [result] if result else []
    if isinstance(result, dict):
        for key in ("images", "urls", "image_urls"):
            if key in result:
                return _result_urls(result[key])
        for key in ("url", "image", "image_url"):
            if isinstance(result.get(key), str):
                return [result[key]]
        return []
    if isinstance(result, list):
        out: list[str] = []
        for item in result:
            out.extend(_result_urls(item))
        return out
    return []

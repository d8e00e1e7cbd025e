"""Replicate (api.replicate.com): bytedance/seedream-5-lite and bytedance/seedream-4.5,
predictions polled to the end.

Contract (../shared/docs/more-providers.md "Replicate"; official client replicate/replicate-python
replicate/prediction.py, model.py, account.py, exceptions.py; the models' API pages):

    POST /v1/models/bytedance/{seedream-5-lite | seedream-4.5}/predictions
    Authorization: Bearer <REPLICATE_API_TOKEN>
    {"input": {"prompt", "image_input": [URL | data URI] (1-14), "size": "2K" | "3K" (5-lite)
               | "2K" | "4K" | "custom" (4.5), "aspect_ratio": "match_input_image" | "1:1" | "4:3"
               | "3:4" | "16:9" | "9:16" | "3:2" | "2:3" | "21:9",
               "sequential_image_generation": "disabled" | "auto", "max_images": 1-15,
               "output_format": "png" | "jpeg" (5-lite only)}}
    -> 201 prediction
    GET  /v1/predictions/{id}          -> prediction
    POST /v1/predictions/{id}/cancel   -> prediction
    GET  /v1/account                   -> {"type", "username", "name"}  (the free key check)
    prediction: {"id", "model", "status": starting|processing|succeeded|failed|canceled,
                 "output": [URL], "error": str | null, "urls": {"get", "cancel"}, "metrics"}
    errors: RFC 7807 {"title", "detail", "status"} (401, 402, 404, 422, 429 + Retry-After)

Decisions where the documents are silent:

- No `Prefer: wait` on create: it would hold the answer, and with it the prediction id, for up
  to 60 s, so a restart in that window would lose a paid prediction. The id is stored at once
  and the prediction polled (which is what `Prefer: wait` needs anyway when the wait runs out).
- Tier sizes with Replicate's fixed aspect ratios only: 5-lite has no custom size, and keeping
  one size form for both models keeps routing simple (explicit WxH requests go elsewhere).
  An edit with no aspect ratio of the user's own asks for "match_input_image".
- Batches: sequential "auto" with max_images = count and "Generate a set of N images."
  appended to the prompt (max_images is an upper bound only); short batches are partial.
- References: public URLs as they are, others inline as data URIs.
- 4.5 takes no output_format: it answers JPEG, the only format Seedream 4.5 has.
- A failed prediction is not retried here (a retry would be a second paid prediction);
  content-policy failures (E005, "flagged as sensitive") end the request, others fail over.
- Transient errors while polling are ridden out, so a flaky status call never resubmits.
"""

from __future__ import annotations

import logging
import re
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
from bot.providers.base import Capabilities, KeyCheck, Provider, ProviderCall, ProviderOutput

__all__ = ["ReplicateProvider"]

log = logging.getLogger(__name__)

SUBMIT_TIMEOUT = 60.0  # seconds for a create answer (the work happens later, while polling)

MODELS = {"5.0-lite": "bytedance/seedream-5-lite", "4.5": "bytedance/seedream-4.5"}
CREATE_PATH = "/v1/models/{}/predictions"
PREDICTION_PATH = "/v1/predictions/{}"
CANCEL_PATH = "/v1/predictions/{}/cancel"
ACCOUNT_PATH = "/v1/account"
# Replicate's ratio names. Validation reduces ratios (21:9 becomes 7:3), so capabilities list
# the reduced forms and the body uses Replicate's label.
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
_NO_CREDITS = re.compile(r"insufficient|credit|billing|payment", re.IGNORECASE)
# E005: "The input or output was flagged as sensitive."
_FLAGGED = re.compile(r"\bE005\b|flagged", re.IGNORECASE)


class ReplicateProvider(Provider):
    name = "replicate"
    capabilities = Capabilities(
        models=frozenset(MODELS),
        edit=True,
        max_references=14,
        max_outputs=15,
        explicit_size=False,
        tier_size=True,
        aspect_ratios=frozenset(ASPECT_LABELS),
        matches_input_shape=True,
        output_formats=frozenset({"jpeg", "png"}),
        watermark=False,  # no such field in its body
        references_need_urls=False,
        max_prompt_chars=2000,
        resumable=True,
    )

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key()}", "Accept": "application/json"}

    def build_body(self, call: ProviderCall) -> dict[str, Any]:
        req = call.request
        own_aspect = req.request.aspect is not None
        data: dict[str, Any] = {"prompt": batch_prompt(req.prompt, req.count)}
        if req.images:
            data["image_input"] = [self.reference(img) for img in req.images]
        data["size"] = req.tier
        if req.images and not own_aspect:
            data["aspect_ratio"] = "match_input_image"
        else:
            data["aspect_ratio"] = ASPECT_LABELS.get(req.aspect_text, req.aspect_text)
        if req.count > 1:
            data["sequential_image_generation"] = "auto"
            data["max_images"] = req.count
        else:
            data["sequential_image_generation"] = "disabled"
        if req.spec.key == "5.0-lite":
            data["output_format"] = req.request.output_format
        return {"input": data}

    async def generate(self, call: ProviderCall) -> ProviderOutput:
        self.check_capable(call)
        response = await self.send(
            "POST",
            CREATE_PATH.format(MODELS[call.request.spec.key]),
            json=self.build_body(call),
            headers={**self._headers(), "Content-Type": "application/json"},
            total_timeout=min(SUBMIT_TIMEOUT, call.deadline),
            starts_work=True,  # a lost answer may hide a task already running: not submitted twice
        )
        body = json_body(response)
        if response.status_code in (200, 201, 202) and not isinstance(body, dict):
            raise self.unreadable_success(response, "unreadable create answer")
        if response.status_code not in (200, 201, 202) or not isinstance(body, dict):
            raise self._error(response, body)
        prediction_id = body.get("id")
        if not isinstance(prediction_id, str) or not prediction_id:
            raise self.unreadable_success(response, "create answer without an id")
        await call.on_task_id(prediction_id)
        # The create answer is a prediction too: it may already be over.
        done = await self._settle(prediction_id, body, call, response)
        if done is not None:
            return done
        return await self._wait(prediction_id, call)

    async def resume(self, task_id: str, call: ProviderCall) -> ProviderOutput:
        return await self._wait(task_id, call)

    async def cancel(self, task_id: str) -> bool:
        try:
            response = await self.send(
                "POST", CANCEL_PATH.format(task_id), headers=self._headers(), total_timeout=30.0
            )
        except ProviderError as exc:
            log.warning("%s: cancel of %s failed: %s", self.name, task_id, exc.kind)
            return False
        if response.status_code == 200:
            return True
        log.info("%s: cancel of %s refused: HTTP %s", self.name, task_id, response.status_code)
        return False

    async def check_key(self) -> KeyCheck:
        response = await self.send("GET", ACCOUNT_PATH, headers=self._headers(), total_timeout=20.0)
        body = json_body(response)
        if response.status_code == 200 and isinstance(body, dict):
            who = body.get("username") or body.get("name") or "?"
            return KeyCheck(True, f"key accepted (account {who}, {body.get('type', 'user')})")
        error = self._error(response, body)
        if error.kind in (ProviderErrorKind.AUTH, ProviderErrorKind.NO_CREDITS):
            return KeyCheck(False, f"{self.settings.provider_key_env(self.name)} was refused: {error.detail}")
        return KeyCheck(None, f"GET {ACCOUNT_PATH} answered HTTP {response.status_code}")

    async def _wait(self, prediction_id: str, call: ProviderCall) -> ProviderOutput:
        headers = self._headers()
        errors = PollErrors()

        async def check() -> ProviderOutput | None:
            try:
                response = await self.send(
                    "GET", PREDICTION_PATH.format(prediction_id), headers=headers, total_timeout=30.0
                )
                body = json_body(response)
                if response.status_code != 200 or not isinstance(body, dict):
                    raise self._error(response, body)
            except ProviderError as exc:
                errors.absorb(exc)
                return None
            errors.ok()
            return await self._settle(prediction_id, body, call, response)

        return await self.poll_until(call, check, max_interval=5.0, task_id=prediction_id)

    async def _settle(
        self, prediction_id: str, body: dict[str, Any], call: ProviderCall, response: httpx.Response
    ) -> ProviderOutput | None:
        """The output of a finished prediction, an error for a failed one, None while running."""
        status = str(body.get("status") or "").lower()
        if status == "succeeded":
            return await self._finish(prediction_id, body, call, response)
        if status in ("failed", "canceled", "cancelled", "aborted"):
            raise self._prediction_error(status, body, response)
        return None

    async def _finish(
        self, prediction_id: str, body: dict[str, Any], call: ProviderCall, response: httpx.Response
    ) -> ProviderOutput:
        raw = body.get("output")
        items = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
        urls = [item for item in items if isinstance(item, str) and item]
        if not urls:
            raise self.error(
                ProviderErrorKind.UNAVAILABLE,
                response,
                "prediction succeeded without output",
                retryable=False,
            )
        images, unusable = await images_from_strings(self, urls)
        if not images:
            raise self.error(
                ProviderErrorKind.UNAVAILABLE,
                response,
                "result images could not be fetched",
                retryable=False,
                failover=False,
            )
        usage: dict[str, Any] = {"prediction_id": prediction_id, "images_returned": len(urls)}
        if unusable:
            usage["unusable"] = unusable
        metrics = body.get("metrics")
        if isinstance(metrics, dict) and isinstance(metrics.get("predict_time"), int | float):
            usage["predict_time"] = metrics["predict_time"]
        count = call.request.count
        return ProviderOutput(
            images=images[:count], failed=max(0, count - len(images)), usage=usage, request_id=prediction_id
        )

    def _prediction_error(self, status: str, body: dict[str, Any], response: httpx.Response) -> ProviderError:
        message = error_text(body.get("error"), status)
        detail = f"prediction {status}: {message}"
        if looks_moderated(message) or _FLAGGED.search(message):
            return self.error(ProviderErrorKind.MODERATION, response, detail)
        if status != "failed":
            # Canceled (by us, or on Replicate's side): nothing to fail over to on purpose.
            return self.error(
                ProviderErrorKind.UNAVAILABLE, response, detail, retryable=False, failover=False
            )
        return self.error(ProviderErrorKind.UNAVAILABLE, response, detail, retryable=False, failover=True)

    def _error(self, response: httpx.Response, body: Any) -> ProviderError:
        status = response.status_code
        if isinstance(body, dict) and (body.get("title") or body.get("detail")):
            title, text = str(body.get("title") or ""), str(body.get("detail") or "")
            message = f"{title}: {text}" if title and text and text != title else title or text
        else:
            message = body_message(response, body)
        if looks_moderated(message) or _FLAGGED.search(message):
            return self.error(ProviderErrorKind.MODERATION, response, message)
        if status == 402 or (status in (401, 403) and _NO_CREDITS.search(message)):
            return self.error(ProviderErrorKind.NO_CREDITS, response, message)
        if status in (401, 403):
            return self.error(ProviderErrorKind.AUTH, response, message)
        if status in (404, 405, 410):
            return self.error(ProviderErrorKind.UNAVAILABLE, response, message, retryable=False)
        if status == 429:
            return self.error(ProviderErrorKind.RATE_LIMITED, response, message)
        if status in (200, 201, 202):
            return self.error(ProviderErrorKind.UNAVAILABLE, response, message or "unreadable answer")
        if 400 <= status < 500:
            return self.error(ProviderErrorKind.BAD_REQUEST, response, message)
        return self.error(ProviderErrorKind.UNAVAILABLE, response, message)

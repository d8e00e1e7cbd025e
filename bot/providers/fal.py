"""fal.ai (queue.fal.run): Seedream 5.0 lite and 4.5, text-to-image and edit, queue API.

Contract (../shared/docs/more-providers.md "fal.ai"; official client fal-ai/fal
projects/fal_client/src/fal_client/client.py; fal's Seedream model pages):

    POST /<endpoint id>                        Authorization: Key <FAL_KEY>
         endpoint ids: fal-ai/bytedance/seedream/v5/lite/{text-to-image,edit},
                       fal-ai/bytedance/seedream/v4.5/{text-to-image,edit}
         {"prompt", "image_size": preset | {"width", "height"}, "num_images": 1-6,
          "max_images": 1-6, "seed", "sync_mode", "enable_safety_checker",
          "image_urls": [URL | data URI] (edit only, up to 10)}
    -> {"request_id", "status_url", "response_url", "cancel_url", "queue_position"}
    GET  /fal-ai/bytedance/requests/<id>/status
    -> {"status": "IN_QUEUE", "queue_position"} | {"status": "IN_PROGRESS", "logs"}
       | {"status": "COMPLETED", "logs", "metrics", "error"?, "error_type"?}
    GET  /fal-ai/bytedance/requests/<id>
    -> {"images": [{"url", "content_type", "file_name", "file_size", "width", "height"}], "seed"}
    PUT  /fal-ai/bytedance/requests/<id>/cancel
    errors: {"detail": "<text>" | [{"loc", "msg", "type"}]}, the kind maybe in "error_type" or
            the x-fal-error-type header

Decisions where the documents are silent:

- Status and result URLs use only the app part of the endpoint id (`fal-ai/bytedance`). The
  URLs in the submit answer are used when they point under FAL_BASE_URL; anything else is
  ignored and the path is built from the request id, so the key never travels to another host.
  That also makes the request id alone enough to resume or cancel after a restart.
- Batches are `num_images` separate generations of one image each (`max_images` stays 1), so a
  batch of N is exactly N images (fal bills per image); capabilities.max_outputs is 6.
- `image_size` is always the resolved {"width", "height"} (fal scales sizes outside its range).
- References: public URLs as they are, other references inline as data URIs; up to 10.
- The endpoints take no output format or watermark: fal answers PNG. A JPEG request gets the
  PNG re-encoded here (quality 95), so fal serves both formats.
- A request that COMPLETED with an error is not retried here (a retry would be a second paid
  submission); content-policy failures end the request, others fail over.
- Transient errors while polling are ridden out, so a flaky status call never resubmits.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
from typing import Any

import httpx
from PIL import Image

from bot.errors import ProviderError, ProviderErrorKind
from bot.providers._common import PollErrors, body_message, images_from_strings, json_body, looks_moderated
from bot.providers.base import Capabilities, Provider, ProviderCall, ProviderOutput, image_from_bytes
from bot.request.models import GeneratedImage

__all__ = ["FalProvider"]

log = logging.getLogger(__name__)

SUBMIT_TIMEOUT = 60.0  # seconds for a submit answer (the work happens later, while polling)
JPEG_QUALITY = 95

APP = "fal-ai/bytedance"  # the app part of every Seedream endpoint id: status/result/cancel paths
ENDPOINTS = {
    ("5.0-lite", False): f"{APP}/seedream/v5/lite/text-to-image",
    ("5.0-lite", True): f"{APP}/seedream/v5/lite/edit",
    ("4.5", False): f"{APP}/seedream/v4.5/text-to-image",
    ("4.5", True): f"{APP}/seedream/v4.5/edit",
}
_NO_CREDITS = re.compile(r"balance|locked|insufficient|credit|billing", re.IGNORECASE)


class FalProvider(Provider):
    name = "fal"
    capabilities = Capabilities(
        models=frozenset({"5.0-lite", "4.5"}),
        edit=True,
        max_references=10,
        max_outputs=6,
        explicit_size=True,
        tier_size=True,
        output_formats=frozenset({"jpeg", "png"}),
        watermark=False,  # no such field in its body
        references_need_urls=False,
        max_prompt_chars=2000,
        resumable=True,
    )

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Key {self.api_key()}", "Accept": "application/json"}

    @staticmethod
    def endpoint(call: ProviderCall) -> str:
        return ENDPOINTS[(call.request.spec.key, bool(call.request.images))]

    def build_body(self, call: ProviderCall) -> dict[str, Any]:
        req = call.request
        body: dict[str, Any] = {
            "prompt": req.prompt,
            "image_size": {"width": req.width, "height": req.height},
            "num_images": req.count,
            "enable_safety_checker": True,
        }
        if req.images:
            body["image_urls"] = [self.reference(img) for img in req.images]
        return body

    async def generate(self, call: ProviderCall) -> ProviderOutput:
        self.check_capable(call)
        response = await self.send(
            "POST",
            f"/{self.endpoint(call)}",
            json=self.build_body(call),
            headers={**self._headers(), "Content-Type": "application/json"},
            total_timeout=min(SUBMIT_TIMEOUT, call.deadline),
            starts_work=True,  # a lost answer may hide a task already running: not submitted twice
        )
        body = json_body(response)
        if response.status_code in (200, 201, 202) and not isinstance(body, dict):
            raise self.unreadable_success(response, "unreadable submit answer")
        if response.status_code not in (200, 201, 202) or not isinstance(body, dict):
            raise self._error(response, body)
        request_id = body.get("request_id")
        if not isinstance(request_id, str) or not request_id:
            raise self.unreadable_success(response, "submit answer without a request_id")
        await call.on_task_id(request_id)
        status_path, result_path, _ = self._paths(request_id)
        return await self._wait(
            request_id,
            call,
            self._own(body.get("status_url"), status_path),
            self._own(body.get("response_url"), result_path),
        )

    async def resume(self, task_id: str, call: ProviderCall) -> ProviderOutput:
        status_path, result_path, _ = self._paths(task_id)
        return await self._wait(task_id, call, status_path, result_path)

    async def cancel(self, task_id: str) -> bool:
        _, _, cancel_path = self._paths(task_id)
        try:
            response = await self.send("PUT", cancel_path, headers=self._headers(), total_timeout=30.0)
        except ProviderError as exc:
            log.warning("%s: cancel of %s failed: %s", self.name, task_id, exc.kind)
            return False
        if response.status_code in (200, 202):
            return True
        log.info("%s: cancel of %s refused: HTTP %s", self.name, task_id, response.status_code)
        return False

    @staticmethod
    def _paths(request_id: str) -> tuple[str, str, str]:
        base = f"/{APP}/requests/{request_id}"
        return f"{base}/status", base, f"{base}/cancel"

    def _own(self, url: Any, fallback: str) -> str:
        """The path of a URL the host returned, if it is under our base URL; else `fallback`."""
        prefix = self.base_url + "/"
        if isinstance(url, str) and url.startswith(prefix) and "?" not in url and ".." not in url:
            return url[len(self.base_url) :]
        return fallback

    async def _wait(
        self, request_id: str, call: ProviderCall, status_path: str, result_path: str
    ) -> ProviderOutput:
        headers = self._headers()
        errors = PollErrors()

        async def check() -> ProviderOutput | None:
            try:
                response = await self.send("GET", status_path, headers=headers, total_timeout=30.0)
                body = json_body(response)
                if response.status_code not in (200, 202) or not isinstance(body, dict):
                    raise self._error(response, body)
                status = str(body.get("status") or "").upper()
                if status == "COMPLETED" and not body.get("error"):
                    output = await self._result(request_id, result_path, call)
                else:
                    output = None
            except ProviderError as exc:
                errors.absorb(exc)
                return None
            errors.ok()
            if output is not None:
                return output
            if status == "COMPLETED" or status in ("FAILED", "ERROR", "CANCELED", "CANCELLED"):
                raise self._request_error(status, body, response)
            return None

        return await self.poll_until(call, check, task_id=request_id)

    async def _result(self, request_id: str, result_path: str, call: ProviderCall) -> ProviderOutput:
        response = await self.send("GET", result_path, headers=self._headers(), total_timeout=60.0)
        body = json_body(response)
        if response.status_code != 200 or not isinstance(body, dict):
            error = self._error(response, body)
            if error.kind is not ProviderErrorKind.RATE_LIMITED and error.status and error.status < 500:
                # The request is over and its result is a refusal: polling on will not change it.
                error.retryable = False
            raise error
        items: list[str] = []
        raw = body.get("images")
        for item in raw if isinstance(raw, list) else []:
            url = item.get("url") if isinstance(item, dict) else item
            if isinstance(url, str) and url:
                items.append(url)
        if not items:
            raise self.error(
                ProviderErrorKind.UNAVAILABLE, response, "request completed without images", retryable=False
            )
        images, unusable = await images_from_strings(self, items)
        fmt = call.request.request.output_format
        converted = [await asyncio.to_thread(_as_format, img, fmt) for img in images]
        images = [img for img in converted if img is not None]
        unusable += len(converted) - len(images)
        if not images:
            raise self.error(
                ProviderErrorKind.UNAVAILABLE,
                response,
                "result images could not be fetched",
                retryable=False,
                failover=False,
            )
        usage: dict[str, Any] = {"request_id": request_id, "images_returned": len(items)}
        if unusable:
            usage["unusable"] = unusable
        if body.get("seed") is not None:
            usage["seed"] = body["seed"]
        count = call.request.count
        return ProviderOutput(
            images=images[:count], failed=max(0, count - len(images)), usage=usage, request_id=request_id
        )

    def _request_error(self, status: str, body: dict[str, Any], response: httpx.Response) -> ProviderError:
        message = _message(body.get("error")) or status.lower()
        error_type = str(body.get("error_type") or "")
        detail = f"request {status.lower()}: {message}" + (f" ({error_type})" if error_type else "")
        if looks_moderated(message, error_type):
            return self.error(ProviderErrorKind.MODERATION, response, detail)
        if "CANCEL" in status or "cancel" in error_type.lower():
            # Cancelled (the Cancel button, or fal's side): not a reason to try another host.
            return self.error(
                ProviderErrorKind.UNAVAILABLE, response, detail, retryable=False, failover=False
            )
        return self.error(ProviderErrorKind.UNAVAILABLE, response, detail, retryable=False, failover=True)

    def _error(self, response: httpx.Response, body: Any) -> ProviderError:
        status = response.status_code
        message = _message(body.get("detail")) if isinstance(body, dict) else ""
        message = message or body_message(response, body)
        error_type = ""
        if isinstance(body, dict) and isinstance(body.get("error_type"), str):
            error_type = body["error_type"]
        error_type = error_type or response.headers.get("x-fal-error-type", "")
        detail = message + (f" ({error_type})" if error_type else "")
        if looks_moderated(message, error_type):
            return self.error(ProviderErrorKind.MODERATION, response, detail)
        if status == 402 or (status in (401, 403) and _NO_CREDITS.search(message)):
            return self.error(ProviderErrorKind.NO_CREDITS, response, detail)
        if status in (401, 403):
            return self.error(ProviderErrorKind.AUTH, response, detail)
        if status in (404, 405, 410):
            return self.error(ProviderErrorKind.UNAVAILABLE, response, detail, retryable=False)
        if status == 429:
            return self.error(ProviderErrorKind.RATE_LIMITED, response, detail)
        if status in (200, 202):
            return self.error(ProviderErrorKind.UNAVAILABLE, response, detail or "unreadable answer")
        if 400 <= status < 500:
            return self.error(ProviderErrorKind.BAD_REQUEST, response, detail)
        return self.error(ProviderErrorKind.UNAVAILABLE, response, detail)


def _message(detail: Any) -> str:
    """fal's `detail`/`error`: a string, or a validation list of {loc, msg, type}."""
    if isinstance(detail, str):
        return detail[:300]
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, dict):
                loc = ".".join(str(p) for p in item.get("loc", []) if p != "body")
                text = f"{loc}: {item.get('msg', '')}" if loc else str(item.get("msg", ""))
                if item.get("type"):
                    text += f" [{item['type']}]"
                parts.append(text)
            elif isinstance(item, str):
                parts.append(item)
        return "; ".join(parts)[:300]
    if isinstance(detail, dict):
        return str(detail.get("message") or detail.get("msg") or "")[:300]
    return ""


def _as_format(image: GeneratedImage, fmt: str) -> GeneratedImage | None:
    """The image in the asked-for format ("jpeg" or "png"), re-encoded only when it differs;
    None when its pixels can't be decoded (results are checked by their ends, not decoded: a
    damaged one raised out of the provider as an unexpected error, the request paid)."""
    want = "image/png" if fmt == "png" else "image/jpeg"
    if image.mime == want:
        return image
    try:
        with Image.open(io.BytesIO(image.data)) as img:
            buf = io.BytesIO()
            if fmt == "png":
                img.save(buf, format="PNG")
            else:
                img.convert("RGB").save(buf, format="JPEG", quality=JPEG_QUALITY)
    except Exception as exc:  # Pillow says "damaged" in many ways (OSError, SyntaxError, ...)
        log.warning("fal: a result image could not be re-encoded: %s", exc)
        return None
    return image_from_bytes(buf.getvalue())

"""Retry Slack Web API calls answered with 429, honouring the whole Retry-After value.

slack-sdk's AsyncRateLimitErrorRetryHandler reads only the first digit of Retry-After
(`"30"` waits 3 s), so this one parses it properly and caps the wait.
"""

from __future__ import annotations

import asyncio
import random

from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

__all__ = ["RateLimitRetry", "retry_after_seconds"]


def retry_after_seconds(value: str | None, *, default: float = 1.0, cap: float = 60.0) -> float:
    """Seconds to wait from a Retry-After header (Slack sends whole seconds)."""
    try:
        seconds = float(value) if value is not None else default
    except ValueError:
        seconds = default
    return max(0.0, min(seconds, cap))


class RateLimitRetry(AsyncRetryHandler):
    def __init__(self, max_retry_count: int = 3, *, max_wait: float = 60.0) -> None:
        super().__init__(max_retry_count)
        self.max_wait = max_wait

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and response.status_code == 429

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        header = None
        if response is not None:
            for name, values in response.headers.items():
                if name.lower() == "retry-after":
                    header = values[0] if isinstance(values, list) and values else str(values)
        wait = retry_after_seconds(header, cap=self.max_wait)
        state.next_attempt_requested = True
        await asyncio.sleep(wait + random.random() * 0.5)
        state.increment_current_attempt()

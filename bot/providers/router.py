"""Routing, retries and failover across the configured providers.

The first provider in SEEDBOT_PROVIDERS order that can serve a request gets it; retryable
failures (429, 5xx, timeouts, connection errors) are retried with exponential backoff and
jitter, honouring Retry-After; when retries run out, or the provider is out of credits or
misconfigured, the next capable provider is tried. The user's own faults (bad request,
moderation) end the request at once: another provider would refuse it too, and charge.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
from collections.abc import Awaitable, Callable

from bot.errors import NoProviderAvailable, ProviderError, ProviderErrorKind
from bot.providers.base import Provider, ProviderCall, ProviderOutput
from bot.request.validation import ValidatedRequest

__all__ = ["Router"]

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


class Router:
    def __init__(
        self,
        providers: list[Provider],
        *,
        retries: int = 3,
        base_delay: float = 1.0,
        max_delay: float = 30.0,
        deadline: float = 300.0,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.providers = providers
        self.retries = retries
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.deadline = deadline
        self._sleep = sleep

    def get(self, name: str) -> Provider | None:
        return next((p for p in self.providers if p.name == name), None)

    def candidates(self, req: ValidatedRequest) -> list[Provider]:
        """Providers able to serve `req`, in routing order; raises if there are none."""
        pool = self.providers
        if req.request.provider:
            pool = [p for p in pool if p.name == req.request.provider]
            if not pool:
                raise NoProviderAvailable(f"{req.request.provider} is not configured")
        able = [p for p in pool if p.capabilities.refusal(req) is None]
        if not able:
            reasons = "; ".join(f"{p.name}: {p.capabilities.refusal(req)}" for p in pool) or "none configured"
            raise NoProviderAvailable(reasons)
        return able

    def deadline_for(self, req: ValidatedRequest) -> float:
        return self.deadline + 40.0 * (req.count - 1)

    def backoff(self, attempt: int, error: ProviderError) -> float:
        if error.retry_after is not None:
            return min(float(error.retry_after), self.max_delay)
        delay = min(self.max_delay, self.base_delay * 2.0**attempt)
        return delay / 2 + random.uniform(0, delay / 2)

    async def generate(
        self,
        req: ValidatedRequest,
        job_id: str,
        *,
        on_provider: Callable[[str], Awaitable[None]],
        on_task_id: Callable[[str], Awaitable[None]],
        on_progress: Callable[[float], Awaitable[None]],
    ) -> tuple[Provider, ProviderOutput]:
        last: ProviderError | None = None
        for provider in self.candidates(req):
            await on_provider(provider.name)
            call = ProviderCall(req, job_id, self.deadline_for(req), on_task_id, on_progress)
            try:
                return provider, await self._with_retries(
                    provider, functools.partial(provider.generate, call)
                )
            except ProviderError as exc:
                last = exc
                if not exc.failover:
                    raise
                log.warning("provider %s failed (%s), trying the next one", provider.name, exc.kind)
        assert last is not None
        raise last

    async def resume(
        self,
        provider_name: str,
        task_id: str,
        req: ValidatedRequest,
        job_id: str,
        *,
        on_progress: Callable[[float], Awaitable[None]],
    ) -> tuple[Provider, ProviderOutput]:
        provider = self.get(provider_name)
        if provider is None or not provider.capabilities.resumable:
            raise ProviderError(
                provider_name, ProviderErrorKind.UNAVAILABLE, detail="cannot resume", retryable=False
            )
        call = ProviderCall(req, job_id, self.deadline_for(req), on_progress=on_progress)
        return provider, await self._with_retries(provider, lambda: provider.resume(task_id, call))

    async def _with_retries(
        self, provider: Provider, attempt_fn: Callable[[], Awaitable[ProviderOutput]]
    ) -> ProviderOutput:
        attempt = 0
        while True:
            try:
                return await attempt_fn()
            except ProviderError as exc:
                if not exc.retryable or attempt >= self.retries:
                    raise
                delay = self.backoff(attempt, exc)
                log.info(
                    "provider %s: %s (status %s, request %s); retry %d in %.1fs",
                    provider.name,
                    exc.kind,
                    exc.status,
                    exc.request_id,
                    attempt + 1,
                    delay,
                )
                attempt += 1
                await self._sleep(delay)

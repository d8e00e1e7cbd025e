"""Routing, retries and failover across the configured providers.

The first provider in SEEDBOT_PROVIDERS order that can serve a request gets it; retryable
failures (429, 5xx, timeouts, connection errors) are retried (tenacity) with exponential
backoff and jitter, honouring Retry-After up to max_delay; when retries run out, or the
provider is out of credits or misconfigured, the next capable provider is tried. The user's
own faults (bad request, moderation) end the request at once: another provider would refuse
it too, and charge.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Mapping

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
    wait_random_exponential,
)

from bot import messages
from bot.config import KNOWN_PROVIDERS
from bot.errors import InvalidRequest, NoProviderAvailable, ProviderError, ProviderErrorKind
from bot.providers.base import Provider, ProviderCall, ProviderOutput
from bot.request.models import UNMARKED, GeneratedImage
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
        absent: Mapping[str, str] | None = None,
    ) -> None:
        self.providers = providers
        self.retries = retries
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.deadline = deadline
        self._sleep = sleep
        # Known providers left out of `providers`, with what would bring them in (registry).
        self.absent = dict(absent or {})
        # Equal jitter: half of each exponential step is fixed, the other half random.
        half_base, half_max = base_delay / 2, max_delay / 2
        self._jittered = wait_exponential(multiplier=half_base, max=half_max) + wait_random_exponential(
            multiplier=half_base, max=half_max
        )

    def get(self, name: str) -> Provider | None:
        return next((p for p in self.providers if p.name == name), None)

    def candidates(self, req: ValidatedRequest) -> list[Provider]:
        """Providers able to serve `req`, in routing order; raises if there are none."""
        pool = self.providers
        if req.request.provider:
            forced = req.request.provider.strip().lower()
            if forced not in KNOWN_PROVIDERS:
                raise InvalidRequest(messages.unknown_provider(req.request.provider, list(KNOWN_PROVIDERS)))
            pool = [p for p in pool if p.name == forced]
            if not pool:
                raise NoProviderAvailable(
                    messages.provider_not_set_up(
                        forced, self.absent.get(forced, messages.CANNOT_NONE_CONFIGURED)
                    )
                )
        able = [p for p in pool if p.capabilities.refusal(req) is None]
        if req.request.watermark:  # those that can add it first, in their order
            able.sort(key=lambda p: not p.capabilities.watermark)
        if not able:
            reasons = (
                "; ".join(f"{p.name}: {p.capabilities.refusal(req)}" for p in pool)
                or messages.CANNOT_NONE_CONFIGURED
            )
            raise NoProviderAvailable(reasons)
        return able

    def deadline_for(self, req: ValidatedRequest) -> float:
        return self.deadline + 40.0 * (req.count - 1)

    def backoff(self, state: RetryCallState) -> float:
        """Seconds before the next attempt: the provider's Retry-After if it sent one, capped."""
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, ProviderError) and error.retry_after is not None:
            return min(float(error.retry_after), self.max_delay)
        return self._jittered(state)

    async def generate(
        self,
        req: ValidatedRequest,
        job_id: str,
        *,
        on_provider: Callable[[str], Awaitable[None]],
        on_task_id: Callable[[str], Awaitable[None]],
        on_progress: Callable[[float], Awaitable[None]],
        on_image: Callable[[int, GeneratedImage], Awaitable[None]] | None = None,
        on_image_failed: Callable[[int, str], Awaitable[None]] | None = None,
    ) -> tuple[Provider, ProviderOutput]:
        """`on_image`/`on_image_failed`: each image of a streamed batch as it is made, for the
        providers that stream (capabilities.streaming); the others answer once, at the end."""
        able = self.candidates(req)
        for provider in able:
            await on_provider(provider.name)
            streams = provider.capabilities.streaming
            call = ProviderCall(
                req,
                job_id,
                self.deadline_for(req),
                on_task_id,
                on_progress,
                on_image=on_image if streams else None,
                on_image_failed=on_image_failed if streams else None,
            )
            try:
                output = await self._with_retries(provider, functools.partial(provider.generate, call))
                return provider, _marked(req, provider, output)
            except ProviderError as exc:
                if not exc.failover or provider is able[-1]:  # no next one to try
                    raise
                log.warning("provider %s failed (%s), trying the next one", provider.name, exc.kind)
        raise AssertionError("unreachable: candidates() is never empty, and the last one returns or raises")

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
        output = await self._with_retries(provider, lambda: provider.resume(task_id, call))
        return provider, _marked(req, provider, output)

    async def _with_retries(
        self, provider: Provider, attempt_fn: Callable[[], Awaitable[ProviderOutput]]
    ) -> ProviderOutput:
        def log_retry(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            assert isinstance(exc, ProviderError)  # the retry predicate lets nothing else through
            log.info(
                "provider %s: %s (status %s, request %s); retry %d in %.1fs",
                provider.name,
                exc.kind,
                exc.status,
                exc.request_id,
                state.attempt_number,
                state.upcoming_sleep,
            )

        # A fresh AsyncRetrying per call: its iteration state lives on the instance (per
        # thread, not per task), so concurrent jobs must not share one.
        retrying = AsyncRetrying(
            sleep=self._sleep,
            stop=stop_after_attempt(self.retries + 1),
            wait=self.backoff,
            retry=retry_if_exception(lambda exc: isinstance(exc, ProviderError) and exc.retryable),
            before_sleep=log_retry,
            reraise=True,  # the ProviderError itself, not tenacity's RetryError
        )
        async for attempt in retrying:
            with attempt:
                return await attempt_fn()
        # Typed this way round: AsyncRetrying.__call__ is typed as returning Never.
        raise AssertionError("unreachable: the last attempt returns or raises")


def _marked(req: ValidatedRequest, provider: Provider, output: ProviderOutput) -> ProviderOutput:
    """The output, noting when the watermark asked for was not added (the host has no such field)."""
    if req.request.watermark and not provider.capabilities.watermark:
        output.usage[UNMARKED] = True
    return output

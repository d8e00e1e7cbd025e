"""Restart recovery: jobs a previous process left running are resumed when their provider
task can be polled again (no second submission), refunded and explained otherwise."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from bot import i18n, messages
from bot.engine.job import Deliver, Delivery, PlatformHooks, all_failed_kind, request_from_json
from bot.errors import ProviderError, SeedbotError
from bot.ledger.base import Ledger
from bot.logs import job_context
from bot.metrics import Metrics
from bot.providers.router import Router
from bot.request.models import GenerationResult, Job, JobStatus
from bot.request.validation import validate

__all__ = ["Recovery"]

log = logging.getLogger(__name__)


class Recovery:
    """The restart part of the Engine (a mixin: it shares the engine's state)."""

    ledger: Ledger
    router: Router
    metrics: Metrics
    leases: bool
    hooks: dict[str, PlatformHooks]
    _background: set[asyncio.Task[Any]]
    _taking_over: bool
    _lost: set[str]
    _cancelled: dict[str, bool]  # jobs a person cancelled: by their requester (else an admin)

    if TYPE_CHECKING:  # provided by the other parts of the Engine

        def _start_leases(self) -> None: ...

        async def take_over(self, limit: int = 10) -> list[str]: ...

        def _track(self, job_id: str) -> contextlib.AbstractContextManager[None]: ...

        async def _refund(self, job_id: str, reservation_id: int, kind: str, detail: str) -> int: ...

        async def _charged_images(self, job_id: str) -> int: ...

        async def _close(
            self,
            job_id: str,
            reservation_id: int,
            status: JobStatus,
            *,
            used: int = 0,
            delivered: int = 0,
            error_kind: str | None = None,
            error: str | None = None,
        ) -> bool: ...

        async def _fail(
            self, job: Job, reservation_id: int, exc: BaseException, *, resumable: bool = False
        ) -> None: ...

        async def _settle(
            self, job: Job, result: GenerationResult, deliver: Deliver, reservation_id: int
        ) -> tuple[int, Delivery]: ...

    async def recover(self) -> list[str]:
        """Find jobs a previous process left running: resume polling ones, refund the rest.

        Returns the ids of jobs being resumed (they finish in the background).
        """
        if self.leases:
            # Other processes may be running jobs right now: only those whose lease expired are
            # ours to recover, now and every ttl/3 s from here on.
            self._taking_over = True
            self._start_leases()
            return await self.take_over()
        resumed: list[str] = []
        for job in await self.ledger.unfinished_jobs():
            if await self._recover_job(job):
                resumed.append(job.id)
        return resumed

    async def _recover_job(self, job: Job) -> bool:
        """Resume one job a dead process left (True), or refund it and tell the user (False)."""
        provider = self.router.get(job.provider) if job.provider else None
        hooks = self.hooks.get(job.platform)
        can_resume = (
            job.provider_task_id is not None
            and job.reservation_id is not None
            and provider is not None
            and provider.capabilities.resumable
            and hooks is not None
        )
        if can_resume and hooks is not None:
            log.info("job %s: resuming %s task after restart", job.id, job.provider)
            self.in_background(self._resume(job, hooks))
            return True
        if job.images_delivered and job.reservation_id is not None:
            # A batch cut short (streamed, or posted in several messages): the images that
            # reached the user stay charged.
            weight = job.weight
            log.info(
                "job %s: cut short after %d delivered image(s); refunding the rest",
                job.id,
                job.images_delivered,
            )
            await self._close(
                job.id,
                job.reservation_id,
                JobStatus.SUCCEEDED,
                used=job.images_delivered * weight,
                delivered=job.images_delivered,
                error_kind="restart",
                error="bot restarted while a batch was delivered",
            )
            if hooks is not None:
                with contextlib.suppress(Exception), i18n.use(i18n.locale_of(job.request)):
                    # worded in the job's language here: the text is made now, not when shown
                    said = messages.restarted_partial(job.images_delivered, job.images_requested)
                    await hooks.notify(job, said)
            return False
        log.info("job %s: left %s by a previous run; refunding", job.id, job.status)
        if job.reservation_id is not None:
            await self._refund(job.id, job.reservation_id, "restart", "bot restarted during the job")
        else:  # nothing held, but the row must still be closed or every restart meets it again
            await self.ledger.finish_job(
                job.id, JobStatus.FAILED, error_kind="restart", error="bot restarted during the job"
            )
        if hooks is not None:
            with contextlib.suppress(Exception), i18n.use(i18n.locale_of(job.request)):
                await hooks.notify(job, messages.RESTARTED_REFUNDED)
        return False

    async def _resume(self, job: Job, hooks: PlatformHooks) -> None:
        with (
            job_context(job.id, job.platform, job.user_key),
            i18n.use(i18n.locale_of(job.request)),
            self._track(job.id),
        ):
            await self._resume_job(job, hooks)

    async def _resume_job(self, job: Job, hooks: PlatformHooks) -> None:
        assert (
            job.provider is not None and job.provider_task_id is not None and job.reservation_id is not None
        )
        answered = False
        try:
            inputs = await self.ledger.job_inputs(job.id)
            validated = validate(request_from_json(job.request, inputs))
            started = time.monotonic()

            async def no_progress(percent: float) -> None:
                return None

            provider, output = await self.router.resume(
                job.provider, job.provider_task_id, validated, job.id, on_progress=no_progress
            )
            answered = True
            self.metrics.latency.labels(provider.name).observe(time.monotonic() - started)
            if not output.images:
                raise ProviderError(
                    provider.name, all_failed_kind(output.failed), detail="no images returned"
                )
            images = output.images[: validated.count]
            weight = job.weight
            result = GenerationResult(
                job_id=job.id,
                images=tuple(images),
                provider=provider.name,
                model=validated.spec.key,
                size=validated.size,
                requested=validated.count,
                elapsed=time.monotonic() - started,
                charged=len(images) * weight,
                usage=dict(output.usage),
                weight=weight,
            )

            async def deliver(result: GenerationResult) -> Delivery:
                return await hooks.deliver(job, result)

            await self._settle(job, result, deliver, job.reservation_id)
        except BaseException as exc:
            await self._fail(job, job.reservation_id, exc, resumable=not answered)
            if isinstance(exc, SeedbotError) and job.id not in self._lost:  # else its new owner tells
                with contextlib.suppress(Exception):
                    await hooks.notify(job, exc.user_text)
            if isinstance(exc, asyncio.CancelledError):
                by_owner = self._cancelled.pop(job.id, None)
                task = asyncio.current_task()
                if by_owner is None or task is None:
                    raise  # shutting down
                task.uncancel()  # a person cancelled it (refunded in _fail): say so where it was
                with contextlib.suppress(Exception):
                    await hooks.notify(job, messages.cancelled(by_owner, await self._charged_images(job.id)))

    def in_background(self, work: Coroutine[Any, Any, object]) -> None:
        """Run `work` on its own, kept until it ends (wait_background waits for it: shutdown, tests)."""
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def wait_background(self, timeout: float | None = None) -> None:
        """Until the background work ends; what is left after `timeout` seconds is cancelled."""
        if not self._background:
            return
        _, left = await asyncio.wait(set(self._background), timeout=timeout)
        for task in left:
            task.cancel()
        await asyncio.gather(*self._background, *left, return_exceptions=True)

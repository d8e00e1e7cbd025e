"""The one road every request takes, whichever platform asked:

    validate -> route (is any provider able?) -> reserve quota -> job row -> wait for a slot
    -> provider (with retries/failover) -> keep the images -> deliver (adapter callback)
    -> commit what was delivered, refund the rest -> record the outcome

Progress (queued #n, running with elapsed/percent, done) flows to the adapter through a
callback. Nothing here knows which platform asked.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import secrets
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot import messages
from bot.app.config import Settings
from bot.app.logs import job_context
from bot.app.metrics import Metrics
from bot.conversation.community import ChannelNotAllowed, Community, WorkspacePolicy, tier_of
from bot.engine.gate import Gate
from bot.engine.memory import IdleTrimmer
from bot.errors import (
    DeliveryError,
    ProviderError,
    ProviderErrorKind,
    QuotaExceeded,
    SeedbotError,
    UserBlocked,
)
from bot.ledger.base import Ledger, QuotaStatus
from bot.ledger.postgres import PostgresLedger
from bot.providers.router import Router
from bot.request.models import (
    GeneratedImage,
    GenerationRequest,
    GenerationResult,
    ImageInput,
    Job,
    JobKind,
    JobStatus,
    PostTarget,
    Requester,
)
from bot.request.validation import ValidatedRequest, validate

__all__ = [
    "Delivery",
    "Engine",
    "LeaseLost",
    "LeaseTooShort",
    "PlatformHooks",
    "Progress",
    "ProgressEvent",
    "request_from_json",
    "request_to_json",
]

log = logging.getLogger(__name__)

# Beyond the provider deadline, for delivery and settling: how long an edit waits for its parent.
PARENT_WAIT_MARGIN = 60.0


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    stage: str  # "queued", "running", "done"
    position: int | None = None
    elapsed: float = 0.0
    percent: float | None = None
    provider: str | None = None

    def text(self) -> str:
        if self.stage == "queued":
            return messages.queued(self.position or 1)
        if self.stage == "running":
            return messages.running(self.elapsed, self.percent)
        return "Done."


Progress = Callable[[ProgressEvent], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Delivery:
    """What the adapter posted: how many images reached the user, and the messages holding them."""

    delivered: int
    message_ids: tuple[str, ...] = ()
    thread_id: str | None = None


Deliver = Callable[[GenerationResult], Awaitable[Delivery]]


@dataclass(frozen=True, slots=True)
class PlatformHooks:
    """How the engine reaches a platform for jobs it resumes after a restart."""

    deliver: Callable[[Job, GenerationResult], Awaitable[Delivery]]
    notify: Callable[[Job, str], Awaitable[None]]  # tell the user in plain words


def request_to_json(request: GenerationRequest) -> dict[str, Any]:
    data = dataclasses.asdict(request)
    data.pop("images")
    data["image_count"] = len(request.images)
    return data


def request_from_json(data: dict[str, Any], images: list[ImageInput]) -> GenerationRequest:
    fields = {f.name for f in dataclasses.fields(GenerationRequest)} - {"images"}
    return GenerationRequest(images=tuple(images), **{k: v for k, v in data.items() if k in fields})


async def _quiet(progress: Progress | None, event: ProgressEvent) -> None:
    """Progress is best effort: a failed status edit must never fail the job."""
    if progress is None:
        return
    try:
        await progress(event)
    except Exception:
        log.warning("progress callback failed", exc_info=True)


class LeaseLost(SeedbotError):
    """Another process took this job over (our lease lapsed): stop without touching its state."""

    def __init__(self, job_id: str) -> None:
        super().__init__(messages.UNEXPECTED, detail=f"job {job_id}: lease taken over by another process")


class LeaseTooShort(SeedbotError):
    """The lease could not be renewed with time to spare before delivering (this process or the
    database too slow): the job is refunded rather than risk a second delivery."""

    def __init__(self, job_id: str) -> None:
        super().__init__(messages.UNEXPECTED, detail=f"job {job_id}: lease renewals too slow to deliver")


def _owner_id() -> str:
    """One lease owner per process: host, pid and a random part (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


# Delivery starts only while at least this share of the lease is left after renewing it.
DELIVERY_LEASE_SHARE = 1 / 3


async def lease_for_delivery(ledger: Ledger, job_id: str, owner: str, ttl: float, attempts: int = 3) -> bool:
    """Renew `owner`'s lease on the job right before delivering. True once a renewal leaves at
    least DELIVERY_LEASE_SHARE of `ttl`: it was asked for less than the rest of `ttl` ago, and the
    database set the new expiry after it was asked. A slower answer (this process stalled, the
    database crawled) is renewed again: that lease may be about to lapse. False: another process
    holds or finished the job. Raises LeaseTooShort when no renewal is quick enough."""
    for _ in range(attempts):
        asked = time.monotonic()
        if not await ledger.claim_job(job_id, owner, ttl):
            return False
        took = time.monotonic() - asked
        if took <= ttl * (1 - DELIVERY_LEASE_SHARE):
            return True
        log.warning("job %s: renewing its lease took %.1f s of its %.0f s; renewing again", job_id, took, ttl)
    raise LeaseTooShort(job_id)


class Engine:
    def __init__(
        self,
        settings: Settings,
        ledger: Ledger,
        router: Router,
        *,
        progress_interval: float = 5.0,
        metrics: Metrics | None = None,
        leases: bool | None = None,
    ) -> None:
        self.settings = settings
        self.ledger = ledger
        self.router = router
        self.gate = Gate(settings.max_concurrency, settings.user_concurrency)
        self.progress_interval = progress_interval
        self.hooks: dict[str, PlatformHooks] = {}
        self._background: set[asyncio.Task[Any]] = set()
        self.metrics = metrics or Metrics()
        self.metrics.watch_gate(lambda: self.gate.queued, lambda: self.gate.running)
        # Set by shutdown(): new requests are refused before any charge.
        self.draining = False
        self._active: dict[str, asyncio.Task[Any]] = {}  # job id -> the task running it
        self._idle = asyncio.Event()  # set while no job is running
        self._idle.set()
        self._trim_memory = IdleTrimmer(self._idle.is_set)
        # Job leases, for several processes on one database (PostgreSQL): each job is claimed by
        # the process running it, renewed every ttl/3 s; jobs of a dead process are taken over
        # once their lease expires. A single process on SQLite needs none of it (recover() at
        # start-up finds everything the last run left).
        self.leases = isinstance(ledger, PostgresLedger) if leases is None else leases
        self.owner = _owner_id()
        self.lease_ttl = settings.lease_ttl
        self._lease_task: asyncio.Task[None] | None = None
        self._taking_over = False  # set by recover(): also take over expired jobs periodically
        self._lost: set[str] = set()  # jobs another process took over: cancelled, state left alone
        self._last_renewed = time.monotonic()
        self.community = Community(settings, ledger)

    @property
    def demo(self) -> bool:
        return all(p.name == "demo" for p in self.router.providers)

    def register_platform(self, platform: str, hooks: PlatformHooks) -> None:
        self.hooks[platform] = hooks

    def is_admin(self, requester: Requester) -> bool:
        return self.settings.is_admin(requester.key)

    async def usage(self, requester: Requester) -> QuotaStatus:
        return await self.ledger.quota(requester.key, unlimited=self.is_admin(requester))

    async def usage_text(self, requester: Requester) -> str:
        """/usage: today's and this month's use, what is left (weighted), resets, the server pool."""
        return await self.community.usage_text(requester, unlimited=self.is_admin(requester))

    async def defaults_for(self, requester: Requester) -> dict[str, object]:
        """Request defaults where the requester is (the server's model, resolution, ...)."""
        return await self.community.defaults_for(requester)

    @property
    def parent_wait(self) -> float:
        """How long an edit of a job still at work waits for it (compose_edit's `wait`)."""
        return self.settings.provider_deadline + PARENT_WAIT_MARGIN

    async def left_after(self, requester: Requester, result: GenerationResult) -> int | None:
        """Quota units the user will have left once this result is committed (None: unlimited).

        Called while delivering, when the whole batch is still reserved: the images the
        provider did not return are about to be refunded, so they count as left.
        """
        status = await self.usage(requester)
        left = status.left
        return None if left is None else left + result.missing * result.weight

    def check(self, request: GenerationRequest) -> ValidatedRequest:
        """Validate and make sure some provider can serve it. Raises with user text; free."""
        validated = validate(request)
        self.router.candidates(validated)
        return validated

    async def admit(self, request: GenerationRequest, requester: Requester) -> ValidatedRequest:
        """check() plus the server's rules (allowed channels, batch size). Free."""
        validated, _ = await self._admit(request, requester)
        return validated

    async def _admit(
        self, request: GenerationRequest, requester: Requester
    ) -> tuple[ValidatedRequest, WorkspacePolicy]:
        policy = await self.community.policy_for(requester)
        if not policy.allows(requester):  # before validation: this channel is not for the bot
            raise ChannelNotAllowed()
        validated = self.check(request)
        self.community.admit(requester, policy, validated)
        return validated, policy

    async def generate(
        self,
        request: GenerationRequest,
        requester: Requester,
        *,
        deliver: Deliver,
        target: PostTarget | None = None,
        kind: JobKind = JobKind.IMAGINE,
        parent_id: str | None = None,
        progress: Progress | None = None,
    ) -> tuple[GenerationResult, Delivery]:
        if self.draining:
            raise SeedbotError(messages.SHUTTING_DOWN, detail="shutting down")
        validated, policy = await self._admit(request, requester)
        weight = self.community.weight(validated)
        cost = weight * validated.count
        try:
            reservation = await self.ledger.reserve(
                requester.key,
                cost,
                unlimited=self.is_admin(requester),
                pool=self.community.pool_for(requester, policy),
            )
        except QuotaExceeded as exc:
            self.metrics.quota_refusals.labels(exc.scope).inc()
            if cost == validated.count:
                raise
            raise exc.counting(validated.count) from exc
        except UserBlocked:
            self.metrics.quota_refusals.labels("blocked").inc()
            raise
        target = target or PostTarget(channel_id=requester.channel_id)
        job = Job(
            id=secrets.token_hex(6),
            user_key=requester.key,
            platform=requester.platform,
            status=JobStatus.QUEUED,
            kind=str(kind),
            prompt=validated.prompt,
            model=validated.spec.key,
            request={
                **request_to_json(request),
                "size": validated.size,
                "tier": tier_of(validated),
                "weight": weight,
            },
            workspace_id=requester.workspace_id,
            channel_id=target.channel_id,
            thread_id=target.thread_id,
            message_id=target.message_id,
            reservation_id=reservation.id,
            images_requested=validated.count,
            parent_id=parent_id,
        )
        try:
            await self.ledger.create_job(job, request.images)
        except BaseException:
            await self.ledger.settle(reservation.id, 0)
            raise
        if self.leases:
            self._start_leases()
            if not await self.ledger.claim_job(job.id, self.owner, self.lease_ttl):
                # Another process holds it (it took the job over): it settles and answers.
                log.warning("job %s: claimed by another process before it started; not running it", job.id)
                raise LeaseLost(job.id)
        with job_context(job.id, job.platform, job.user_key), self._track(job.id):
            log.info(
                "job %s: %s asked for %d image(s), %s", job.id, requester.key, validated.count, validated.size
            )
            return await self._run(job, validated, reservation.id, deliver, progress)

    async def _run(
        self,
        job: Job,
        validated: ValidatedRequest,
        reservation_id: int,
        deliver: Deliver,
        progress: Progress | None,
    ) -> tuple[GenerationResult, Delivery]:
        weight = int(job.request.get("weight") or 1)
        queued_at = time.monotonic()
        delivered = 0
        answered = False  # the provider has answered: nothing left to resume after a restart
        try:

            async def on_position(position: int) -> None:
                await _quiet(progress, ProgressEvent("queued", position=position))

            async with self.gate.slot(job.user_key, on_position):
                started = time.monotonic()
                output_images, provider_name, usage = await self._call_provider(
                    job, validated, progress, started
                )
            answered = True
            self.metrics.latency.labels(provider_name).observe(time.monotonic() - started)
            result = GenerationResult(
                job_id=job.id,
                images=tuple(output_images),
                provider=provider_name,
                model=validated.spec.key,
                size=validated.size,
                requested=validated.count,
                elapsed=time.monotonic() - started,
                queued=started - queued_at,
                charged=len(output_images) * weight,
                demo=provider_name == "demo",
                usage=usage,
                weight=weight,
            )
            if output_images:
                await self.ledger.save_outputs(job.id, output_images)
            await self._still_ours(job.id)
            try:
                delivery = await deliver(result)
            except SeedbotError:
                raise
            except Exception as exc:
                raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
            delivered = max(0, min(delivery.delivered, len(output_images)))
            status = JobStatus.SUCCEEDED if delivered else JobStatus.FAILED
            await self._settle(job.id, reservation_id, status, used=delivered * weight, delivered=delivered)
            if delivery.message_ids:
                await self.ledger.link_messages(job.id, job.platform, list(delivery.message_ids))
            if delivery.thread_id and delivery.thread_id != job.thread_id:
                await self.ledger.update_job(job.id, thread_id=delivery.thread_id)
            self._count_finished(job, status, provider_name, delivered)
            log.info("job %s: delivered %d/%d via %s", job.id, delivered, validated.count, provider_name)
            return dataclasses.replace(result, charged=delivered * weight), delivery
        except BaseException as exc:
            await self._fail(job, reservation_id, exc, resumable=not answered)
            if job.id in self._lost and isinstance(exc, Exception) and not isinstance(exc, LeaseLost):
                raise LeaseLost(job.id) from exc  # its new owner answers the user
            raise

    async def _call_provider(
        self, job: Job, validated: ValidatedRequest, progress: Progress | None, started: float
    ) -> tuple[list[GeneratedImage], str, dict[str, Any]]:
        await self.ledger.update_job(job.id, status=JobStatus.RUNNING, started_at=_now_iso())
        state: dict[str, Any] = {"percent": None, "provider": None}

        async def on_provider(name: str) -> None:
            state["provider"] = name
            await self.ledger.update_job(job.id, provider=name)

        async def on_task_id(task_id: str) -> None:
            await self.ledger.update_job(job.id, provider_task_id=task_id)

        async def on_progress(percent: float) -> None:
            state["percent"] = percent
            await _quiet(
                progress, ProgressEvent("running", elapsed=time.monotonic() - started, percent=percent)
            )

        async def ticker() -> None:
            while True:
                await _quiet(
                    progress,
                    ProgressEvent(
                        "running",
                        elapsed=time.monotonic() - started,
                        percent=state["percent"],
                        provider=state["provider"],
                    ),
                )
                await asyncio.sleep(self.progress_interval)

        tick = asyncio.create_task(ticker())
        try:
            provider, output = await self.router.generate(
                validated, job.id, on_provider=on_provider, on_task_id=on_task_id, on_progress=on_progress
            )
        finally:
            tick.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await tick
        if not output.images:
            # A batch where every image failed is the provider's answer, not a success.
            raise ProviderError(provider.name, _all_failed_kind(output.failed), detail="no images returned")
        await _quiet(
            progress, ProgressEvent("done", elapsed=time.monotonic() - started, provider=provider.name)
        )
        usage = dict(output.usage)
        if output.request_id:
            usage.setdefault("request_id", output.request_id)
        return output.images[: validated.count], provider.name, usage

    async def _fail(
        self, job: Job, reservation_id: int, exc: BaseException, *, resumable: bool = False
    ) -> None:
        """Refund everything and record why. Runs even when the job task is cancelled.

        A job cancelled by shutdown() while polling a resumable provider task is the exception:
        it stays 'running' with its reservation held, and the next start resumes it.
        """
        if job.id in self._lost or isinstance(exc, LeaseLost):
            # The process that took the job over settles it and answers the user.
            log.warning("job %s: stopped here; another process took it over", job.id)
            self.metrics.job_finished("taken_over", getattr(exc, "provider", None))
            return
        kind = getattr(exc, "kind", None) or type(exc).__name__
        detail = str(exc)[:500]
        if isinstance(exc, asyncio.CancelledError):
            kind, detail = "cancelled", "shut down while running"
            if self.draining and resumable and await asyncio.shield(self._checkpointed(job)):
                return
        if isinstance(exc, ProviderError):
            self.metrics.provider_errors.labels(exc.provider, str(exc.kind)).inc()
        self.metrics.job_finished(
            "cancelled" if kind == "cancelled" else "failed", getattr(exc, "provider", None)
        )
        try:
            await asyncio.shield(self._refund(job.id, reservation_id, str(kind), detail))
        except Exception:
            log.exception("job %s: could not record failure", job.id)
        if isinstance(exc, SeedbotError):
            log.info("job %s failed: %s", job.id, detail)
        elif not isinstance(exc, asyncio.CancelledError):
            log.error("job %s failed unexpectedly", job.id, exc_info=exc)

    async def _checkpointed(self, job: Job) -> bool:
        """True when the job's provider task can be resumed by the next start (left as is)."""
        try:
            current = await self.ledger.get_job(job.id)
        except Exception:
            log.exception("job %s: could not read the job to checkpoint it", job.id)
            return False
        provider = self.router.get(current.provider) if current and current.provider else None
        if current is None or not current.provider_task_id or provider is None:
            return False
        if not provider.capabilities.resumable:
            return False
        log.info(
            "job %s: left running on %s task %s for the next start",
            job.id,
            provider.name,
            current.provider_task_id,
        )
        self.metrics.job_finished("checkpointed", provider.name)
        return True

    def _count_finished(self, job: Job, status: JobStatus, provider: str, delivered: int) -> None:
        self.metrics.job_finished(str(status), provider)
        if delivered:
            self.metrics.images.labels(job.platform).inc(delivered)

    @contextlib.contextmanager
    def _track(self, job_id: str) -> Iterator[None]:
        task = asyncio.current_task()
        if task is not None:
            self._active[job_id] = task
            self._idle.clear()
        try:
            yield
        finally:
            self._active.pop(job_id, None)
            self._lost.discard(job_id)
            if not self._active:
                self._idle.set()
                self._trim_memory.request()

    @property
    def active_jobs(self) -> list[str]:
        return list(self._active)

    async def shutdown(self, grace: float, *, settle_timeout: float = 10.0) -> list[str]:
        """Stop taking new jobs, let running ones finish for `grace` seconds, then cancel the rest.

        Cancelled jobs polling a resumable provider task stay 'running' (the next start's
        recover() resumes them); the others are refunded. Returns the ids that were cancelled.
        """
        self.draining = True
        if self._active:
            log.info("shutting down: waiting up to %.0f s for %d running job(s)", grace, len(self._active))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), grace)
        cancelled = list(self._active)
        if cancelled:
            log.warning("shutting down: cancelling %d job(s) still running", len(cancelled))
            for task in set(self._active.values()):
                task.cancel()
            with contextlib.suppress(TimeoutError):  # each records its state in _fail
                await asyncio.wait_for(self._idle.wait(), settle_timeout)
        await self.close()
        return cancelled

    async def close(self) -> None:
        """Stop renewing leases. When nothing runs here any more, let the jobs this process
        checkpointed go at once (a lease of 0 s) so another process, or the next start, takes
        them over without waiting for the lease to expire."""
        task, self._lease_task = self._lease_task, None
        self._taking_over = False
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.leases and not self._active:
            try:
                released = await self.ledger.renew_leases(self.owner, 0)
            except Exception:
                log.warning(
                    "could not release job leases; they expire in %.0f s", self.lease_ttl, exc_info=True
                )
            else:
                if released:
                    log.info("released %d job lease(s) for another process to take over", len(released))

    # -- job leases (several processes on one database) --------------------------------------

    def _start_leases(self) -> None:
        if self._lease_task is None or self._lease_task.done():
            self._last_renewed = time.monotonic()
            self._lease_task = asyncio.create_task(self._lease_loop(), name="seedbot-leases")

    async def _lease_loop(self) -> None:
        while True:
            await asyncio.sleep(self.lease_ttl / 3)
            try:
                await self._renew()
            except Exception:
                log.warning("job leases: renewal failed", exc_info=True)
                if self._active and time.monotonic() - self._last_renewed > self.lease_ttl:
                    # Our leases may have lapsed: another process may be running these jobs now.
                    log.error("job leases: not renewed for %.0f s; stopping the jobs here", self.lease_ttl)
                    self._drop(list(self._active))
            if self._taking_over and not self.draining:
                try:
                    await self.take_over()
                except Exception:
                    log.warning("job leases: take-over failed", exc_info=True)

    async def _renew(self) -> None:
        running = list(self._active)
        held = set(await self.ledger.renew_leases(self.owner, self.lease_ttl))
        self._last_renewed = time.monotonic()
        lost = []
        for job_id in running:
            if job_id in held or job_id not in self._active:
                continue
            current = await self.ledger.get_job(job_id)
            if current is not None and current.owner not in (None, self.owner):
                lost.append(job_id)
        if lost:
            log.error("job leases: %d job(s) were taken over by another process: %s", len(lost), lost)
            self._drop(lost)

    def _drop(self, job_ids: list[str]) -> None:
        """Stop jobs that are no longer ours, leaving their ledger state to their new owner."""
        for job_id in job_ids:
            task = self._active.get(job_id)
            if task is not None:
                self._lost.add(job_id)
                task.cancel()

    async def _still_ours(self, job_id: str) -> None:
        """Right before anything the user sees (delivery): renew the lease with time to spare
        (lease_for_delivery). Raises LeaseLost if the job is no longer ours."""
        if self.leases and not await lease_for_delivery(self.ledger, job_id, self.owner, self.lease_ttl):
            self._lost.add(job_id)
            raise LeaseLost(job_id)

    async def _settle(
        self,
        job_id: str,
        reservation_id: int,
        status: JobStatus,
        *,
        used: int = 0,
        delivered: int = 0,
        error_kind: str | None = None,
        error: str | None = None,
    ) -> bool:
        """Settle and finish the job while it is still this process's (ledger.settle_job). False
        when another process took it over meanwhile (this one stalled): that one settles it."""
        if await self.ledger.settle_job(
            job_id,
            self.owner,
            status,
            reservation_id=reservation_id,
            used=used,
            delivered=delivered,
            error_kind=error_kind,
            error=error,
        ):
            return True
        if job_id in self._active:  # (_track forgets it when the job's task ends)
            self._lost.add(job_id)
        log.warning("job %s: not settled here: another process took it over (or it was finished)", job_id)
        return False

    async def take_over(self, limit: int = 10) -> list[str]:
        """Take over jobs whose process died (their lease expired) and recover each one like a
        restart does. Returns the ids being resumed."""
        resumed: list[str] = []
        while not self.draining:
            jobs = await self.ledger.take_over_expired(self.owner, self.lease_ttl, limit)
            for job in jobs:
                log.info("job %s: taking over from %s (lease expired)", job.id, job.owner or "nobody")
                if await self._recover_job(job):
                    resumed.append(job.id)
            if len(jobs) < limit:
                break
        return resumed

    async def _refund(self, job_id: str, reservation_id: int, kind: str, detail: str) -> None:
        await self._settle(job_id, reservation_id, JobStatus.FAILED, error_kind=kind, error=detail)

    # -- restart recovery -----------------------------------------------------------------------

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
            task = asyncio.create_task(self._resume(job, hooks))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
            return True
        log.info("job %s: left %s by a previous run; refunding", job.id, job.status)
        if job.reservation_id is not None:
            await self._refund(job.id, job.reservation_id, "restart", "bot restarted during the job")
        else:  # nothing held, but the row must still be closed or every restart meets it again
            await self.ledger.finish_job(
                job.id, JobStatus.FAILED, error_kind="restart", error="bot restarted during the job"
            )
        if hooks is not None:
            with contextlib.suppress(Exception):
                await hooks.notify(job, messages.RESTARTED_REFUNDED)
        return False

    async def _resume(self, job: Job, hooks: PlatformHooks) -> None:
        with job_context(job.id, job.platform, job.user_key), self._track(job.id):
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
                    provider.name, _all_failed_kind(output.failed), detail="no images returned"
                )
            images = output.images[: validated.count]
            weight = int(job.request.get("weight") or 1)
            await self.ledger.save_outputs(job.id, images)
            await self._still_ours(job.id)
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
            delivery = await hooks.deliver(job, result)
            delivered = max(0, min(delivery.delivered, len(images)))
            status = JobStatus.SUCCEEDED if delivered else JobStatus.FAILED
            await self._settle(
                job.id, job.reservation_id, status, used=delivered * weight, delivered=delivered
            )
            if delivery.message_ids:
                await self.ledger.link_messages(job.id, job.platform, list(delivery.message_ids))
            self._count_finished(job, status, provider.name, delivered)
        except BaseException as exc:
            await self._fail(job, job.reservation_id, exc, resumable=not answered)
            if isinstance(exc, SeedbotError) and job.id not in self._lost:  # else its new owner tells
                with contextlib.suppress(Exception):
                    await hooks.notify(job, exc.user_text)
            if isinstance(exc, asyncio.CancelledError):
                raise

    async def wait_background(self) -> None:
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)


def _all_failed_kind(failed: int) -> ProviderErrorKind:
    # Every image refused one by one is almost always the content filter.
    return ProviderErrorKind.MODERATION if failed else ProviderErrorKind.UNAVAILABLE


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")

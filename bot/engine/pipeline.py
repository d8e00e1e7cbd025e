"""The one road every request takes, whichever platform asked:

    validate -> route (is any provider able?) -> reserve quota -> job row -> wait for a slot
    -> provider (with retries/failover) -> deliver (adapter callback), keeping the images meanwhile
    -> commit what was delivered, refund the rest -> record the outcome

Progress (queued #n, running with elapsed/percent, done) flows to the adapter through a
callback. Nothing here knows which platform asked.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

from bot import i18n, messages
from bot.config import Settings
from bot.engine.admission import Workspaces
from bot.engine.gate import Gate
from bot.engine.job import (
    Admitted,
    Deliver,
    Delivery,
    PlatformHooks,
    Progress,
    ProgressEvent,
    Stream,
    all_failed_kind,
    now_iso,
    quiet,
    request_from_json,
    request_to_json,
)
from bot.engine.leases import CANCELLED_BY, Leases, owner_id
from bot.engine.memory import IdleTrimmer
from bot.engine.posting import listening
from bot.engine.recovery import Recovery
from bot.engine.shutdown import Lifecycle
from bot.errors import (
    DeliveryError,
    InvalidRequest,
    JobCancelled,
    LeaseLost,
    LeaseTooShort,
    ProviderError,
    ProviderErrorKind,
    QuotaExceeded,
    SeedbotError,
    UserBlocked,
    one_line,
)
from bot.ledger import database_down
from bot.ledger.base import Ledger, QuotaStatus, Reservation
from bot.logs import job_context, log_problem
from bot.metrics import Metrics
from bot.providers.base import Provider
from bot.providers.router import Router
from bot.request.models import (
    GeneratedImage,
    GenerationRequest,
    GenerationResult,
    Job,
    JobKind,
    JobStatus,
    PostTarget,
    Requester,
)
from bot.request.validation import MODELS, ValidatedRequest, validate
from bot.request.workspace import WorkspacePolicy, tier_of

__all__ = [
    "FAILURE_KINDS",
    "Admitted",
    "Delivery",
    "Engine",
    "LeaseLost",
    "LeaseTooShort",
    "PlatformHooks",
    "Progress",
    "ProgressEvent",
    "is_job_id",
    "new_job_id",
    "request_from_json",
    "request_to_json",
]

log = logging.getLogger(__name__)

# How long Cancel waits for the job's own task to refund it before answering.
CANCEL_WAIT = 10.0
RECORD_RETRY_MAX = 10.0  # seconds between tries to record a job's end the database refused
# Beyond the provider deadline, for delivery and settling: how long an edit waits for its parent.
PARENT_WAIT_MARGIN = 60.0
# Seconds a streamed image already handed to the surface may still take to land when the job is
# cut short (a shutdown, a provider error): one upload or edit, perhaps after a rate-limit wait.
SHOW_GRACE = 2.0


class Engine(Lifecycle, Leases, Recovery):
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
        self.leases = ledger.shared if leases is None else leases
        self.owner = owner_id()
        self.lease_ttl = settings.lease_ttl
        self._lease_task: asyncio.Task[None] | None = None
        self._taking_over = False  # set by recover(): also take over expired jobs periodically
        self._lost: set[str] = set()  # jobs another process took over: cancelled, state left alone
        # Jobs a person cancelled (Cancel): their task is cancelled, they close as 'cancelled'.
        # The value says whether it was the requester (else an admin).
        self._cancelled: dict[str, bool] = {}
        self._refunded: dict[str, asyncio.Event] = {}  # set once a cancelled job is refunded
        self._closing = asyncio.Event()  # shutting down or closed: retries stop waiting
        # Results whose images are being kept while they are delivered (see _settle).
        self._keeping: dict[str, asyncio.Future[None]] = {}
        # Jobs whose images are being posted, or were and are not closed yet: past cancelling
        # (the person has some already).
        self._delivering: set[str] = set()
        # Images a delivery put before the person, until the job is closed: a failure or a
        # shutdown in between still charges them (_refund).
        self._reached: dict[str, int] = {}
        self._last_renewed = time.monotonic()
        self.workspaces = Workspaces(settings, ledger)

    @property
    def demo(self) -> bool:
        return all(p.name == "demo" for p in self.router.providers)

    def register_platform(self, platform: str, hooks: PlatformHooks) -> None:
        self.hooks[platform] = hooks

    def is_admin(self, requester: Requester) -> bool:
        return not requester.named and self.settings.is_admin(requester.key)

    async def usage(self, requester: Requester) -> QuotaStatus:
        return await self.ledger.quota(requester.key, unlimited=self.is_admin(requester))

    async def defaults_for(self, requester: Requester) -> dict[str, object]:
        """Request defaults where the requester is (the server's model, resolution, ...)."""
        return await self.workspaces.defaults_for(requester)

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
        if left is None:
            return None
        # Refunds go to the day the batch was reserved: one asked before midnight (UTC) gives
        # nothing back to today's.
        now = datetime.now(UTC)
        asked = now - timedelta(seconds=result.queued + result.elapsed)
        return left + result.missing * result.weight if asked.date() == now.date() else left

    def check(self, request: GenerationRequest) -> ValidatedRequest:
        """Validate and make sure some provider can serve it. Raises with user text; free."""
        try:
            validated = validate(request)
        except InvalidRequest as exc:
            raise self._with_another_model(request, exc) from None
        self.router.candidates(validated)
        return validated

    def _with_another_model(self, request: GenerationRequest, refused: InvalidRequest) -> InvalidRequest:
        """`refused`, saying which other model would make the request as it is (4K, a size, png)
        when one would and a configured host serves it: `--res 4K` on 5.0 lite was a dead end."""
        if type(refused) is not InvalidRequest or request.model not in MODELS:
            return refused  # a flag, an image, an unknown model: no model would change that
        for key, spec in MODELS.items():
            if key == request.model:
                continue
            try:
                self.router.candidates(validate(dataclasses.replace(request, model=key)))
            except SeedbotError:
                continue
            text = messages.another_model_can(refused.user_text, spec.name, key)
            return InvalidRequest(text, detail=str(refused))
        return refused

    async def admit(
        self, request: GenerationRequest, requester: Requester, policy: WorkspacePolicy | None = None
    ) -> Admitted:
        """check() plus the workspace's rules (allowed channels, batch size), and what the request
        will cost. Free: every refusal comes before any charge. `policy`: the workspace's rules if
        the caller already read them for this request (they are read once per request)."""
        if policy is None:
            policy = await self.workspaces.policy_for(requester)
        self.workspaces.enter(requester, policy)  # before validation: this channel is not for the bot
        validated = self.check(request)
        self.workspaces.admit(policy, validated)
        return Admitted(request, validated, policy, self.workspaces.weight(validated))

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
        """admit() then run(): for callers with nothing to show between the two (the tests)."""
        admitted = await self.admit(request, requester)
        return await self.run(
            admitted,
            requester,
            deliver=deliver,
            target=target,
            kind=kind,
            parent_id=parent_id,
            progress=progress,
        )

    async def run(
        self,
        admitted: Admitted,
        requester: Requester,
        *,
        deliver: Deliver,
        target: PostTarget | None = None,
        kind: JobKind = JobKind.IMAGINE,
        parent_id: str | None = None,
        progress: Progress | None = None,
        stream: Stream | None = None,
        pick: int | None = None,
        job_id: str | None = None,
    ) -> tuple[GenerationResult, Delivery]:
        """Reserve, record the job, wait for a slot, call the provider, deliver, settle.
        `stream`: shows each image of a streamed batch as it is made (True when it reached the
        user); the final delivery then posts only the others. `pick`: the parent's image this
        job works on (an upscale's #N, kept for Info). `job_id`: chosen by the caller (to offer
        Cancel on the status message), else a new one."""
        if self.draining:
            raise SeedbotError(messages.SHUTTING_DOWN, detail="shutting down")
        request, validated, weight, cost = (
            admitted.request,
            admitted.validated,
            admitted.weight,
            admitted.cost,
        )
        reserving = asyncio.ensure_future(
            self.ledger.reserve(
                requester.key,
                cost,
                unlimited=self.is_admin(requester),
                pool=self.workspaces.pool_for(requester, admitted.policy),
            )
        )
        try:
            reservation = await asyncio.shield(reserving)
        except asyncio.CancelledError:
            self._refund_when_reserved(reserving)
            raise
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
            id=job_id or new_job_id(),
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
                **({"pick": pick} if pick is not None else {}),
                # The languages it was asked in: a job resumed after a restart answers in them.
                **({"locale": i18n.normalize(requester.locale)} if requester.locale else {}),
                **(
                    {"workspace_locale": i18n.normalize(requester.workspace_locale)}
                    if requester.workspace_locale
                    else {}
                ),
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
            try:
                return await self._run(job, validated, reservation.id, deliver, progress, stream)
            except asyncio.CancelledError:
                by_owner = self._cancelled.pop(job.id, None)
                task = asyncio.current_task()
                if by_owner is None or task is None:
                    raise  # shutting down
                task.uncancel()  # a person cancelled this job, not the turn: answer as usual
                raise JobCancelled(by_owner, await self._charged_images(job.id)) from None

    async def _charged_images(self, job_id: str) -> int:
        """The images of a closed job that reached the person (charged), 0 if it can't be read."""
        try:
            job = await self.ledger.get_job(job_id)
        except Exception:
            log.warning("job %s: could not read what it delivered", job_id, exc_info=True)
            return 0
        return job.images_delivered if job is not None else 0

    def _refund_when_reserved(self, reserving: asyncio.Future[Reservation]) -> None:
        """The turn was cancelled (a shutdown) while its reservation was being written: SQLite's
        thread writes it anyway, and with no job to settle it the person stayed charged. Once it
        is written, it is settled at nothing."""

        def written(done: asyncio.Future[Reservation]) -> None:
            if done.cancelled() or done.exception() is not None:
                return
            self.in_background(self.ledger.settle(done.result().id, 0))

        reserving.add_done_callback(written)

    async def _run(
        self,
        job: Job,
        validated: ValidatedRequest,
        reservation_id: int,
        deliver: Deliver,
        progress: Progress | None,
        stream: Stream | None = None,
    ) -> tuple[GenerationResult, Delivery]:
        weight = job.weight
        queued_at = time.monotonic()
        delivered = 0
        answered = False  # the provider has answered: nothing left to resume after a restart
        try:

            async def on_position(position: int) -> None:
                await quiet(progress, ProgressEvent("queued", position=position))

            async with self.gate.slot(job.user_key, on_position):
                started = time.monotonic()
                output_images, provider_name, usage, posted = await self._call_provider(
                    job, validated, progress, started, stream
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
                posted=posted,
            )
            delivered, delivery = await self._settle(job, result, deliver, reservation_id)
            return dataclasses.replace(result, charged=delivered * weight), delivery
        except BaseException as exc:
            await self._fail(job, reservation_id, exc, resumable=not answered)
            if job.id in self._lost and isinstance(exc, Exception) and not isinstance(exc, LeaseLost):
                raise LeaseLost(job.id) from exc  # its new owner answers the user
            raise

    async def _call_provider(
        self,
        job: Job,
        validated: ValidatedRequest,
        progress: Progress | None,
        started: float,
        stream: Stream | None = None,
    ) -> tuple[list[GeneratedImage], str, dict[str, Any], tuple[int, ...]]:
        await self.ledger.update_job(job.id, status=JobStatus.RUNNING, started_at=now_iso())
        state: dict[str, Any] = {"percent": None, "provider": None}
        shown: list[GeneratedImage] = []  # streamed images that reached the user
        showing: list[asyncio.Task[None]] = []  # their hand-overs to the surface, in order
        counting = asyncio.Lock()

        async def show(hand_over: Stream, index: int, image: GeneratedImage) -> None:
            try:
                if await hand_over(job.id, index, image):
                    async with counting:  # the count written last is the largest
                        shown.append(image)
                        await self.ledger.update_job(job.id, images_delivered=len(shown))
            except Exception:  # the rest of the batch still comes, and is posted at the end
                log.warning("job %s: streamed image %d could not be shown", job.id, index, exc_info=True)

        async def on_image(index: int, image: GeneratedImage) -> None:
            """One image of a streamed batch: to the user at once, counted as delivered when the
            surface says it is shown (a restart from then on charges it and refunds the rest).
            The hand-over does not hold up the provider's stream: a surface that must wait (a
            rate limit) shows the images that queue up meanwhile together, in order."""
            if stream is None or len(showing) >= validated.count:
                return
            await self._still_ours(job.id)
            showing.append(asyncio.create_task(show(stream, index, image), name=f"show {job.id} {index}"))
            await asyncio.sleep(0)  # it takes its place in the surface's queue before the next

        async def on_provider(name: str) -> None:
            state["provider"] = name
            # A new host has no task yet: the last one's id would be resumed or cancelled there.
            await self.ledger.update_job(job.id, provider=name, provider_task_id=None)

        async def on_task_id(task_id: str) -> None:
            await self.ledger.update_job(job.id, provider_task_id=task_id)

        async def on_progress(percent: float) -> None:
            state["percent"] = percent
            await quiet(
                progress, ProgressEvent("running", elapsed=time.monotonic() - started, percent=percent)
            )

        async def ticker() -> None:
            while True:
                await quiet(
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
                validated,
                job.id,
                on_provider=on_provider,
                on_task_id=on_task_id,
                on_progress=on_progress,
                on_image=on_image if stream is not None else None,
            )
        except BaseException:
            # Cut short: hand-overs under way get a moment to land (and be counted), no more.
            if showing:
                _, late = await asyncio.wait(showing, timeout=SHOW_GRACE)
                for task in late:
                    task.cancel()
            raise
        finally:
            tick.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await tick
            await asyncio.gather(*showing, return_exceptions=True)
        if not output.images:
            # A batch where every image failed is the provider's answer, not a success.
            raise ProviderError(provider.name, all_failed_kind(output.failed), detail="no images returned")
        await quiet(
            progress, ProgressEvent("done", elapsed=time.monotonic() - started, provider=provider.name)
        )
        usage = dict(output.usage)
        if output.request_id:
            usage.setdefault("request_id", output.request_id)
        images = output.images[: validated.count]
        posted = tuple(i for i, image in enumerate(images) if any(image.data == s.data for s in shown))
        return images, provider.name, usage, posted

    async def _fail(
        self, job: Job, reservation_id: int, exc: BaseException, *, resumable: bool = False
    ) -> None:
        """Refund everything and record why. Runs even when the job task is cancelled.

        A job cancelled by shutdown() while polling a resumable provider task is the exception:
        it stays 'running' with its reservation held, and the next start resumes it.
        """
        try:
            await self._failed(job, reservation_id, exc, resumable=resumable)
        finally:
            self._delivered(job.id)

    async def _failed(self, job: Job, reservation_id: int, exc: BaseException, *, resumable: bool) -> None:
        if job.id in self._lost or isinstance(exc, LeaseLost):
            # The process that took the job over settles it and answers the user.
            log.warning("job %s: stopped here; another process took it over", job.id)
            self.metrics.job_finished("taken_over", getattr(exc, "provider", None))
            return
        kind = failure_kind(exc)
        detail = one_line(str(exc))[:500]  # any error's text: a platform's, a library's
        if job.id in self._cancelled and isinstance(exc, asyncio.CancelledError):
            self.metrics.job_finished("cancelled", getattr(exc, "provider", None))
            detail = CANCELLED_BY[self._cancelled[job.id]]
            reached = self._reached.get(job.id, 0)

            def cancel() -> Awaitable[int]:
                return self._refund(
                    job.id, reservation_id, "cancelled", detail, cancelled=True, reached=reached
                )

            try:
                await asyncio.shield(cancel())
            except Exception as error:
                self._record_later(job.id, error, cancel)
            finally:
                self._refunded.pop(job.id, asyncio.Event()).set()
            log.info("job %s: cancelled by request; refunded", job.id)
            return
        if isinstance(exc, asyncio.CancelledError):
            kind, detail = "cancelled", "shut down while running"
            if self.draining and resumable and await asyncio.shield(self._checkpointed(job)):
                return
        if isinstance(exc, ProviderError):
            self.metrics.provider_errors.labels(exc.provider, str(exc.kind)).inc()
        self.metrics.job_finished(
            "cancelled" if kind == "cancelled" else "failed", getattr(exc, "provider", None)
        )
        reached = self._reached.get(job.id, 0)
        try:
            charged = await asyncio.shield(self._refund(job.id, reservation_id, str(kind), detail))
        except Exception as error:  # the database: recorded once it answers (held meanwhile)
            self._record_later(
                job.id,
                error,
                lambda: self._refund(job.id, reservation_id, str(kind), detail, reached=reached),
            )
            charged = reached  # what that will charge (said so now, as when it went through)
        if charged and isinstance(exc, SeedbotError):  # images shown before it failed stay theirs
            exc.charged = True
            if isinstance(exc, ProviderError):
                exc.user_text = messages.provider_failed(exc.kind, charged=True)
            elif isinstance(exc, DeliveryError):  # posting stopped after some messages went out
                exc.user_text = messages.delivery_cut_short(charged)
        if isinstance(exc, SeedbotError):
            log.info("job %s failed: %s", job.id, detail)
        elif not isinstance(exc, asyncio.CancelledError):
            log.error("job %s failed unexpectedly", job.id, exc_info=exc)

    async def _checkpointed(self, job: Job) -> bool:
        """True when the job's provider task can be resumed by the next start (left as is)."""
        try:
            current = await self.ledger.get_job(job.id)
        except Exception as exc:
            log_problem(
                log,
                logging.WARNING,
                "job %s: could not read the job to checkpoint it",
                job.id,
                exc=exc,
                expected=database_down,
            )
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

    async def _settle(
        self, job: Job, result: GenerationResult, deliver: Deliver, reservation_id: int
    ) -> tuple[int, Delivery]:
        """The tail every job shares, new or resumed: keep the images while making sure the job is
        still ours with time to deliver and delivering, then charge what reached the user, refund
        the rest and close the job, all only while it is still ours (else LeaseLost: its new owner
        settles)."""
        # Keeping a result (a 3 MB write on the ledger's one thread) queued behind every other
        # job's at a burst, before the delivery; the person waits for none of it now. Whatever
        # reads the images meanwhile waits for them (images_kept), and the job is settled only
        # once they are kept.
        keeping = None
        if result.images:
            keeping = asyncio.ensure_future(self._keep(job.id, result))
            self._keeping[job.id] = keeping
            keeping.add_done_callback(lambda done: self._forget_keeping(job.id, done))

        posted: list[str] = []  # the messages out so far
        writes: list[asyncio.Future[None]] = []  # their counts, on their way to the ledger

        async def record(count: int) -> None:
            try:
                await self.ledger.update_job(job.id, images_delivered=count)
            except Exception as error:  # the close records the count
                log.warning(
                    "job %s: could not record %d image(s) posted: %s", job.id, count, one_line(str(error))
                )

        async def reached(count: int, more: bool, ids: tuple[str, ...]) -> None:
            """A message of the result went out: those images are the person's now, whatever
            stops the rest (charged by _refund), and written: a restart before the job closes
            (the buttons, the placeholder, the images' save still to come) charges them. The
            write is not waited for here: behind a burst's image saves on SQLite's one writer,
            the rest of the delivery waited for it (a third slower at 100 at once)."""
            posted.extend(ids)
            if count <= self._reached.get(job.id, 0):
                return
            self._reached[job.id] = count
            writes.append(asyncio.ensure_future(record(count)))

        try:
            await self._still_ours(job.id)
        except BaseException:
            # (not a DeliveryError: a database that can't renew the lease is no platform refusing)
            if keeping is not None:
                await asyncio.shield(keeping)
            raise
        try:
            self._delivering.add(job.id)
            with listening(reached):
                delivery = await deliver(result)
            if result.images and delivery.delivered <= 0:
                # Nothing reached the person (no image fits the platform's upload limit): a
                # failed delivery, refunded and said, on every surface alike.
                raise DeliveryError(f"job {job.id}: none of {len(result.images)} images could be posted")
        except Exception as exc:
            up = self._reached.get(job.id, 0)
            if isinstance(exc, SeedbotError) or not result.images or up < len(result.images):
                await self._not_delivered(job.id, keeping, writes, exc)
            # Every image is up: what failed after them (the buttons' message, a placeholder's
            # removal, a header's edit) is a blemish, not a delivery that stopped.
            log.warning("job %s: every image posted, then %s: %s", job.id, type(exc).__name__, exc)
            delivery = Delivery(up, tuple(posted))
        except BaseException as exc:
            await self._not_delivered(job.id, keeping, writes, exc)
        delivered = max(0, min(delivery.delivered, len(result.images)))
        self._reached[job.id] = delivered  # theirs now, whatever happens before the close
        status = JobStatus.SUCCEEDED if delivered else JobStatus.FAILED
        used = delivered * result.weight
        # The messages first: a reply to them finds the job at once (and, for its images, waits
        # in images_kept); once the job reads as finished, a reply must find it. Neither is
        # worth the charge: a failed write leaves only the reply unfound.
        try:
            if delivery.message_ids:
                await self.ledger.link_messages(job.id, job.platform, list(delivery.message_ids))
            if delivery.thread_id and delivery.thread_id != job.thread_id:
                await self.ledger.update_job(job.id, thread_id=delivery.thread_id)
        except Exception:
            log.warning("job %s: its messages could not be linked to it", job.id, exc_info=True)
        if keeping is not None:
            await asyncio.shield(keeping)
        for write in writes:  # in before the close, which a late one would otherwise undo
            await asyncio.shield(write)

        def close() -> Awaitable[bool]:
            return self._close(job.id, reservation_id, status, used=used, delivered=delivered)

        try:
            closed = await close()
        except Exception as error:  # the person has the result: its accounting waits for the database
            self._record_later(job.id, error, close)
            closed = True
        if not closed:
            raise LeaseLost(job.id)
        self._delivered(job.id)
        self._count_finished(job, status, result.provider, delivered)
        log.info("job %s: delivered %d/%d via %s", job.id, delivered, result.requested, result.provider)
        return delivered, delivery

    def _record_later(self, job_id: str, error: Exception, record: Callable[[], Awaitable[object]]) -> None:
        """The database failed at a job's close (its settle or refund): try again in the
        background until it answers, the reservation held meanwhile. A process that shuts down
        or closes first (`seedbot generate` waited for ever) tries once more, then leaves the
        job to the next start's recovery. A close that failed on anything but the database's
        state is a bug: not retried, its traceback logged."""
        if not database_down(error):
            log.error("job %s: could not record its end", job_id, exc_info=error)
            return
        log.warning(
            "job %s: the database could not record its end (%s: %s); trying again",
            job_id,
            type(error).__name__,
            one_line(str(error))[:200],
        )

        async def again() -> None:
            delay = 1.0
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), delay)
                try:
                    await record()
                except Exception as exc:
                    if self._closing.is_set() or not database_down(exc):
                        log.warning(
                            "job %s: its end not recorded (%s: %s); the next start records it",
                            job_id,
                            type(exc).__name__,
                            one_line(str(exc))[:200],
                        )
                        return
                    delay = min(delay * 2, RECORD_RETRY_MAX)
                else:
                    log.info("job %s: recorded now that the database answers", job_id)
                    return

        self.in_background(again())

    async def _not_delivered(
        self,
        job_id: str,
        keeping: asyncio.Future[None] | None,
        writes: list[asyncio.Future[None]],
        exc: BaseException,
    ) -> NoReturn:
        """Raise what stopped a delivery (a platform's error as a DeliveryError), once the
        images are kept and the counts posted are in (one landing after the refund's close
        rewrote the job's count)."""
        self._delivering.discard(job_id)
        for pending in (keeping, *writes):
            if pending is not None:
                await asyncio.shield(pending)
        if isinstance(exc, SeedbotError) or not isinstance(exc, Exception):
            raise exc
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc

    def _delivered(self, job_id: str) -> None:
        """The job is closed (or given up): Cancel no longer finds it delivering."""
        self._delivering.discard(job_id)
        self._reached.pop(job_id, None)

    def _forget_keeping(self, job_id: str, done: asyncio.Future[None]) -> None:
        if self._keeping.get(job_id) is done:
            del self._keeping[job_id]

    async def images_kept(self, job_id: str) -> None:
        """Returns once the images of `job_id` are kept, if they are being kept now (its result
        is being delivered); at once otherwise. Whatever reads a result's images right after they
        appear (a reply, a button, `cast save`) waits here the moment the save still needs."""
        keeping = self._keeping.get(job_id)
        if keeping is not None:
            await asyncio.shield(keeping)

    async def _keep(self, job_id: str, result: GenerationResult) -> None:
        """Keep a result's images for edits, re-rolls and variations. A failure here does not
        undo a delivery: the job then reads as one whose images are gone (as after retention)."""
        try:
            await self.ledger.save_outputs(job_id, list(result.images))
        except Exception as exc:
            log_problem(
                log,
                logging.ERROR,
                "job %s: its images could not be kept for edits",
                job_id,
                exc=exc,
                expected=database_down,
            )

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

    async def _refund(
        self,
        job_id: str,
        reservation_id: int,
        kind: str,
        detail: str,
        *,
        cancelled: bool = False,
        reached: int | None = None,
    ) -> int:
        """Refund what did not reach the user; returns the images charged. Images that did (of a
        streamed batch, of the messages posted before a failure) stay charged. `cancelled`: a
        person cancelled the job; it closes as 'cancelled' (never resumed), and what they saw
        of it is charged as ever (else a batch of 15, cancelled at the 14th streamed image, was
        14 images free)."""
        job = await self.ledger.get_job(job_id)
        if cancelled and job is not None and job.status == JobStatus.CANCELLED:
            return job.images_delivered  # closed already, by the process where Cancel was pressed
        if reached is None:
            reached = self._reached.get(job_id, 0)
        shown = max(job.images_delivered if job is not None else 0, reached)
        weight = job.weight if job is not None else 1
        status = JobStatus.SUCCEEDED if shown else JobStatus.FAILED
        if cancelled:
            status = JobStatus.CANCELLED
        await self._close(
            job_id,
            reservation_id,
            status,
            used=shown * weight,
            delivered=shown,
            error_kind=kind,
            error=detail,
        )
        return shown

    async def cancel(self, job: Job, *, by_owner: bool) -> bool:
        """Cancel a queued or running job: out of the line (the others move up), or stopped here
        and at its host when the host has a cancel call (else its result is simply never
        fetched). Refunded at once; it closes as 'cancelled', which a restart leaves alone.
        False when it had already finished (or another process holds it)."""
        current = await self.ledger.get_job(job.id)
        if current is None or current.status not in (JobStatus.QUEUED, JobStatus.RUNNING):
            return False
        if self.delivering(job.id):  # cut short, what was posted was refunded though it arrived
            return False
        task = self._active.get(job.id)
        if task is not None and job.id in self._cancelled:  # pressed twice: the first press answers
            first = self._refunded.get(job.id)
            if first is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(first.wait(), CANCEL_WAIT)
            return False
        if task is not None:
            # The task first: a host's "cancelled" answer must not reach the router as a failure
            # to retry or fail over.
            self._cancelled[job.id] = by_owner
            refunded = self._refunded.setdefault(job.id, asyncio.Event())
            task.cancel()
            with contextlib.suppress(TimeoutError):  # the person is told once it is refunded
                await asyncio.wait_for(refunded.wait(), CANCEL_WAIT)
        elif current.reservation_id is None or not await self._close_cancelled(current, by_owner):
            return False  # (another process took it over meanwhile)
        provider = self.router.get(current.provider) if current.provider else None
        if provider is not None and current.provider_task_id and current.status == JobStatus.RUNNING:
            # In the background: the host may take seconds to answer, and the person is told at
            # once (a Discord button has 3 s: waited for, a slow host made it "This interaction failed").
            self.in_background(self._cancel_at_host(job.id, provider, current.provider_task_id))
        return True

    @staticmethod
    async def _cancel_at_host(job_id: str, provider: Provider, task_id: str) -> None:
        try:
            if await provider.cancel(task_id):
                log.info("job %s: cancelled at %s", job_id, provider.name)
        except Exception:  # its result is dropped anyway
            log.warning("job %s: cancel at %s failed", job_id, provider.name, exc_info=True)

    def delivering(self, job_id: str) -> bool:
        """Whether the job's images are being posted by this process now."""
        return job_id in self._delivering

    def shown(self, job_id: str) -> int:
        """Images of the job this process has put in front of the person so far (0 once it is
        closed): its result is up, though not yet linked or settled."""
        return self._reached.get(job_id, 0)

    async def _close_cancelled(self, job: Job, by_owner: bool) -> bool:
        """A job no task here runs (a restart left it, or another process runs it): close it in
        the ledger, refunded but for the streamed images it showed, if its owner is still the
        one just read. The process running it (if any) sees it closed at its next lease renewal
        and stops it; a result that arrives before then is dropped (the job is no longer its to
        deliver)."""
        assert job.reservation_id is not None
        return await self.ledger.settle_job(
            job.id,
            job.owner or self.owner,
            JobStatus.CANCELLED,
            reservation_id=job.reservation_id,
            used=job.images_delivered * job.weight,
            delivered=job.images_delivered,
            error_kind="cancelled",
            error=CANCELLED_BY[by_owner],
        )


# What `seedbot stats` may list as a failed job's kind: the provider's kinds, a delivery the
# platform refused, a restart that could not resume, a shutdown. Anything unexpected is logged
# with its traceback and counted as `unavailable`.
FAILURE_KINDS = (*(str(k) for k in ProviderErrorKind), "delivery", "restart", "cancelled")


def new_job_id() -> str:
    return secrets.token_hex(6)


_JOB_ID = re.compile(r"[0-9a-f]{4,32}")  # what new_job_id makes, with room for other lengths


def is_job_id(text: str) -> bool:
    """Shaped like a job id. A forged one (a form field, typed text) is none: PostgreSQL refuses
    a NUL in a query's text, so looking it up was an error, not "no such job"."""
    return _JOB_ID.fullmatch(text) is not None


def failure_kind(exc: BaseException) -> str:
    if isinstance(exc, ProviderError):
        return str(exc.kind)
    if isinstance(exc, DeliveryError | LeaseTooShort):  # not delivered (refunded)
        return "delivery"
    if isinstance(exc, asyncio.CancelledError):
        return "cancelled"
    return str(ProviderErrorKind.UNAVAILABLE)

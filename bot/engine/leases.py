"""Job leases, for several processes on one database: each job is claimed by the process
running it and renewed every ttl/3 s; jobs of a dead process are taken over once their lease
expires, and a process that finds one of its jobs taken over stops it without touching it.
Used when the ledger is shared (`Ledger.shared`); a single process on SQLite needs none of it
(recovery at start-up finds everything the last run left)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from typing import TYPE_CHECKING, Any

from bot.errors import LeaseLost, LeaseTooShort
from bot.ledger import database_down
from bot.ledger.base import Ledger
from bot.logs import log_problem
from bot.request.models import Job, JobStatus

__all__ = ["DELIVERY_LEASE_SHARE", "Leases", "lease_for_delivery", "owner_id"]

log = logging.getLogger(__name__)

# A cancelled job's `error`: who cancelled it (read back by a process that was running it).
CANCELLED_BY = {True: "cancelled by its requester", False: "cancelled by an admin"}


def owner_id() -> str:
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


class Leases:
    """The lease part of the Engine (a mixin: it shares the engine's state)."""

    ledger: Ledger
    leases: bool
    owner: str
    lease_ttl: float
    draining: bool
    _active: dict[str, asyncio.Task[Any]]
    _delivering: set[str]
    _lease_task: asyncio.Task[None] | None
    _taking_over: bool
    _lost: set[str]
    _cancelled: dict[str, bool]  # jobs a person cancelled: by their requester (else an admin)
    _last_renewed: float

    if TYPE_CHECKING:  # provided by the other parts of the Engine

        async def _recover_job(self, job: Job) -> bool: ...

    def _start_leases(self) -> None:
        if self._lease_task is None or self._lease_task.done():
            self._last_renewed = time.monotonic()
            self._lease_task = asyncio.create_task(self._lease_loop(), name="seedbot-leases")

    async def _lease_loop(self) -> None:
        while True:
            await asyncio.sleep(self.lease_ttl / 3)
            try:
                await self._renew()
            except Exception as exc:
                log_problem(
                    log, logging.WARNING, "job leases: renewal failed", exc=exc, expected=database_down
                )
                if self._active and time.monotonic() - self._last_renewed > self.lease_ttl:
                    # Our leases may have lapsed: another process may be running these jobs now.
                    log.error("job leases: not renewed for %.0f s; stopping the jobs here", self.lease_ttl)
                    self._drop(list(self._active))
            if self._taking_over and not self.draining:
                try:
                    await self.take_over()
                except Exception as exc:
                    log_problem(
                        log,
                        logging.WARNING,
                        "job leases: take-over failed",
                        exc=exc,
                        expected=database_down,
                    )

    async def _renew(self) -> None:
        running = list(self._active)
        held = set(await self.ledger.renew_leases(self.owner, self.lease_ttl))
        self._last_renewed = time.monotonic()
        lost = []
        for job_id in running:
            if job_id in held or job_id not in self._active:
                continue
            current = await self.ledger.get_job(job_id)
            if current is not None and current.status == JobStatus.CANCELLED:
                if job_id in self._delivering:
                    continue  # cut short now, the person would keep part of a result: let it post
                # Cancel was pressed where another process answered: stop it here too.
                self._cancelled.setdefault(job_id, current.error != CANCELLED_BY[False])
                self._active[job_id].cancel()
            elif current is not None and current.owner not in (None, self.owner):
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

    async def release_leases(self) -> None:
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
            except Exception as exc:
                log_problem(
                    log,
                    logging.WARNING,
                    "could not release job leases; they expire in %.0f s",
                    self.lease_ttl,
                    exc=exc,
                    expected=database_down,
                )
            else:
                if released:
                    log.info("released %d job lease(s) for another process to take over", len(released))

"""The ledger interface: quotas, jobs and lineage. The only place that writes the database.

SQLite (sqlite.py) is the embedded default; PostgreSQL (postgres.py) implements the same
Protocol for several bot processes sharing one database: quotas stay exact across processes,
jobs are leased to the process running them, and platform event dedupe is shared.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from bot import messages
from bot.models import GeneratedImage, ImageInput, Job, JobStatus

__all__ = ["Ledger", "QuotaStatus", "Reservation", "day_key", "month_key", "period_resets"]


def _utc(now: datetime) -> datetime:
    """Periods are UTC days and months: an aware time in another zone is converted, a naive one is UTC."""
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


def day_key(now: datetime) -> str:
    return "d:" + _utc(now).strftime("%Y-%m-%d")


def month_key(now: datetime) -> str:
    return "m:" + _utc(now).strftime("%Y-%m")


def period_resets(now: datetime) -> tuple[datetime, datetime]:
    """When today's and this month's counters reset (UTC midnights)."""
    now = _utc(now)
    day = datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)
    month = datetime(now.year + (now.month == 12), now.month % 12 + 1, 1, tzinfo=UTC)
    return day, month


@dataclass(frozen=True, slots=True)
class Reservation:
    id: int
    user_key: str
    amount: int


@dataclass(frozen=True, slots=True)
class QuotaStatus:
    user_key: str
    unlimited: bool
    blocked: bool
    day_used: int
    day_limit: int | None  # None: no daily cap
    month_used: int
    month_limit: int | None
    day_resets: datetime
    month_resets: datetime

    @property
    def left(self) -> int | None:
        """Images the user can still ask for now (None: unlimited)."""
        if self.unlimited:
            return None
        caps = [
            limit - used
            for limit, used in ((self.day_limit, self.day_used), (self.month_limit, self.month_used))
            if limit is not None
        ]
        return max(0, min(caps)) if caps else None

    def summary(self) -> str:
        if self.blocked:
            return messages.BLOCKED
        return messages.usage_summary(
            unlimited=self.unlimited,
            day_used=self.day_used,
            day_limit=self.day_limit,
            month_used=self.month_used,
            month_limit=self.month_limit,
            day_resets=self.day_resets,
            month_resets=self.month_resets,
        )


class Ledger(Protocol):
    async def open(self) -> None: ...
    async def close(self) -> None: ...

    # quotas
    async def reserve(
        self, user_key: str, amount: int, *, unlimited: bool = False, now: datetime | None = None
    ) -> Reservation:
        """Atomically hold `amount` units, or raise QuotaExceeded / UserBlocked."""
        ...

    async def settle(self, reservation_id: int, used: int) -> None:
        """Commit `used` units and refund the rest. Settling twice changes nothing."""
        ...

    async def quota(
        self, user_key: str, *, unlimited: bool = False, now: datetime | None = None
    ) -> QuotaStatus: ...
    async def set_limits(self, user_key: str, *, daily: int | None, monthly: int | None) -> None: ...
    async def set_blocked(self, user_key: str, blocked: bool) -> None: ...
    async def reset_usage(self, user_key: str, *, now: datetime | None = None) -> None: ...
    async def open_reservations(self) -> int: ...

    # jobs and lineage
    async def create_job(self, job: Job, inputs: tuple[ImageInput, ...]) -> None: ...
    async def update_job(self, job_id: str, **fields: Any) -> None: ...
    async def finish_job(
        self,
        job_id: str,
        status: JobStatus,
        *,
        delivered: int = 0,
        error_kind: str | None = None,
        error: str | None = None,
    ) -> None: ...
    async def get_job(self, job_id: str) -> Job | None: ...
    async def link_messages(self, job_id: str, platform: str, message_ids: list[str]) -> None: ...
    async def job_for_message(self, platform: str, message_id: str) -> Job | None: ...
    async def latest_in_thread(self, platform: str, channel_id: str, thread_id: str | None) -> Job | None: ...
    async def unfinished_jobs(self) -> list[Job]: ...
    async def jobs_for_user(self, user_key: str, limit: int = 10) -> list[Job]: ...
    async def save_outputs(self, job_id: str, images: list[GeneratedImage]) -> None: ...
    async def job_inputs(self, job_id: str) -> list[ImageInput]: ...
    async def job_outputs(self, job_id: str) -> list[ImageInput]: ...

    # job leases: a running job belongs to one process, which keeps renewing its lease
    async def claim_job(self, job_id: str, owner: str, ttl: float) -> bool:
        """Lease an unfinished job to `owner` for `ttl` seconds. True if `owner` now holds it:
        the job was unowned, already `owner`'s, or its previous lease had expired."""
        ...

    async def renew_leases(self, owner: str, ttl: float) -> list[str]:
        """Extend every unfinished job `owner` still holds; returns their ids. A job missing from
        the answer was taken over by another process: stop working on it."""
        ...

    async def take_over_expired(self, owner: str, ttl: float, limit: int = 10) -> list[Job]:
        """Lease to `owner` up to `limit` unfinished jobs whose lease has expired (their process
        died), or that nobody claimed within `ttl` of their creation. Each job goes to exactly
        one caller, however many processes ask at once."""
        ...

    # platform events (Slack retries): dedupe shared by every process on the database
    async def first_sighting(self, key: str) -> bool:
        """True the first time `key` is seen (within the retention window), False for repeats."""
        ...

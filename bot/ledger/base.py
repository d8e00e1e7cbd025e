"""The ledger interface: quotas, jobs and lineage. The only place that writes the database.

SQLite (sqlite.py) is the embedded default; PostgreSQL (postgres.py) implements the same
Protocol for several bot processes sharing one database: quotas stay exact across processes,
jobs are leased to the process running them, and platform event dedupe is shared.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

import asyncpg

from bot import messages
from bot.errors import LedgerUnavailable, QuotaExceeded, SeedbotError, UserBlocked
from bot.request.models import GeneratedImage, ImageInput, Job, JobStatus

__all__ = [
    "AuditEntry",
    "CastEntry",
    "Ledger",
    "OpenMode",
    "Pool",
    "QuotaStatus",
    "Reservation",
    "StatsRow",
    "StyleRow",
    "WriteFailure",
    "blob_keys",
    "day_key",
    "digests",
    "month_key",
    "newer_schema",
    "output_key",
    "output_of",
    "period_resets",
    "refusal",
]

# How a command opens the ledger:
# - "write": create the database if it is missing (SQLite), apply migrations;
# - "read": read-only commands (stats, audit, quota show, settings): a missing SQLite file is
#   refused with one line, nothing is created (an existing one is still migrated: the queries
#   need the current schema);
# - "run": `seedbot run`: as "write", and on SQLite the file is this process's alone (an
#   exclusive lock on <file>.lock): a second process would neither see the first one's jobs as
#   running nor take them over (leases are PostgreSQL's).
OpenMode = Literal["write", "read", "run"]


# What SQLite says when it can't be used right now (locked past its busy timeout, its disk full or
# read-only, an I/O error, a damaged file): words of sqlite3's messages. Its OperationalError also
# says "no such column", a bug, whose traceback must stay.
_SQLITE_DOWN = (
    "locked",
    "busy",
    "full",
    "readonly",
    "read-only",
    "disk i/o",
    "unable to open",
    "malformed",
    "not a database",
)


def database_down(exc: BaseException) -> bool:
    """Whether `exc` says the database can't be used right now (PostgreSQL down or refusing
    connections, SQLite locked or full), not that a statement was wrong: a caller that can go on
    without the ledger (answer an event, retry a close, log one line) does so only then."""
    if isinstance(exc, sqlite3.OperationalError) or type(exc) is sqlite3.DatabaseError:
        return any(word in str(exc).lower() for word in _SQLITE_DOWN)
    if isinstance(exc, asyncpg.PostgresError):
        # Connection (08), too many connections or out of resources (53), shut down or starting
        # (57P), a database not accepting connections (55000); not a statement's error.
        state = str(getattr(exc, "sqlstate", "") or "")
        return state.startswith(("08", "53", "57P")) or state == "55000"
    return isinstance(exc, (asyncpg.InterfaceError, ConnectionError, TimeoutError, socket.gaierror))


# Up to this many bytes, blobs are hashed on the event loop (~0.2 ms): a thread hop would cost
# about as much. A 3 MB result takes ~3 ms, which the loop should not spend.
INLINE_HASH_BYTES = 256 * 1024


def _sha256(datas: Sequence[bytes]) -> list[str]:
    return [hashlib.sha256(data).hexdigest() for data in datas]


async def digests(datas: Sequence[bytes]) -> list[str]:
    """The sha256 (hex) of each blob, the key it is kept under: once per image, computed before
    the ledger's transaction, on a worker thread when they are large (hashlib lets go of the
    GIL, so the loop goes on meanwhile)."""
    if sum(len(d) for d in datas) <= INLINE_HASH_BYTES:
        return _sha256(datas)
    return await asyncio.to_thread(_sha256, datas)


async def blob_keys(images: Sequence[ImageInput]) -> list[str]:
    """The key each image is kept under: the one it was read from the ledger with, else the
    sha256 of its bytes (`digests`), so an upload sent twice is kept once."""
    missing = [image.data for image in images if image.blob is None]
    hashed = iter(await digests(missing) if missing else [])
    return [image.blob if image.blob is not None else next(hashed) for image in images]


def output_key(job_id: str, position: int) -> str:
    """The key a result's image is kept under. A result is new bytes, never an upload seen
    before, so hashing it (~2 ms for 3 MB) would find nothing to share; the key is unique and
    cannot be taken for a sha256 (which is hex), and the same on a resumed delivery."""
    return f"result:{job_id}:{position}"


def output_of(key: str) -> tuple[str, int] | None:
    """The job and position whose result image is kept under `key` (output_key's inverse)."""
    kind, _, rest = key.partition(":")
    job_id, _, position = rest.rpartition(":")
    if kind != "result" or not job_id or not position.isdigit():
        return None
    return job_id, int(position)


def newer_schema(applied: set[int], known: int, where: str) -> LedgerUnavailable | None:
    """The refusal to use a database a newer seedbot migrated (its numbered migrations would not
    match what this code expects), or None."""
    newest = max(applied, default=0)
    if newest <= known:
        return None
    return LedgerUnavailable(
        f"{where} is at schema version {newest}, but this seedbot knows versions up to {known}: "
        "a newer seedbot migrated it. Run that newer seedbot, or restore the backup taken before "
        "the upgrade."
    )


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
class WriteFailure:
    """Writes to the database fail while reads may still answer (SQLite in WAL mode with its
    disk full, or its write lock held past the busy timeout): since when, and the error."""

    since: datetime
    reason: str


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
    granted: int = 0  # extra units granted for today, already included in day_limit and month_limit
    by_operator: bool = False  # the block and limits are an operator's (server admins can't lift them)

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
            granted=self.granted,
        )


@dataclass(frozen=True, slots=True)
class Pool:
    """A shared daily allowance a reservation also draws on (a server's or workspace's)."""

    key: str  # its usage row: quota_usage (key, day), e.g. "pool:discord:123"
    daily: int


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: str  # ISO 8601 UTC
    actor: str  # user key of who made the change ("cli:<name>" from the CLI)
    action: str  # "quota.set", "quota.grant", "settings.set", ...
    target: str  # user key or workspace
    detail: str


@dataclass(frozen=True, slots=True)
class StatsRow:
    """Jobs grouped by user, provider, status and failure kind (see Ledger.job_stats)."""

    user_key: str
    provider: str | None
    status: str
    error_kind: str | None
    jobs: int
    images: int


@dataclass(frozen=True, slots=True)
class StyleRow:
    """A workspace's own style preset as stored; `hidden` with no suffix hides a built-in."""

    name: str
    suffix: str = ""
    aspect: str | None = None
    resolution: str | None = None
    model: str | None = None
    hidden: bool = False


@dataclass(frozen=True, slots=True)
class CastEntry:
    """A saved reference image: `owner` is a user key, or "workspace:<workspace>"."""

    owner: str
    name: str
    image: ImageInput
    created_at: str


def refusal(status: QuotaStatus, amount: int, pool: Pool | None, pool_used: int) -> SeedbotError:
    """Why a reservation of `amount` was refused, for the user's message (the user's own limits
    first, then the pool)."""
    if status.blocked:
        return UserBlocked()
    if status.day_limit is not None and status.day_used + amount > status.day_limit:
        return QuotaExceeded(
            scope="daily",
            limit=status.day_limit,
            used=status.day_used,
            resets_at=status.day_resets,
            asked=amount,
        )
    if status.month_limit is not None and status.month_used + amount > status.month_limit:
        return QuotaExceeded(
            scope="monthly",
            limit=status.month_limit,
            used=status.month_used,
            resets_at=status.month_resets,
            asked=amount,
        )
    if pool is not None:
        return QuotaExceeded(
            scope="pool",
            limit=pool.daily,
            used=pool_used,
            resets_at=status.day_resets,
            asked=amount,
        )
    return QuotaExceeded(
        scope="daily",
        limit=status.day_limit or 0,
        used=status.day_used,
        resets_at=status.day_resets,
        asked=amount,
    )


# The jobs columns in the order job_values() gives and job_from_row() reads, for both backends.
JOB_COLUMNS = (
    "id, user_key, platform, status, kind, prompt, model, request_json, workspace_id, channel_id, "
    "thread_id, message_id, provider, provider_task_id, reservation_id, images_requested, "
    "images_delivered, parent_id, error_kind, error, created_at, finished_at, duration_ms, owner, lease_expires_at, "
    "deleted_at"
)
JOB_COUNT = JOB_COLUMNS.count(",") + 1
UNFINISHED = "status IN ('queued', 'running')"
# Columns Ledger.update_job may set.
LIMIT_COLUMNS = ("daily", "monthly")  # what set_limits may set
# After an operator's change: the row is the operator's while it holds a block or a limit (one
# that lifts them all gives the person back to the bot's defaults, which anyone may tighten).
OPERATOR_MARK = "by_operator = (blocked OR daily IS NOT NULL OR monthly IS NOT NULL)"
JOB_UPDATABLE = frozenset(
    {
        "status",
        "provider",
        "provider_task_id",
        "reservation_id",
        "started_at",
        "thread_id",
        "message_id",
        "channel_id",
        "error_kind",
        "error",
        "images_delivered",  # streamed images, counted as each reaches the user
    }
)


def job_values(
    job: Job, *, now: Any, time_value: Callable[[str | None], Any] = lambda v: v
) -> tuple[Any, ...]:
    """A Job as the values of JOB_COLUMNS; `time_value` turns its ISO times into the backend's."""
    return (
        job.id,
        job.user_key,
        job.platform,
        str(job.status),
        job.kind,
        job.prompt,
        job.model,
        json.dumps(job.request),
        job.workspace_id,
        job.channel_id,
        job.thread_id,
        job.message_id,
        job.provider,
        job.provider_task_id,
        job.reservation_id,
        job.images_requested,
        job.images_delivered,
        job.parent_id,
        job.error_kind,
        job.error,
        time_value(job.created_at or None) or now,
        time_value(job.finished_at),
        job.duration_ms,
        job.owner,
        time_value(job.lease_expires_at),
        time_value(job.deleted_at),
    )


def image_from_row(row: Any) -> ImageInput:
    """A job_images row joined with its blob (either backend) as a reference image."""
    return ImageInput(
        data=bytes(row["data"]),
        mime=row["mime"],
        width=row["width"],
        height=row["height"],
        name=row["name"] or "",  # a result's image has none: named where it is shown
        url=row["url"],
        source=row["source"],
        blob=row["sha256"],
    )


def _as_text(value: Any) -> str | None:
    return None if value is None else str(value)


def job_from_row(
    row: Any, message_ids: tuple[str, ...] = (), *, time_text: Callable[[Any], str | None] = _as_text
) -> Job:
    """A jobs row (either backend's row type; both index by column name) as a Job.
    `time_text` turns the backend's timestamps into the model's ISO 8601 text."""
    return Job(
        id=row["id"],
        user_key=row["user_key"],
        platform=row["platform"],
        status=JobStatus(row["status"]),
        kind=row["kind"],
        prompt=row["prompt"],
        model=row["model"],
        request=json.loads(row["request_json"]),
        workspace_id=row["workspace_id"],
        channel_id=row["channel_id"],
        thread_id=row["thread_id"],
        message_id=row["message_id"],
        provider=row["provider"],
        provider_task_id=row["provider_task_id"],
        reservation_id=row["reservation_id"],
        images_requested=row["images_requested"],
        images_delivered=row["images_delivered"],
        parent_id=row["parent_id"],
        error_kind=row["error_kind"],
        error=row["error"],
        created_at=time_text(row["created_at"]) or "",
        finished_at=time_text(row["finished_at"]),
        duration_ms=row["duration_ms"],
        result_message_ids=message_ids,
        owner=row["owner"],
        lease_expires_at=time_text(row["lease_expires_at"]),
        deleted_at=time_text(row["deleted_at"]),
    )


class Ledger(Protocol):
    # Several processes may share this database at once (PostgreSQL): jobs then carry leases.
    shared: bool

    async def open(self) -> None: ...
    async def close(self) -> None: ...

    @property
    def write_failure(self) -> WriteFailure | None:
        """While writes fail on a database error (the last one did; the next that succeeds
        clears it): `/healthz` reports the database down, which a read alone would not see."""
        ...

    # quotas
    async def reserve(
        self,
        user_key: str,
        amount: int,
        *,
        unlimited: bool = False,
        now: datetime | None = None,
        pool: Pool | None = None,
    ) -> Reservation:
        """Atomically hold `amount` units (of the user's quota and of `pool` if given), or raise
        QuotaExceeded (scope daily, monthly or pool) / UserBlocked. `unlimited` skips the limits
        (the units are still counted, in the pool too)."""
        ...

    async def settle(self, reservation_id: int, used: int) -> None:
        """Commit `used` units and refund the rest. Settling twice changes nothing."""
        ...

    async def quota(
        self, user_key: str, *, unlimited: bool = False, now: datetime | None = None
    ) -> QuotaStatus: ...
    async def set_limits(self, user_key: str, *, by_operator: bool = False, **limits: int | None) -> None:
        """Set the user's own `daily` and/or `monthly` limit (None: the bot's default again). A
        limit not named is left as it is: two admins changing one each keep both changes. A
        change `by_operator` marks the row the operator's while it holds a block or a limit
        (QuotaStatus.by_operator); a server admin's change leaves the mark as it is."""
        ...

    async def set_blocked(self, user_key: str, blocked: bool, *, by_operator: bool = False) -> None:
        """Block or unblock the user (`by_operator`: as set_limits)."""
        ...

    async def reset_usage(self, user_key: str, *, now: datetime | None = None) -> None: ...
    async def open_reservations(self) -> int: ...
    async def grant(self, user_key: str, extra: int, *, now: datetime | None = None) -> int:
        """Add `extra` units to the user's limit for today (UTC); returns today's total grant."""
        ...

    async def pool_used(self, pool_key: str, *, now: datetime | None = None) -> int: ...

    # community: per-workspace settings, the admin audit trail, stats
    async def workspace_settings(self, workspace: str) -> dict[str, Any]: ...
    async def set_workspace_settings(self, workspace: str, values: dict[str, Any]) -> None: ...
    async def change_workspace_settings(
        self, workspace: str, change: Callable[[dict[str, Any]], dict[str, Any]]
    ) -> dict[str, Any]:
        """Store `change(settings now)` in one transaction and return it: two admins changing two
        settings at once keep both (a read, then a write of the whole, lost one of them)."""
        ...

    async def record_audit(self, actor: str, action: str, target: str, detail: str = "") -> None: ...
    async def audit_entries(self, *, target: str | None = None, limit: int = 20) -> list[AuditEntry]:
        """Newest first."""
        ...

    async def job_stats(
        self, since: datetime, *, platform: str | None = None, workspace_id: str | None = None
    ) -> list[StatsRow]:
        """Jobs created since `since` (of one workspace if given), grouped by user, provider,
        status and error kind; `images` is the images delivered."""
        ...

    # style presets (a workspace's own; the built-ins are code) and the saved cast
    async def styles(self, workspace: str) -> list[StyleRow]:
        """A workspace's own styles and hidden built-ins, by name."""
        ...

    async def put_style(self, workspace: str, style: StyleRow) -> None: ...
    async def delete_style(self, workspace: str, name: str) -> bool:
        """False: there was no such row."""
        ...

    async def cast(self, owner: str) -> list[CastEntry]:
        """`owner`'s cast entries with their images, by name."""
        ...

    async def cast_entry(self, owner: str, name: str) -> CastEntry | None: ...
    async def save_cast(self, owner: str, name: str, image: ImageInput, limit: int) -> bool:
        """Keep `image` under `name` (replacing an entry of that name), atomically refused
        (False) when `owner` already has `limit` other entries. The image is kept until the
        entry is removed, whatever the retention."""
        ...

    async def remove_cast(self, owner: str, name: str) -> bool:
        """False: no such entry. Its image goes too, unless a job or another entry still uses it."""
        ...

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
    async def settle_job(
        self,
        job_id: str,
        owner: str,
        status: JobStatus,
        *,
        reservation_id: int | None,
        used: int = 0,
        delivered: int = 0,
        error_kind: str | None = None,
        error: str | None = None,
    ) -> bool:
        """Settle the job's reservation (commit `used`, refund the rest) and finish the job, in
        one transaction, only while the job is unfinished and `owner` holds it (or nobody does:
        SQLite without leases). False: another process took it over (or finished it); nothing
        was changed, the job is that process's to settle."""
        ...

    async def get_job(self, job_id: str) -> Job | None: ...
    async def link_messages(self, job_id: str, platform: str, message_ids: list[str]) -> None: ...
    async def job_for_message(self, platform: str, message_id: str) -> Job | None:
        """The job whose result that message shows, or else the newest job answering in it (the
        bot's status message while a job is at work)."""
        ...

    async def mark_deleted(self, job_id: str) -> None:
        """Its result was deleted: the newest result of a thread, or a person's, is another now."""
        ...

    async def latest_in_thread(self, platform: str, channel_id: str, thread_id: str | None) -> Job | None:
        """The newest result (not deleted) in that thread."""
        ...

    async def working_in_thread(self, platform: str, channel_id: str, thread_id: str) -> Job | None:
        """The newest job in that thread still queued or running, if any."""
        ...

    async def unfinished_jobs(self) -> list[Job]: ...
    async def jobs_for_user(self, user_key: str, limit: int = 10) -> list[Job]: ...
    async def save_outputs(self, job_id: str, images: list[GeneratedImage]) -> None: ...
    async def job_inputs(self, job_id: str) -> list[ImageInput]: ...
    async def job_outputs(self, job_id: str) -> list[ImageInput]: ...
    async def expire_images(self, before: datetime, limit: int = 200) -> tuple[int, int]:
        """Forget the reference and result images of up to `limit` finished jobs created before
        `before`, and the blobs no other job and no cast entry uses. Returns (jobs, blobs) removed; the jobs' rows
        stay (history, stats, lineage)."""
        ...

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

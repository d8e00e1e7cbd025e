"""The PostgreSQL ledger (asyncpg): several bot processes sharing one database.

Same Protocol as the SQLite ledger (base.py), same numbered migrations (migrations/postgres/,
applied at start-up under an advisory lock so replicas starting together apply each once).

Concurrency across processes comes from row locks, never from the process:
- a reservation is one call of `ledger_reserve()` (001_initial.sql), which locks the user's day
  and month counter rows `FOR UPDATE` before checking the limits, so two processes can never
  both spend the last unit;
- settle is one conditional UPDATE (`... WHERE state = 'reserved'`): a second settle, from any
  process, finds nothing to do; the engine settles and finishes a job in one transaction that
  applies only while its process still holds the job's lease (settle_job);
- job leases are conditional UPDATEs; take-over picks expired jobs with `FOR UPDATE SKIP LOCKED`
  so concurrent callers split them and none is handed to two processes;
- event dedupe is one `INSERT ... ON CONFLICT` on a primary key.
Lease and event times use the database clock (`now()`), so replicas' clock skew does not matter.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import asyncpg

from bot.config import postgres_url_problem
from bot.errors import LedgerUnavailable
from bot.ledger.base import (
    JOB_COLUMNS,
    JOB_COUNT,
    JOB_UPDATABLE,
    LIMIT_COLUMNS,
    OPERATOR_MARK,
    UNFINISHED,
    AuditEntry,
    CastEntry,
    OpenMode,
    Pool,
    QuotaStatus,
    Reservation,
    StatsRow,
    StyleRow,
    WriteFailure,
    blob_keys,
    day_key,
    image_from_row,
    job_from_row,
    job_values,
    month_key,
    newer_schema,
    output_key,
    period_resets,
    refusal,
)
from bot.logs import NetworkNotices, quiet_library
from bot.request.models import GeneratedImage, ImageInput, Job, JobStatus

__all__ = ["PostgresLedger", "is_postgres_url"]

log = logging.getLogger(__name__)

_TIME_COLUMNS = {"started_at"}
# pg_advisory_xact_lock key serialising migrations between replicas starting at once.
_MIGRATION_LOCK = 0x5EED_B07
_UNREADABLE = (
    "the URL can't be read: write it as postgresql://USER:PASSWORD@HOST:PORT/DB, with special "
    "characters in the password percent-encoded (/ is %2F)"
)


def is_postgres_url(database: str) -> bool:
    return database.startswith(("postgresql://", "postgres://"))


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat(timespec="milliseconds")


def _time(value: str | datetime | None) -> datetime | None:
    """Job times arrive as ISO 8601 text (the Job model's form); timestamptz wants datetimes."""
    if value is None or isinstance(value, datetime):
        return value
    moment = datetime.fromisoformat(value)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _where(dsn: str) -> str:
    """host:port/database of a postgresql:// URL, for messages (the user and password left out).

    The host follows the last "@", as doctor's without_password reads it: urlsplit ends the host
    at the first / ? or #, which a password may hold, and showed the password in its place."""
    server = re.split(r"[?#]", dsn.partition("://")[2].rpartition("@")[2], maxsplit=1)[0]
    host, _, database = server.partition("/")  # as written: a bad port shows too
    return f"{host or 'localhost'}/{database}"


# asyncpg's pool logs every failed attempt to restore its floor connection with a traceback
# (each 1 to 60 s through an outage): one WARNING line each, as the chat libraries' reconnects.
_NOTICES = NetworkNotices(
    "postgresql", notices=("Failed to restore the pool connection floor",), drop=lambda _: False
)


class PostgresLedger:
    shared = True  # several processes on one database

    def __init__(
        self,
        dsn: str,
        *,
        daily_limit: int,
        monthly_limit: int,
        min_connections: int = 1,
        max_connections: int = 10,
        event_retention: float = 86400.0,
        prune_every: float = 60.0,
        mode: OpenMode = "write",
    ) -> None:
        self.dsn = dsn
        self.mode = mode  # the database exists and is shared by design: every mode opens it alike
        self.daily_limit = daily_limit
        self.monthly_limit = monthly_limit
        self.min_connections = min_connections
        self.max_connections = max_connections
        self.event_retention = event_retention  # how long first_sighting remembers a key (seconds)
        self.prune_every = prune_every
        self._last_prune = float("-inf")
        self._pool: Any = None

    @property
    def write_failure(self) -> WriteFailure | None:
        # Not tracked: PostgreSQL down or refusing connections fails the health probe's read
        # too (a server whose own disk is full is for the server's monitoring).
        return None

    @property
    def pool(self) -> Any:
        if self._pool is None:
            raise RuntimeError("ledger is not open")
        return self._pool

    async def open(self) -> None:
        quiet_library(_NOTICES, on=("asyncpg.pool",), capped=())
        try:
            self._pool = await asyncpg.create_pool(
                self.dsn,
                min_size=self.min_connections,
                max_size=self.max_connections,
                server_settings={"application_name": "seedbot", "timezone": "UTC"},
            )
        except (
            OSError,
            TimeoutError,
            ValueError,
            OverflowError,
            asyncpg.PostgresError,
            asyncpg.InterfaceError,
        ) as exc:
            # A server down, a wrong password or database: one line, never the password. A URL
            # that can't be parsed is a plain ValueError quoting the text around the password.
            if isinstance(exc, ValueError) and not isinstance(exc, asyncpg.InterfaceError):
                reason = postgres_url_problem(self.dsn) or _UNREADABLE
            else:
                reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            raise LedgerUnavailable(
                f"could not connect to PostgreSQL at {_where(self.dsn)} (SEEDBOT_DATABASE): {reason}"
            ) from exc
        try:
            await self._migrate()
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    async def _migrate(self) -> None:
        folder = resources.files("bot.ledger") / "migrations" / "postgres"
        scripts = sorted(
            (int(entry.name.split("_", 1)[0]), entry)
            for entry in folder.iterdir()
            if entry.name.endswith(".sql")
        )
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {row[0] for row in await conn.fetch("SELECT version FROM schema_migrations")}
            refused = newer_schema(done, scripts[-1][0], "the PostgreSQL database")
            if refused is not None:
                raise refused
            for version, entry in scripts:
                if version in done:
                    continue
                log.info("applying migration %s", entry.name)
                await conn.execute(entry.read_text(encoding="utf-8"))
                await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", version)

    async def _one(self, sql: str, *params: Any) -> Any:
        return await self.pool.fetchrow(sql, *params)

    async def _rows(self, sql: str, *params: Any) -> list[Any]:
        return list(await self.pool.fetch(sql, *params))

    # -- quotas -------------------------------------------------------------------------------

    async def reserve(
        self,
        user_key: str,
        amount: int,
        *,
        unlimited: bool = False,
        now: datetime | None = None,
        pool: Pool | None = None,
    ) -> Reservation:
        now = now or _now()
        reservation_id = await self.pool.fetchval(
            "SELECT ledger_reserve_pooled($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            user_key,
            day_key(now),
            month_key(now),
            amount,
            unlimited,
            self.daily_limit,
            self.monthly_limit,
            now,
            pool.key if pool else None,
            pool.daily if pool else 0,
        )
        if reservation_id is not None:
            return Reservation(int(reservation_id), user_key, amount)
        # Refused: work out why, for the user's message.
        status = await self.quota(user_key, now=now)
        used = await self.pool_used(pool.key, now=now) if pool else 0
        raise refusal(status, amount, pool, used)

    _SETTLE_SQL = (
        "UPDATE reservations SET used = GREATEST(0, LEAST($1::integer, amount)), state = 'settled', "
        "settled_at = now() WHERE id = $2 AND state = 'reserved'"
    )

    async def settle(self, reservation_id: int, used: int) -> None:
        await self.pool.execute(self._SETTLE_SQL, used, reservation_id)

    async def quota(
        self, user_key: str, *, unlimited: bool = False, now: datetime | None = None
    ) -> QuotaStatus:
        now = now or _now()
        day, month = day_key(now), month_key(now)
        row = await self._one(
            "SELECT l.daily, l.monthly, COALESCE(l.blocked, false) AS blocked, "
            "  COALESCE(l.by_operator, false) AS by_operator, "
            "  COALESCE((SELECT used FROM quota_usage WHERE user_key = $1 AND period = $2), 0) AS day_used, "
            "  COALESCE((SELECT used FROM quota_usage WHERE user_key = $1 AND period = $3), 0) AS month_used, "
            "  COALESCE((SELECT extra FROM quota_grants WHERE user_key = $1 AND day = $2), 0) AS granted "
            "FROM (SELECT 1) AS one LEFT JOIN quota_limits l ON l.user_key = $1",
            user_key,
            day,
            month,
        )
        daily = self.daily_limit if row["daily"] is None else int(row["daily"])
        monthly = self.monthly_limit if row["monthly"] is None else int(row["monthly"])
        day_resets, month_resets = period_resets(now)
        granted = int(row["granted"])
        return QuotaStatus(
            user_key=user_key,
            unlimited=unlimited,
            blocked=bool(row["blocked"]),
            day_used=int(row["day_used"]),
            day_limit=None if unlimited else daily + granted,
            month_used=int(row["month_used"]),
            month_limit=None if unlimited else monthly + granted,
            day_resets=day_resets,
            month_resets=month_resets,
            granted=granted,
            by_operator=bool(row["by_operator"]),
        )

    async def _mark(self, conn: Any, user_key: str, by_operator: bool) -> None:
        if by_operator:
            await conn.execute(f"UPDATE quota_limits SET {OPERATOR_MARK} WHERE user_key = $1", user_key)

    async def set_limits(self, user_key: str, *, by_operator: bool = False, **limits: int | None) -> None:
        columns = [name for name in LIMIT_COLUMNS if name in limits]
        assert columns and len(columns) == len(limits), limits
        named = ", ".join(columns)
        values = ", ".join(f"${n}" for n in range(2, len(columns) + 2))
        updates = ", ".join(f"{name} = excluded.{name}" for name in columns)
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                f"INSERT INTO quota_limits (user_key, {named}, updated_at) VALUES ($1, {values}, now()) "
                f"ON CONFLICT (user_key) DO UPDATE SET {updates}, updated_at = excluded.updated_at",
                user_key,
                *(limits[name] for name in columns),
            )
            await self._mark(conn, user_key, by_operator)

    async def set_blocked(self, user_key: str, blocked: bool, *, by_operator: bool = False) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO quota_limits (user_key, blocked, updated_at) VALUES ($1, $2, now()) "
                "ON CONFLICT (user_key) DO UPDATE SET blocked = excluded.blocked, updated_at = excluded.updated_at",
                user_key,
                blocked,
            )
            await self._mark(conn, user_key, by_operator)

    async def reset_usage(self, user_key: str, *, now: datetime | None = None) -> None:
        """Forget what was committed today and this month (open reservations stay held)."""
        now = now or _now()
        async with self.pool.acquire() as conn, conn.transaction():
            # Day first, then month: the lock order every writer of these rows follows.
            for period, column in ((day_key(now), "day"), (month_key(now), "month")):
                await conn.execute(
                    "SELECT 1 FROM quota_usage WHERE user_key = $1 AND period = $2 FOR UPDATE",
                    user_key,
                    period,
                )
                await conn.execute(
                    "UPDATE quota_usage SET used = (SELECT COALESCE(SUM(amount), 0) FROM reservations "
                    f"  WHERE user_key = $1 AND {column} = $2 AND state = 'reserved') "
                    "WHERE user_key = $1 AND period = $2",
                    user_key,
                    period,
                )

    async def open_reservations(self) -> int:
        return int(await self.pool.fetchval("SELECT COUNT(*) FROM reservations WHERE state = 'reserved'"))

    async def grant(self, user_key: str, extra: int, *, now: datetime | None = None) -> int:
        total = await self.pool.fetchval(
            "INSERT INTO quota_grants AS g (user_key, day, extra) VALUES ($1, $2, $3) "
            "ON CONFLICT (user_key, day) DO UPDATE SET extra = g.extra + excluded.extra RETURNING extra",
            user_key,
            day_key(now or _now()),
            int(extra),
        )
        return int(total)

    async def pool_used(self, pool_key: str, *, now: datetime | None = None) -> int:
        used = await self.pool.fetchval(
            "SELECT used FROM quota_usage WHERE user_key = $1 AND period = $2",
            pool_key,
            day_key(now or _now()),
        )
        return int(used or 0)

    # -- community: workspace settings, audit, stats ------------------------------------------------

    async def workspace_settings(self, workspace: str) -> dict[str, Any]:
        raw = await self.pool.fetchval(
            "SELECT settings_json FROM workspace_settings WHERE workspace = $1", workspace
        )
        return dict(json.loads(raw)) if raw else {}

    async def set_workspace_settings(self, workspace: str, values: dict[str, Any]) -> None:
        await self.pool.execute(
            "INSERT INTO workspace_settings (workspace, settings_json, updated_at) VALUES ($1, $2, now()) "
            "ON CONFLICT (workspace) DO UPDATE SET settings_json = excluded.settings_json, "
            "updated_at = excluded.updated_at",
            workspace,
            json.dumps(values, sort_keys=True),
        )

    async def change_workspace_settings(
        self, workspace: str, change: Callable[[dict[str, Any]], dict[str, Any]]
    ) -> dict[str, Any]:
        async with self.pool.acquire() as conn, conn.transaction():
            # The row first, so that two first changes lock the same one.
            await conn.execute(
                "INSERT INTO workspace_settings (workspace, settings_json, updated_at) VALUES ($1, '{}', now()) "
                "ON CONFLICT (workspace) DO NOTHING",
                workspace,
            )
            raw = await conn.fetchval(
                "SELECT settings_json FROM workspace_settings WHERE workspace = $1 FOR UPDATE", workspace
            )
            values = change(dict(json.loads(raw)) if raw else {})
            await conn.execute(
                "UPDATE workspace_settings SET settings_json = $2, updated_at = now() WHERE workspace = $1",
                workspace,
                json.dumps(values, sort_keys=True),
            )
        return values

    async def record_audit(self, actor: str, action: str, target: str, detail: str = "") -> None:
        await self.pool.execute(
            "INSERT INTO admin_audit (at, actor, action, target, detail) VALUES (now(), $1, $2, $3, $4)",
            actor,
            action,
            target,
            detail,
        )

    async def audit_entries(self, *, target: str | None = None, limit: int = 20) -> list[AuditEntry]:
        rows = await self._rows(
            "SELECT id, at, actor, action, target, detail FROM admin_audit "
            f"WHERE $1::text IS NULL OR target = $1 ORDER BY id DESC LIMIT {int(limit)}",
            target,
        )
        return [
            AuditEntry(int(r["id"]), _iso(r["at"]) or "", r["actor"], r["action"], r["target"], r["detail"])
            for r in rows
        ]

    async def job_stats(
        self, since: datetime, *, platform: str | None = None, workspace_id: str | None = None
    ) -> list[StatsRow]:
        rows = await self._rows(
            "SELECT user_key, provider, status, error_kind, COUNT(*) AS jobs, "
            "COALESCE(SUM(images_delivered), 0) AS images FROM jobs WHERE created_at >= $1 "
            "AND ($2::text IS NULL OR platform = $2) AND ($3::text IS NULL OR workspace_id = $3) "
            "GROUP BY user_key, provider, status, error_kind "
            "ORDER BY user_key, provider NULLS FIRST, status, error_kind NULLS FIRST",
            since,
            platform,
            workspace_id,
        )
        return [
            StatsRow(
                r["user_key"], r["provider"], r["status"], r["error_kind"], int(r["jobs"]), int(r["images"])
            )
            for r in rows
        ]

    # -- jobs -----------------------------------------------------------------------------------

    @staticmethod
    async def _put_blob(
        conn: Any, digest: str, data: bytes, mime: str, width: int, height: int, name: str
    ) -> None:
        """Keep a blob under its key (`blob_keys` or `output_key`, found before the transaction),
        held (a key-share lock) until the transaction that uses it commits.

        One already kept takes no lock from the insert that conflicts with it: retention could
        delete it before this transaction's row naming it, which then failed on the foreign key
        (an edit of an old result, or an image sent again, during the hourly pass). Locked, a
        delete waits and then fails on the key; deleted first, the blob is written again."""
        for _ in range(3):
            await conn.execute(
                "INSERT INTO blobs (sha256, mime, width, height, name, data, created_at) "
                "VALUES ($1, $2, $3, $4, $5, $6, now()) ON CONFLICT (sha256) DO NOTHING",
                digest,
                mime,
                width,
                height,
                name,
                data,
            )
            if await conn.fetchval("SELECT 1 FROM blobs WHERE sha256 = $1 FOR KEY SHARE", digest):
                return

    async def create_job(self, job: Job, inputs: tuple[ImageInput, ...]) -> None:
        hashes = await blob_keys(inputs)
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                f"INSERT INTO jobs ({JOB_COLUMNS}) VALUES ({', '.join(f'${n}' for n in range(1, JOB_COUNT + 1))})",
                *job_values(job, now=_now(), time_value=_time),
            )
            for position, (digest, image) in enumerate(zip(hashes, inputs, strict=True)):
                await self._put_blob(
                    conn, digest, image.data, image.mime, image.width, image.height, image.name
                )
                await conn.execute(
                    "INSERT INTO job_images (job_id, role, position, sha256, source, url) "
                    "VALUES ($1, 'input', $2, $3, $4, $5)",
                    job.id,
                    position,
                    digest,
                    image.source,
                    image.url,
                )

    async def update_job(self, job_id: str, **fields: Any) -> None:
        unknown = set(fields) - JOB_UPDATABLE
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        if not fields:
            return
        assignments = ", ".join(f"{name} = ${n}" for n, name in enumerate(fields, start=1))
        values = [
            str(v) if isinstance(v, JobStatus) else _time(v) if name in _TIME_COLUMNS else v
            for name, v in fields.items()
        ]
        await self.pool.execute(
            f"UPDATE jobs SET {assignments} WHERE id = ${len(values) + 1}", *values, job_id
        )

    async def finish_job(
        self,
        job_id: str,
        status: JobStatus,
        *,
        delivered: int = 0,
        error_kind: str | None = None,
        error: str | None = None,
    ) -> None:
        now = _now()
        await self.pool.execute(
            "UPDATE jobs SET status = $1, images_delivered = $2, error_kind = $3, error = $4, finished_at = $5, "
            "duration_ms = GREATEST(0, (EXTRACT(EPOCH FROM ($5 - created_at)) * 1000)::bigint) WHERE id = $6",
            str(status),
            delivered,
            error_kind,
            error,
            now,
            job_id,
        )

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
        async with self.pool.acquire() as conn, conn.transaction():
            # The UPDATE locks the job row: a take-over or claim running now waits for this
            # transaction and then finds the job finished; one that committed first makes the
            # owner condition fail here.
            finished = await conn.fetchval(
                "UPDATE jobs SET status = $1, images_delivered = $2, error_kind = $3, error = $4, "
                "finished_at = $5, duration_ms = GREATEST(0, (EXTRACT(EPOCH FROM ($5 - created_at)) * 1000)::bigint) "
                f"WHERE id = $6 AND {UNFINISHED} AND (owner IS NULL OR owner = $7) RETURNING id",
                str(status),
                delivered,
                error_kind,
                error,
                _now(),
                job_id,
                owner,
            )
            if finished is None:
                return False
            if reservation_id is not None:
                await conn.execute(self._SETTLE_SQL, used, reservation_id)
        return True

    @staticmethod
    def _job(row: Any, message_ids: tuple[str, ...] = ()) -> Job:
        return job_from_row(row, message_ids, time_text=_iso)

    async def _with_links(self, rows: Sequence[Any]) -> list[Job]:
        if not rows:
            return []
        links: dict[str, list[str]] = {}
        for link in await self._rows(
            "SELECT job_id, message_id FROM job_messages WHERE job_id = ANY($1::text[]) ORDER BY message_id",
            [row["id"] for row in rows],
        ):
            links.setdefault(link["job_id"], []).append(link["message_id"])
        return [self._job(row, tuple(links.get(row["id"], ()))) for row in rows]

    async def _jobs(self, where: str, params: Iterable[Any], tail: str = "") -> list[Job]:
        rows = await self._rows(f"SELECT {JOB_COLUMNS} FROM jobs WHERE {where} {tail}", *params)
        return await self._with_links(rows)

    async def get_job(self, job_id: str) -> Job | None:
        found = await self._jobs("id = $1", (job_id,))
        return found[0] if found else None

    async def link_messages(self, job_id: str, platform: str, message_ids: list[str]) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.executemany(
                "INSERT INTO job_messages (platform, message_id, job_id) VALUES ($1, $2, $3) "
                "ON CONFLICT (platform, message_id) DO UPDATE SET job_id = excluded.job_id",
                [(platform, mid, job_id) for mid in message_ids],
            )

    async def job_for_message(self, platform: str, message_id: str) -> Job | None:
        job_id = await self.pool.fetchval(
            "SELECT job_id FROM job_messages WHERE platform = $1 AND message_id = $2", platform, message_id
        )
        if job_id is None:  # not a result (yet): the status message of a job at work?
            job_id = await self.pool.fetchval(
                "SELECT id FROM jobs WHERE platform = $1 AND message_id = $2 "
                "ORDER BY created_at DESC, seq DESC LIMIT 1",
                platform,
                message_id,
            )
        return await self.get_job(job_id) if job_id is not None else None

    async def mark_deleted(self, job_id: str) -> None:
        await self.pool.execute(
            "UPDATE jobs SET deleted_at = now() WHERE id = $1 AND deleted_at IS NULL", job_id
        )

    async def latest_in_thread(self, platform: str, channel_id: str, thread_id: str | None) -> Job | None:
        found = await self._jobs(
            "platform = $1 AND channel_id = $2 AND thread_id IS NOT DISTINCT FROM $3 "
            "AND status = 'succeeded' AND images_delivered > 0 AND deleted_at IS NULL",
            (platform, channel_id, thread_id),
            "ORDER BY created_at DESC, seq DESC LIMIT 1",
        )
        return found[0] if found else None

    async def working_in_thread(self, platform: str, channel_id: str, thread_id: str) -> Job | None:
        found = await self._jobs(
            f"platform = $1 AND channel_id = $2 AND thread_id = $3 AND {UNFINISHED}",
            (platform, channel_id, thread_id),
            "ORDER BY created_at DESC, seq DESC LIMIT 1",
        )
        return found[0] if found else None

    async def unfinished_jobs(self) -> list[Job]:
        return await self._jobs(UNFINISHED, (), "ORDER BY created_at, seq")

    async def jobs_for_user(self, user_key: str, limit: int = 10) -> list[Job]:
        return await self._jobs(
            "user_key = $1", (user_key,), f"ORDER BY created_at DESC, seq DESC LIMIT {int(limit)}"
        )

    async def save_outputs(self, job_id: str, images: list[GeneratedImage]) -> None:
        hashes = [output_key(job_id, position) for position in range(len(images))]
        async with self.pool.acquire() as conn, conn.transaction():
            for position, (digest, image) in enumerate(zip(hashes, images, strict=True)):
                await self._put_blob(conn, digest, image.data, image.mime, image.width, image.height, "")
                await conn.execute(
                    "INSERT INTO job_images (job_id, role, position, sha256, source) "
                    "VALUES ($1, 'output', $2, $3, $4) ON CONFLICT (job_id, role, position) "
                    "DO UPDATE SET sha256 = excluded.sha256, source = excluded.source, url = NULL",
                    job_id,
                    position,
                    digest,
                    f"result:{job_id}",
                )

    async def _images(self, job_id: str, role: str) -> list[ImageInput]:
        rows = await self._rows(
            "SELECT b.data, b.mime, b.width, b.height, b.name, i.source, i.url, i.position, i.sha256 FROM job_images i "
            "JOIN blobs b ON b.sha256 = i.sha256 WHERE i.job_id = $1 AND i.role = $2 ORDER BY i.position",
            job_id,
            role,
        )
        return [image_from_row(row) for row in rows]

    async def job_inputs(self, job_id: str) -> list[ImageInput]:
        return await self._images(job_id, "input")

    async def job_outputs(self, job_id: str) -> list[ImageInput]:
        return await self._images(job_id, "output")

    async def expire_images(self, before: datetime, limit: int = 200) -> tuple[int, int]:
        async with self.pool.acquire() as conn, conn.transaction():
            # Driven by job_images, which holds only what is still kept, not by all old jobs.
            jobs = [
                row[0]
                for row in await conn.fetch(
                    "SELECT DISTINCT i.job_id FROM job_images i JOIN jobs j ON j.id = i.job_id "
                    f"WHERE j.created_at < $1 AND NOT (j.{UNFINISHED}) LIMIT $2",
                    before,
                    limit,
                )
            ]
            if not jobs:
                return 0, 0
            hashes = {
                row[0]
                for row in await conn.fetch(
                    "DELETE FROM job_images WHERE job_id = ANY($1::text[]) RETURNING sha256", jobs
                )
            }
            # A job saving the same image right now holds a key-share lock on its blob: this
            # DELETE then fails on the foreign key, the transaction rolls back, the next run retries.
            blobs = await conn.fetch(
                "DELETE FROM blobs b WHERE b.sha256 = ANY($1::text[]) "
                "AND NOT EXISTS (SELECT 1 FROM job_images i WHERE i.sha256 = b.sha256) "
                "AND NOT EXISTS (SELECT 1 FROM cast_entries c WHERE c.sha256 = b.sha256) RETURNING b.sha256",
                list(hashes),
            )
        return len(jobs), len(blobs)

    # -- style presets and the saved cast ------------------------------------------------------------

    async def styles(self, workspace: str) -> list[StyleRow]:
        rows = await self._rows(
            "SELECT name, suffix, aspect, resolution, model, hidden FROM styles WHERE workspace = $1 ORDER BY name",
            workspace,
        )
        return [
            StyleRow(r["name"], r["suffix"], r["aspect"], r["resolution"], r["model"], bool(r["hidden"]))
            for r in rows
        ]

    async def put_style(self, workspace: str, style: StyleRow) -> None:
        await self.pool.execute(
            "INSERT INTO styles (workspace, name, suffix, aspect, resolution, model, hidden, updated_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, now()) ON CONFLICT (workspace, name) DO UPDATE SET "
            "suffix = excluded.suffix, aspect = excluded.aspect, resolution = excluded.resolution, "
            "model = excluded.model, hidden = excluded.hidden, updated_at = excluded.updated_at",
            workspace,
            style.name,
            style.suffix,
            style.aspect,
            style.resolution,
            style.model,
            style.hidden,
        )

    async def delete_style(self, workspace: str, name: str) -> bool:
        found = await self.pool.fetchval(
            "DELETE FROM styles WHERE workspace = $1 AND name = $2 RETURNING name", workspace, name
        )
        return found is not None

    _CAST_SQL = (
        "SELECT c.owner, c.name, c.label, c.created_at, c.sha256, b.data, b.mime, b.width, b.height "
        "FROM cast_entries c "
        "JOIN blobs b ON b.sha256 = c.sha256 WHERE c.owner = $1"
    )

    @staticmethod
    def _cast_entry(row: Any) -> CastEntry:
        image = ImageInput(
            data=bytes(row["data"]),
            mime=row["mime"],
            width=row["width"],
            height=row["height"],
            name=row["label"],
            blob=row["sha256"],
        )
        return CastEntry(row["owner"], row["name"], image, _iso(row["created_at"]) or "")

    async def cast(self, owner: str) -> list[CastEntry]:
        return [self._cast_entry(r) for r in await self._rows(self._CAST_SQL + " ORDER BY c.name", owner)]

    async def cast_entry(self, owner: str, name: str) -> CastEntry | None:
        row = await self._one(self._CAST_SQL + " AND c.name = $2", owner, name)
        return None if row is None else self._cast_entry(row)

    async def save_cast(self, owner: str, name: str, image: ImageInput, limit: int) -> bool:
        [digest] = await blob_keys([image])
        async with self.pool.acquire() as conn, conn.transaction():
            # One owner's saves one at a time, so two at once cannot both pass the cap.
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", "cast:" + owner)
            others = await conn.fetchval(
                "SELECT count(*) FROM cast_entries WHERE owner = $1 AND name != $2", owner, name
            )
            if others >= limit:
                return False
            await self._put_blob(conn, digest, image.data, image.mime, image.width, image.height, image.name)
            old = await conn.fetchval(
                "SELECT sha256 FROM cast_entries WHERE owner = $1 AND name = $2", owner, name
            )
            await conn.execute(
                "INSERT INTO cast_entries (owner, name, sha256, label, created_at) VALUES ($1, $2, $3, $4, now()) "
                "ON CONFLICT (owner, name) DO UPDATE SET sha256 = excluded.sha256, label = excluded.label, "
                "created_at = excluded.created_at",
                owner,
                name,
                digest,
                image.name,
            )
            if old is not None and old != digest:
                await self._free_blob(conn, old)
        return True

    async def remove_cast(self, owner: str, name: str) -> bool:
        async with self.pool.acquire() as conn, conn.transaction():
            digest = await conn.fetchval(
                "DELETE FROM cast_entries WHERE owner = $1 AND name = $2 RETURNING sha256", owner, name
            )
            if digest is not None:
                await self._free_blob(conn, digest)
        return digest is not None

    @staticmethod
    async def _free_blob(conn: Any, digest: str) -> None:
        """Forget a blob that no job and no cast entry uses any more."""
        await conn.execute(
            "DELETE FROM blobs b WHERE b.sha256 = $1 "
            "AND NOT EXISTS (SELECT 1 FROM job_images i WHERE i.sha256 = b.sha256) "
            "AND NOT EXISTS (SELECT 1 FROM cast_entries c WHERE c.sha256 = b.sha256)",
            digest,
        )

    # -- job leases -------------------------------------------------------------------------------

    async def claim_job(self, job_id: str, owner: str, ttl: float) -> bool:
        claimed = await self.pool.fetchval(
            "UPDATE jobs SET owner = $2, lease_expires_at = now() + make_interval(secs => $3) "
            f"WHERE id = $1 AND {UNFINISHED} AND (owner IS NULL OR owner = $2 OR lease_expires_at < now()) "
            "RETURNING id",
            job_id,
            owner,
            float(ttl),
        )
        return claimed is not None

    async def renew_leases(self, owner: str, ttl: float) -> list[str]:
        rows = await self._rows(
            "UPDATE jobs SET lease_expires_at = now() + make_interval(secs => $2) "
            f"WHERE owner = $1 AND {UNFINISHED} RETURNING id",
            owner,
            float(ttl),
        )
        return sorted(row["id"] for row in rows)

    async def take_over_expired(self, owner: str, ttl: float, limit: int = 10) -> list[Job]:
        # SKIP LOCKED: a job another process is taking over right now is left to it; FOR UPDATE
        # re-checks the condition on rows changed since the snapshot, so a lease renewed a
        # moment ago is not taken.
        rows = await self._rows(
            "WITH expired AS ("
            f"  SELECT id FROM jobs WHERE {UNFINISHED} AND ("
            "    (owner IS NOT NULL AND lease_expires_at < now())"
            "    OR (owner IS NULL AND created_at < now() - make_interval(secs => $2)))"
            "  ORDER BY created_at LIMIT $3 FOR UPDATE SKIP LOCKED"
            ") "
            "UPDATE jobs SET owner = $1, lease_expires_at = now() + make_interval(secs => $2) "
            f"FROM expired WHERE jobs.id = expired.id RETURNING {', '.join('jobs.' + c.strip() for c in JOB_COLUMNS.split(','))}",
            owner,
            float(ttl),
            int(limit),
        )
        jobs = await self._with_links(rows)
        return sorted(jobs, key=lambda job: job.created_at)

    # -- platform events ----------------------------------------------------------------------------

    async def first_sighting(self, key: str) -> bool:
        retention = float(self.event_retention)
        # A row older than the retention window counts as unseen (pruning may not have run yet).
        inserted = await self.pool.fetchval(
            "INSERT INTO seen_events AS s (key, seen_at) VALUES ($1, now()) "
            "ON CONFLICT (key) DO UPDATE SET seen_at = excluded.seen_at "
            "WHERE s.seen_at < now() - make_interval(secs => $2) RETURNING key",
            key,
            retention,
        )
        if time.monotonic() - self._last_prune >= self.prune_every:
            self._last_prune = time.monotonic()
            await self.pool.execute(
                "DELETE FROM seen_events WHERE seen_at < now() - make_interval(secs => $1)", retention
            )
        return inserted is not None

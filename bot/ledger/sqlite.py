"""The SQLite ledger (aiosqlite): one file, WAL mode, numbered migrations, atomic quotas.

Writes go through one asyncio lock: a write that is one statement (a reservation's check and
its increment are one INSERT ... SELECT) runs in autocommit, atomic as it is; writes of several
statements that must hold together run in `BEGIN IMMEDIATE`. No interleaving coroutine (or
other process on the same file) can spend the same unit twice. The reads on a job's path (its
quota, its workspace's settings) use a second, read-only connection, so they never wait behind
the writer's thread (a job's kept images are megabytes); in WAL mode it sees every committed
write.

Migrations live in migrations/sqlite/ (PostgreSQL's, with the same numbers, in
migrations/postgres/).

Opened for `seedbot run` (mode "run"), the ledger holds an exclusive flock on `<file>.lock`
for as long as it is open: one running bot per file (the kernel drops the lock when the
process dies, however it dies).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import Any

import aiosqlite

from bot.errors import LeaseLost, LedgerUnavailable
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
    database_down,
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
from bot.request.models import GeneratedImage, ImageInput, Job, JobStatus

__all__ = ["SQLiteLedger"]

log = logging.getLogger(__name__)

PAGE_SIZE = 16384  # bytes, for databases created from now on


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


def _is_file(path: str) -> bool:
    """A path naming a database file (not ":memory:", "" or a "file:" URI)."""
    return path not in ("", ":memory:") and not path.startswith("file:")


def _not_a_directory(path: str) -> None:
    if Path(path).is_dir():
        raise LedgerUnavailable(
            f"SEEDBOT_DATABASE={path} is a directory: name a file in it, like {Path(path) / 'seedbot.db'}"
        )


def _existing(path: str) -> str:
    """The URI opening `path` only if it exists (read-only commands create nothing)."""
    _not_a_directory(path)
    if not Path(path).is_file():
        raise LedgerUnavailable(
            f"there is no database at {path} (SEEDBOT_DATABASE): nothing is recorded yet; "
            "`seedbot run` creates it"
        )
    return Path(path).absolute().as_uri() + "?mode=rw"  # SQLite's "open, never create"


def _creatable(path: str) -> None:
    """Refuse a file SQLite could not create (before aiosqlite, whose failed connect leaves a
    worker thread that complains once the event loop is closed)."""
    _not_a_directory(path)
    if not Path(path).parent.is_dir():
        raise LedgerUnavailable(
            f"can't create the database at {path}: there is no directory {Path(path).parent} "
            "(SEEDBOT_DATABASE)"
        )


def _lock_for_running(path: str) -> int:
    """Take `<path>.lock` exclusively for this process (flock: released when the process dies);
    returns its descriptor. Another holder is refused with one line naming its pid."""
    lock = f"{path}.lock"
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise LedgerUnavailable(
            f"can't create {lock} ({exc.strerror}): check that the directory of SEEDBOT_DATABASE "
            "exists and is writable"
        ) from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise LedgerUnavailable(
            f"another seedbot (pid {holder}) is using {path}; use PostgreSQL "
            "(SEEDBOT_DATABASE=postgresql://...) to run several"
        ) from None
    except BaseException:
        os.close(fd)
        raise
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


class _Writes:
    """The writer's lock (one write at a time on the connection), noting whether the last write
    made under it failed on a database error: in WAL mode SQLite still reads while its disk is
    full or another process holds the write lock past the busy timeout (`/healthz` asks here)."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self.failure: WriteFailure | None = None

    async def __aenter__(self) -> None:
        await self._lock.acquire()

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if exc is None:
                self.failure = None
            # Locked, full, read-only, I/O error, damaged; not a constraint, a misuse or a wrong
            # statement (a bug).
            elif database_down(exc):
                since = self.failure.since if self.failure else _now()
                self.failure = WriteFailure(since, f"{type(exc).__name__}: {exc}")
        finally:
            self._lock.release()


class SQLiteLedger:
    shared = False  # several processes on one database: no (one process per file)

    def __init__(
        self,
        path: str,
        *,
        daily_limit: int,
        monthly_limit: int,
        event_retention: float = 86400.0,
        prune_every: float = 60.0,
        mode: OpenMode = "write",
    ) -> None:
        self.path = path
        self.mode = mode
        self._lock_fd: int | None = None  # mode "run": the flock on <path>.lock
        self.daily_limit = daily_limit
        self.monthly_limit = monthly_limit
        self.event_retention = event_retention  # how long first_sighting remembers a key (seconds)
        self.prune_every = prune_every
        self._last_prune = float("-inf")
        self._db: aiosqlite.Connection | None = None
        # A second connection for the reads on a job's path (its quota, its workspace's
        # settings): aiosqlite runs one operation at a time per connection, and at a burst the
        # writer's is busy with 3 MB image writes; in WAL mode a reader sees every committed
        # write meanwhile. None (reads share the writer) for ":memory:" and read-only opens.
        self._reader: aiosqlite.Connection | None = None
        self._lock = _Writes()

    @property
    def write_failure(self) -> WriteFailure | None:
        return self._lock.failure

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("ledger is not open")
        return self._db

    @property
    def reader(self) -> aiosqlite.Connection:
        """Where committed state is read outside any transaction of this ledger's."""
        return self._reader if self._reader is not None else self.db

    async def open(self) -> None:
        try:
            await self._open()
        except sqlite3.DatabaseError as exc:  # not SQLite's, or damaged: was a traceback
            await self.close()
            raise LedgerUnavailable(
                f"can't use the database at {self.path} ({exc}): check SEEDBOT_DATABASE, or put "
                "back a copy from `seedbot backup`"
            ) from exc
        except BaseException:
            await self.close()
            raise

    async def _open(self) -> None:
        target, as_file = self.path, _is_file(self.path)
        if self.mode == "read" and as_file:
            target = _existing(self.path)
        elif as_file:
            _creatable(self.path)
        if self.mode == "run" and as_file:
            self._lock_fd = _lock_for_running(self.path)
        try:
            self._db = await aiosqlite.connect(target, isolation_level=None, uri=target != self.path)
        except sqlite3.OperationalError as exc:
            raise LedgerUnavailable(
                f"can't open the database at {self.path} ({exc}): check SEEDBOT_DATABASE and that "
                "its directory exists and is writable"
            ) from exc
        self._db.row_factory = aiosqlite.Row
        await self._db.execute("PRAGMA busy_timeout=10000")
        # A new file gets 16 KiB pages (SQLite ignores this for an existing one): a kept 3 MB image
        # is then ~200 WAL frames, not ~800, each written by its own system calls and copied
        # again at the checkpoint; that halved the ledger thread's system time per job
        # (BENCHMARKS.md, Issue 17).
        await self._db.execute(f"PRAGMA page_size={PAGE_SIZE}")
        # Switching a new file to WAL needs it to itself, and SQLite answers "locked" at once
        # (no busy wait) while another process opening the same file holds it: try again.
        for attempt in range(100):
            try:
                await self._db.execute("PRAGMA journal_mode=WAL")
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt == 99:
                    raise
                await asyncio.sleep(0.05)
        await self._db.execute("PRAGMA synchronous=NORMAL")
        await self._db.execute("PRAGMA foreign_keys=ON")
        await self._migrate()
        if as_file and self.mode != "read":
            self._reader = await aiosqlite.connect(target, isolation_level=None, uri=target != self.path)
            self._reader.row_factory = aiosqlite.Row
            await self._reader.execute("PRAGMA busy_timeout=10000")
            await self._reader.execute("PRAGMA query_only=ON")

    async def close(self) -> None:
        if self._reader is not None:
            await self._reader.close()
            self._reader = None
        if self._db is not None:
            await self._db.close()
            self._db = None
        if self._lock_fd is not None:
            fd, self._lock_fd = self._lock_fd, None
            os.close(fd)  # drops the flock; the file stays (unlinking would race a new holder)

    async def _migrate(self) -> None:
        await self.db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        async with self.db.execute("SELECT version FROM schema_migrations") as cur:
            done = {row[0] for row in await cur.fetchall()}
        folder = resources.files("bot.ledger") / "migrations" / "sqlite"
        scripts = sorted(
            (int(entry.name.split("_", 1)[0]), entry)
            for entry in folder.iterdir()
            if entry.name.endswith(".sql")
        )
        refused = newer_schema(done, scripts[-1][0], f"the database at {self.path}")
        if refused is not None:
            raise refused
        for version, entry in scripts:
            if version in done:
                continue
            log.info("applying migration %s", entry.name)
            sql = entry.read_text(encoding="utf-8")
            # Recording the version first claims it: another process opening the same file at the
            # same moment waits for this transaction, then fails on the primary key and skips it.
            try:
                await self.db.executescript(
                    "BEGIN IMMEDIATE;\n"
                    f"INSERT INTO schema_migrations (version, applied_at) VALUES ({version}, '{_iso(_now())}');\n"
                    f"{sql}\nCOMMIT;"
                )
            except sqlite3.IntegrityError:
                if self.db.in_transaction:
                    await self.db.execute("ROLLBACK")
                applied = await self._one("SELECT 1 FROM schema_migrations WHERE version = ?", (version,))
                if applied is None:
                    raise
            except BaseException:
                if self.db.in_transaction:
                    await self.db.execute("ROLLBACK")
                raise

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._lock:
            # aiosqlite's thread runs a statement even when its caller is cancelled meanwhile: a
            # BEGIN cancelled that way would leave the connection in a transaction and make the
            # next write fail ("cannot start a transaction within a transaction"). Undo it.
            begin = asyncio.ensure_future(self.db.execute("BEGIN IMMEDIATE"))
            try:
                await asyncio.shield(begin)
            except BaseException:
                with contextlib.suppress(Exception):
                    await begin
                    await self.db.execute("ROLLBACK")
                raise
            try:
                yield self.db
            except BaseException:
                await self.db.execute("ROLLBACK")
                raise
            else:
                await self.db.execute("COMMIT")

    async def _one(
        self, sql: str, params: Iterable[Any] | dict[str, Any] = (), *, db: aiosqlite.Connection | None = None
    ) -> aiosqlite.Row | None:
        on = self.db if db is None else db
        rows = list(await on.execute_fetchall(sql, params if isinstance(params, dict) else tuple(params)))
        return rows[0] if rows else None

    # -- quotas -------------------------------------------------------------------------------

    async def _used(self, user_key: str, period: str) -> int:
        row = await self._one(
            "SELECT used FROM quota_usage WHERE user_key = ? AND period = ?", (user_key, period)
        )
        return int(row["used"]) if row else 0

    # One statement holds the units only if the user is not blocked and both periods (today's
    # grant added to each: "N more images today" holds at the month's end too) and the pool have
    # room; the triggers (001, 003) move the counters with it.
    _RESERVE_SQL = """
        INSERT INTO reservations (user_key, day, month, amount, state, created_at, pool_key)
        SELECT :user, :day, :month, :amount, 'reserved', :now, :pool
        WHERE NOT COALESCE((SELECT blocked FROM quota_limits WHERE user_key = :user), 0)
          AND (:unlimited OR
               COALESCE((SELECT used FROM quota_usage WHERE user_key = :user AND period = :day), 0) + :amount
               <= COALESCE((SELECT daily FROM quota_limits WHERE user_key = :user), :daily)
                  + COALESCE((SELECT extra FROM quota_grants WHERE user_key = :user AND day = :day), 0))
          AND (:unlimited OR
               COALESCE((SELECT used FROM quota_usage WHERE user_key = :user AND period = :month), 0) + :amount
               <= COALESCE((SELECT monthly FROM quota_limits WHERE user_key = :user), :monthly)
                  + COALESCE((SELECT extra FROM quota_grants WHERE user_key = :user AND day = :day), 0))
          AND (:unlimited OR :pool IS NULL OR
               COALESCE((SELECT used FROM quota_usage WHERE user_key = :pool AND period = :day), 0) + :amount
               <= :pool_limit)
        RETURNING id
    """

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
        params = {
            "user": user_key,
            "day": day_key(now),
            "month": month_key(now),
            "amount": amount,
            "now": _iso(now),
            "unlimited": int(unlimited),
            "daily": self.daily_limit,
            "monthly": self.monthly_limit,
            "pool": pool.key if pool else None,
            "pool_limit": pool.daily if pool else 0,
        }
        async with self._lock:
            rows = await self.db.execute_fetchall(self._RESERVE_SQL, params)
        rows = list(rows)
        if rows:
            return Reservation(int(rows[0][0]), user_key, amount)
        # Refused: work out why, for the user's message.
        status = await self.quota(user_key, now=now)
        pool_used = await self.pool_used(pool.key, now=now) if pool else 0
        raise refusal(status, amount, pool, pool_used)

    _SETTLE_SQL = (
        "UPDATE reservations SET used = MAX(0, MIN(?, amount)), state = 'settled', settled_at = ? "
        "WHERE id = ? AND state = 'reserved'"
    )

    async def settle(self, reservation_id: int, used: int) -> None:
        async with self._lock:
            await self.db.execute(self._SETTLE_SQL, (used, _iso(_now()), reservation_id))

    # What quota() reports, in one statement: the limits row (if any), both periods' usage and
    # today's grant.
    _QUOTA_SQL = """
        SELECT l.daily, l.monthly, COALESCE(l.blocked, 0) AS blocked, COALESCE(l.by_operator, 0) AS by_operator,
               COALESCE((SELECT used FROM quota_usage WHERE user_key = :user AND period = :day), 0) AS day_used,
               COALESCE((SELECT used FROM quota_usage WHERE user_key = :user AND period = :month), 0)
                   AS month_used,
               COALESCE((SELECT extra FROM quota_grants WHERE user_key = :user AND day = :day), 0) AS granted
        FROM (SELECT 1) LEFT JOIN quota_limits l ON l.user_key = :user
    """

    async def quota(
        self, user_key: str, *, unlimited: bool = False, now: datetime | None = None
    ) -> QuotaStatus:
        now = now or _now()
        day_resets, month_resets = period_resets(now)
        params = {"user": user_key, "day": day_key(now), "month": month_key(now)}
        row = await self._one(self._QUOTA_SQL, params, db=self.reader)
        assert row is not None  # (SELECT 1) LEFT JOIN: always one row
        daily = self.daily_limit if row["daily"] is None else int(row["daily"])
        monthly = self.monthly_limit if row["monthly"] is None else int(row["monthly"])
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

    async def _upsert_limits(
        self, user_key: str, column_sql: str, values: tuple[Any, ...], *, by_operator: bool
    ) -> None:
        async with self._write() as db:
            await db.execute(
                "INSERT INTO quota_limits (user_key, updated_at) VALUES (?, ?) ON CONFLICT (user_key) DO NOTHING",
                (user_key, _iso(_now())),
            )
            await db.execute(
                f"UPDATE quota_limits SET {column_sql}, updated_at = ? WHERE user_key = ?",
                (*values, _iso(_now()), user_key),
            )
            if by_operator:
                await db.execute(f"UPDATE quota_limits SET {OPERATOR_MARK} WHERE user_key = ?", (user_key,))

    async def set_limits(self, user_key: str, *, by_operator: bool = False, **limits: int | None) -> None:
        columns = [name for name in LIMIT_COLUMNS if name in limits]
        assert columns and len(columns) == len(limits), limits
        await self._upsert_limits(
            user_key,
            ", ".join(f"{name} = ?" for name in columns),
            tuple(limits[n] for n in columns),
            by_operator=by_operator,
        )

    async def set_blocked(self, user_key: str, blocked: bool, *, by_operator: bool = False) -> None:
        await self._upsert_limits(user_key, "blocked = ?", (int(blocked),), by_operator=by_operator)

    async def reset_usage(self, user_key: str, *, now: datetime | None = None) -> None:
        """Forget what was committed today and this month (open reservations stay held)."""
        now = now or _now()
        async with self._write() as db:
            for period, column in ((day_key(now), "day"), (month_key(now), "month")):
                row = await self._one(
                    f"SELECT COALESCE(SUM(amount), 0) AS held FROM reservations "
                    f"WHERE user_key = ? AND {column} = ? AND state = 'reserved'",
                    (user_key, period),
                )
                held = int(row["held"]) if row else 0
                await db.execute(
                    "UPDATE quota_usage SET used = ? WHERE user_key = ? AND period = ?",
                    (held, user_key, period),
                )

    async def open_reservations(self) -> int:
        row = await self._one("SELECT COUNT(*) AS n FROM reservations WHERE state = 'reserved'")
        return int(row["n"]) if row else 0

    async def grant(self, user_key: str, extra: int, *, now: datetime | None = None) -> int:
        day = day_key(now or _now())
        async with self._lock:
            rows = await self.db.execute_fetchall(
                "INSERT INTO quota_grants (user_key, day, extra) VALUES (?, ?, ?) "
                "ON CONFLICT (user_key, day) DO UPDATE SET extra = extra + excluded.extra RETURNING extra",
                (user_key, day, int(extra)),
            )
        return int(next(iter(rows))[0])

    async def pool_used(self, pool_key: str, *, now: datetime | None = None) -> int:
        return await self._used(pool_key, day_key(now or _now()))

    # -- community: workspace settings, audit, stats ------------------------------------------------

    async def workspace_settings(self, workspace: str) -> dict[str, Any]:
        row = await self._one(
            "SELECT settings_json FROM workspace_settings WHERE workspace = ?", (workspace,), db=self.reader
        )
        return dict(json.loads(row["settings_json"])) if row else {}

    async def set_workspace_settings(self, workspace: str, values: dict[str, Any]) -> None:
        async with self._lock:
            await self.db.execute(
                "INSERT INTO workspace_settings (workspace, settings_json, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (workspace) DO UPDATE SET settings_json = excluded.settings_json, "
                "updated_at = excluded.updated_at",
                (workspace, json.dumps(values, sort_keys=True), _iso(_now())),
            )

    async def change_workspace_settings(
        self, workspace: str, change: Callable[[dict[str, Any]], dict[str, Any]]
    ) -> dict[str, Any]:
        async with self._write() as db:
            row = await self._one(
                "SELECT settings_json FROM workspace_settings WHERE workspace = ?", (workspace,)
            )
            values = change(dict(json.loads(row["settings_json"])) if row else {})
            await db.execute(
                "INSERT INTO workspace_settings (workspace, settings_json, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (workspace) DO UPDATE SET settings_json = excluded.settings_json, "
                "updated_at = excluded.updated_at",
                (workspace, json.dumps(values, sort_keys=True), _iso(_now())),
            )
        return values

    async def record_audit(self, actor: str, action: str, target: str, detail: str = "") -> None:
        async with self._lock:
            await self.db.execute(
                "INSERT INTO admin_audit (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)",
                (_iso(_now()), actor, action, target, detail),
            )

    async def audit_entries(self, *, target: str | None = None, limit: int = 20) -> list[AuditEntry]:
        where, params = ("WHERE target = ?", (target,)) if target is not None else ("", ())
        rows = await self.db.execute_fetchall(
            f"SELECT id, at, actor, action, target, detail FROM admin_audit {where} "
            f"ORDER BY id DESC LIMIT {int(limit)}",
            params,
        )
        return [
            AuditEntry(int(r["id"]), r["at"], r["actor"], r["action"], r["target"], r["detail"]) for r in rows
        ]

    async def job_stats(
        self, since: datetime, *, platform: str | None = None, workspace_id: str | None = None
    ) -> list[StatsRow]:
        where, params = "created_at >= ?", [_iso(since.astimezone(UTC))]
        if platform is not None:
            where += " AND platform = ?"
            params.append(platform)
        if workspace_id is not None:
            where += " AND workspace_id = ?"
            params.append(workspace_id)
        rows = await self.db.execute_fetchall(
            "SELECT user_key, provider, status, error_kind, COUNT(*) AS jobs, "
            f"COALESCE(SUM(images_delivered), 0) AS images FROM jobs WHERE {where} "
            "GROUP BY user_key, provider, status, error_kind ORDER BY user_key, provider, status, error_kind",
            tuple(params),
        )
        return [
            StatsRow(
                r["user_key"], r["provider"], r["status"], r["error_kind"], int(r["jobs"]), int(r["images"])
            )
            for r in rows
        ]

    # -- jobs -----------------------------------------------------------------------------------

    _BLOB_SQL = (
        "INSERT INTO blobs (sha256, mime, width, height, name, data, created_at) VALUES {rows} "
        "ON CONFLICT (sha256) DO NOTHING"
    )

    @classmethod
    async def _put_blobs(
        cls, db: aiosqlite.Connection, blobs: list[tuple[str, bytes, str, int, int, str]]
    ) -> None:
        """Keep blobs (key, data, mime, width, height, name) under their key, each once, in one
        statement (the keys come from `blob_keys` or `output_key`, found before the transaction)."""
        if not blobs:
            return
        now = _iso(_now())
        values = [v for d, data, mime, w, h, name in blobs for v in (d, mime, w, h, name, data, now)]
        await db.execute(cls._BLOB_SQL.format(rows=", ".join(["(?, ?, ?, ?, ?, ?, ?)"] * len(blobs))), values)

    async def _put_blob(
        self,
        db: aiosqlite.Connection,
        digest: str,
        data: bytes,
        mime: str,
        width: int,
        height: int,
        name: str,
    ) -> None:
        await self._put_blobs(db, [(digest, data, mime, width, height, name)])

    _INSERT_JOB_SQL = f"INSERT INTO jobs ({JOB_COLUMNS}) VALUES ({', '.join('?' * JOB_COUNT)})"

    async def create_job(self, job: Job, inputs: tuple[ImageInput, ...]) -> None:
        values = job_values(job, now=_iso(_now()))
        if not inputs:  # one statement: SQLite makes it atomic on its own
            async with self._lock:
                await self.db.execute(self._INSERT_JOB_SQL, values)
            return
        hashes = await blob_keys(inputs)
        async with self._write() as db:
            await db.execute(self._INSERT_JOB_SQL, values)
            await self._put_blobs(
                db,
                [(d, i.data, i.mime, i.width, i.height, i.name) for d, i in zip(hashes, inputs, strict=True)],
            )
            await db.execute(
                "INSERT INTO job_images (job_id, role, position, sha256, source, url) VALUES "
                + ", ".join(["(?, 'input', ?, ?, ?, ?)"] * len(inputs)),
                [
                    v
                    for position, (d, image) in enumerate(zip(hashes, inputs, strict=True))
                    for v in (job.id, position, d, image.source, image.url)
                ],
            )

    async def update_job(self, job_id: str, **fields: Any) -> None:
        unknown = set(fields) - JOB_UPDATABLE
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        if not fields:
            return
        assignments = ", ".join(f"{name} = ?" for name in fields)
        values = [str(v) if isinstance(v, JobStatus) else v for v in fields.values()]
        async with self._lock:  # one statement, atomic as it is: no transaction around it
            await self.db.execute(f"UPDATE jobs SET {assignments} WHERE id = ?", (*values, job_id))

    # Closing a job: its outcome, and how long it took from its creation (computed by SQLite from
    # the stored time, so closing needs no read first).
    _FINISH_SQL = (
        "UPDATE jobs SET status = :status, images_delivered = :delivered, error_kind = :kind, "
        "error = :error, finished_at = :now, "
        "duration_ms = MAX(0, CAST(ROUND((julianday(:now) - julianday(created_at)) * 86400000) AS INTEGER)) "
        "WHERE id = :id"
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
        params = {
            "status": str(status),
            "delivered": delivered,
            "kind": error_kind,
            "error": error,
            "now": _iso(_now()),
            "id": job_id,
        }
        async with self._lock:
            await self.db.execute(self._FINISH_SQL, params)

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
        now = _iso(_now())
        params = {
            "status": str(status),
            "delivered": delivered,
            "kind": error_kind,
            "error": error,
            "now": now,
            "id": job_id,
            "owner": owner,
        }
        # Closed only while unfinished and ours: the check is the UPDATE's own WHERE.
        close = f"{self._FINISH_SQL} AND {UNFINISHED} AND (owner IS NULL OR owner = :owner) RETURNING id"
        if reservation_id is None:
            async with self._lock:
                return bool(list(await self.db.execute_fetchall(close, params)))
        # The job and its reservation together, or neither; the reservation first: a read on
        # this connection between the two (it takes no lock) saw the job finished and its
        # refund not yet made.
        try:
            async with self._write() as db:
                await db.execute(self._SETTLE_SQL, (used, now, reservation_id))
                if not list(await db.execute_fetchall(close, params)):
                    raise LeaseLost(job_id)  # (or finished): the settle is rolled back with it
        except LeaseLost:
            return False
        return True

    @staticmethod
    def _job(row: aiosqlite.Row, message_ids: tuple[str, ...] = ()) -> Job:
        return job_from_row(row, message_ids)

    async def _jobs(self, where: str, params: tuple[Any, ...], tail: str = "") -> list[Job]:
        rows = await self.db.execute_fetchall(f"SELECT {JOB_COLUMNS} FROM jobs WHERE {where} {tail}", params)
        jobs = []
        for row in rows:
            links = await self.db.execute_fetchall(
                "SELECT message_id FROM job_messages WHERE job_id = ? ORDER BY message_id", (row["id"],)
            )
            jobs.append(self._job(row, tuple(r[0] for r in links)))
        return jobs

    async def get_job(self, job_id: str) -> Job | None:
        found = await self._jobs("id = ?", (job_id,))
        return found[0] if found else None

    async def link_messages(self, job_id: str, platform: str, message_ids: list[str]) -> None:
        if not message_ids:
            return
        rows = ", ".join(["(?, ?, ?)"] * len(message_ids))
        async with self._lock:  # one statement for all of them, atomic on its own
            await self.db.execute(
                f"INSERT OR REPLACE INTO job_messages (platform, message_id, job_id) VALUES {rows}",
                [v for mid in message_ids for v in (platform, mid, job_id)],
            )

    async def job_for_message(self, platform: str, message_id: str) -> Job | None:
        row = await self._one(
            "SELECT job_id FROM job_messages WHERE platform = ? AND message_id = ?", (platform, message_id)
        )
        if row is None:  # not a result (yet): the status message of a job at work?
            row = await self._one(
                "SELECT id AS job_id FROM jobs WHERE platform = ? AND message_id = ? "
                "ORDER BY created_at DESC, rowid DESC LIMIT 1",
                (platform, message_id),
            )
        return await self.get_job(row["job_id"]) if row else None

    async def mark_deleted(self, job_id: str) -> None:
        async with self._lock:
            await self.db.execute(
                "UPDATE jobs SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL", (_iso(_now()), job_id)
            )

    async def latest_in_thread(self, platform: str, channel_id: str, thread_id: str | None) -> Job | None:
        found = await self._jobs(
            "platform = ? AND channel_id = ? AND thread_id IS ? AND status = 'succeeded' "
            "AND images_delivered > 0 AND deleted_at IS NULL",
            (platform, channel_id, thread_id),
            "ORDER BY created_at DESC, rowid DESC LIMIT 1",
        )
        return found[0] if found else None

    async def working_in_thread(self, platform: str, channel_id: str, thread_id: str) -> Job | None:
        found = await self._jobs(
            f"platform = ? AND channel_id = ? AND thread_id = ? AND {UNFINISHED}",
            (platform, channel_id, thread_id),
            "ORDER BY created_at DESC, rowid DESC LIMIT 1",
        )
        return found[0] if found else None

    async def unfinished_jobs(self) -> list[Job]:
        return await self._jobs(UNFINISHED, (), "ORDER BY created_at")

    async def jobs_for_user(self, user_key: str, limit: int = 10) -> list[Job]:
        return await self._jobs("user_key = ?", (user_key,), f"ORDER BY created_at DESC LIMIT {int(limit)}")

    async def save_outputs(self, job_id: str, images: list[GeneratedImage]) -> None:
        if not images:
            return
        hashes = [output_key(job_id, position) for position in range(len(images))]
        async with self._write() as db:  # the blobs and the job's rows pointing at them, together
            await self._put_blobs(
                db, [(d, i.data, i.mime, i.width, i.height, "") for d, i in zip(hashes, images, strict=True)]
            )
            await db.execute(
                "INSERT OR REPLACE INTO job_images (job_id, role, position, sha256, source) VALUES "
                + ", ".join(["(?, 'output', ?, ?, ?)"] * len(images)),
                [v for position, d in enumerate(hashes) for v in (job_id, position, d, f"result:{job_id}")],
            )

    async def _images(self, job_id: str, role: str) -> list[ImageInput]:
        async with self.db.execute(
            "SELECT b.data, b.mime, b.width, b.height, b.name, i.source, i.url, i.position, i.sha256 FROM job_images i "
            "JOIN blobs b ON b.sha256 = i.sha256 WHERE i.job_id = ? AND i.role = ? ORDER BY i.position",
            (job_id, role),
        ) as cur:
            rows = await cur.fetchall()
        return [image_from_row(row) for row in rows]

    async def job_inputs(self, job_id: str) -> list[ImageInput]:
        return await self._images(job_id, "input")

    async def job_outputs(self, job_id: str) -> list[ImageInput]:
        return await self._images(job_id, "output")

    async def expire_images(self, before: datetime, limit: int = 200) -> tuple[int, int]:
        async with self._write() as db:
            # Driven by job_images, which holds only what is still kept, not by all old jobs.
            jobs = [
                row[0]
                for row in await db.execute_fetchall(
                    "SELECT DISTINCT i.job_id FROM job_images i JOIN jobs j ON j.id = i.job_id "
                    f"WHERE j.created_at < ? AND NOT (j.{UNFINISHED}) LIMIT ?",
                    (_iso(before.astimezone(UTC)), limit),
                )
            ]
            if not jobs:
                return 0, 0
            marks = ", ".join("?" * len(jobs))
            hashes = {
                row[0]
                for row in await db.execute_fetchall(
                    f"DELETE FROM job_images WHERE job_id IN ({marks}) RETURNING sha256", jobs
                )
            }
            marks = ", ".join("?" * len(hashes))
            blobs = await db.execute_fetchall(
                f"DELETE FROM blobs WHERE sha256 IN ({marks}) "
                "AND NOT EXISTS (SELECT 1 FROM job_images i WHERE i.sha256 = blobs.sha256) "
                "AND NOT EXISTS (SELECT 1 FROM cast_entries c WHERE c.sha256 = blobs.sha256) RETURNING sha256",
                tuple(hashes),
            )
        return len(jobs), len(list(blobs))

    # -- style presets and the saved cast ------------------------------------------------------------

    async def styles(self, workspace: str) -> list[StyleRow]:
        rows = await self.db.execute_fetchall(
            "SELECT name, suffix, aspect, resolution, model, hidden FROM styles WHERE workspace = ? ORDER BY name",
            (workspace,),
        )
        return [
            StyleRow(r["name"], r["suffix"], r["aspect"], r["resolution"], r["model"], bool(r["hidden"]))
            for r in rows
        ]

    async def put_style(self, workspace: str, style: StyleRow) -> None:
        async with self._write() as db:
            await db.execute(
                "INSERT OR REPLACE INTO styles (workspace, name, suffix, aspect, resolution, model, hidden, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    workspace,
                    style.name,
                    style.suffix,
                    style.aspect,
                    style.resolution,
                    style.model,
                    int(style.hidden),
                    _iso(_now()),
                ),
            )

    async def delete_style(self, workspace: str, name: str) -> bool:
        async with self._write() as db:
            rows = await db.execute_fetchall(
                "DELETE FROM styles WHERE workspace = ? AND name = ? RETURNING name", (workspace, name)
            )
        return bool(list(rows))

    _CAST_SQL = (
        "SELECT c.owner, c.name, c.label, c.created_at, c.sha256, b.data, b.mime, b.width, b.height "
        "FROM cast_entries c "
        "JOIN blobs b ON b.sha256 = c.sha256 WHERE c.owner = ?"
    )

    @staticmethod
    def _cast_entry(row: aiosqlite.Row) -> CastEntry:
        image = ImageInput(
            data=bytes(row["data"]),
            mime=row["mime"],
            width=row["width"],
            height=row["height"],
            name=row["label"],
            blob=row["sha256"],
        )
        return CastEntry(row["owner"], row["name"], image, row["created_at"])

    async def cast(self, owner: str) -> list[CastEntry]:
        rows = await self.db.execute_fetchall(self._CAST_SQL + " ORDER BY c.name", (owner,))
        return [self._cast_entry(r) for r in rows]

    async def cast_entry(self, owner: str, name: str) -> CastEntry | None:
        row = await self._one(self._CAST_SQL + " AND c.name = ?", (owner, name))
        return None if row is None else self._cast_entry(row)

    async def save_cast(self, owner: str, name: str, image: ImageInput, limit: int) -> bool:
        [digest] = await blob_keys([image])
        async with self._write() as db:
            others = await db.execute_fetchall(
                "SELECT count(*) FROM cast_entries WHERE owner = ? AND name != ?", (owner, name)
            )
            if next(iter(others))[0] >= limit:
                return False
            await self._put_blob(db, digest, image.data, image.mime, image.width, image.height, image.name)
            old = await db.execute_fetchall(
                "SELECT sha256 FROM cast_entries WHERE owner = ? AND name = ?", (owner, name)
            )
            await db.execute(
                "INSERT OR REPLACE INTO cast_entries (owner, name, sha256, label, created_at) VALUES (?, ?, ?, ?, ?)",
                (owner, name, digest, image.name, _iso(_now())),
            )
            for row in old:
                await self._free_blob(db, row[0])
        return True

    async def remove_cast(self, owner: str, name: str) -> bool:
        async with self._write() as db:
            rows = list(
                await db.execute_fetchall(
                    "DELETE FROM cast_entries WHERE owner = ? AND name = ? RETURNING sha256", (owner, name)
                )
            )
            for row in rows:
                await self._free_blob(db, row[0])
        return bool(rows)

    @staticmethod
    async def _free_blob(db: aiosqlite.Connection, digest: str) -> None:
        """Forget a blob that no job and no cast entry uses any more."""
        await db.execute(
            "DELETE FROM blobs WHERE sha256 = ? AND NOT EXISTS (SELECT 1 FROM job_images i WHERE i.sha256 = ?) "
            "AND NOT EXISTS (SELECT 1 FROM cast_entries c WHERE c.sha256 = ?)",
            (digest, digest, digest),
        )

    # -- job leases -------------------------------------------------------------------------------
    # Each is one UPDATE (atomic in SQLite, which writes one transaction at a time, whatever the
    # number of connections or processes on the file).

    async def claim_job(self, job_id: str, owner: str, ttl: float) -> bool:
        now = _now()
        async with self._lock:
            rows = await self.db.execute_fetchall(
                f"UPDATE jobs SET owner = ?, lease_expires_at = ? WHERE id = ? AND {UNFINISHED} "
                "AND (owner IS NULL OR owner = ? OR lease_expires_at < ?) RETURNING id",
                (owner, _iso(now + timedelta(seconds=ttl)), job_id, owner, _iso(now)),
            )
        return bool(list(rows))

    async def renew_leases(self, owner: str, ttl: float) -> list[str]:
        async with self._lock:
            rows = await self.db.execute_fetchall(
                f"UPDATE jobs SET lease_expires_at = ? WHERE owner = ? AND {UNFINISHED} RETURNING id",
                (_iso(_now() + timedelta(seconds=ttl)), owner),
            )
        return sorted(row[0] for row in rows)

    async def take_over_expired(self, owner: str, ttl: float, limit: int = 10) -> list[Job]:
        now = _now()
        async with self._lock:
            rows = await self.db.execute_fetchall(
                "UPDATE jobs SET owner = :owner, lease_expires_at = :until WHERE id IN ("
                f"  SELECT id FROM jobs WHERE {UNFINISHED} AND ("
                "    (owner IS NOT NULL AND lease_expires_at < :now)"
                "    OR (owner IS NULL AND created_at < :grace))"
                "  ORDER BY created_at LIMIT :limit"
                ") RETURNING id",
                {
                    "owner": owner,
                    "until": _iso(now + timedelta(seconds=ttl)),
                    "now": _iso(now),
                    "grace": _iso(now - timedelta(seconds=ttl)),
                    "limit": int(limit),
                },
            )
        ids = [row[0] for row in rows]
        if not ids:
            return []
        return await self._jobs(f"id IN ({', '.join('?' * len(ids))})", tuple(ids), "ORDER BY created_at")

    # -- platform events ----------------------------------------------------------------------------

    async def first_sighting(self, key: str) -> bool:
        now = _now()
        cutoff = _iso(now - timedelta(seconds=self.event_retention))
        async with self._lock:
            # A row older than the retention window counts as unseen (pruning may not have run yet).
            rows = await self.db.execute_fetchall(
                "INSERT INTO seen_events (key, seen_at) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET seen_at = excluded.seen_at WHERE seen_events.seen_at < ? "
                "RETURNING key",
                (key, _iso(now), cutoff),
            )
            if time.monotonic() - self._last_prune >= self.prune_every:
                self._last_prune = time.monotonic()
                await self.db.execute("DELETE FROM seen_events WHERE seen_at < ?", (cutoff,))
        return bool(list(rows))

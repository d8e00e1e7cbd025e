"""`seedbot backup`: a consistent copy of the SQLite database, even while the bot runs."""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite

from bot.app.doctor import is_server_url
from bot.app.plural import counted
from bot.config import Settings

__all__ = ["backup"]

_SEPARATORS = tuple(sep for sep in (os.sep, os.altsep) if sep)


async def backup(args: argparse.Namespace, settings: Settings) -> int:
    """Copy the database with SQLite's online backup API: one consistent snapshot, even
    while the bot writes to it (WAL readers never block the writer)."""
    if is_server_url(settings.database):
        print("seedbot: backup copies a SQLite file; back up PostgreSQL with pg_dump", file=sys.stderr)
        return 1
    source = Path(settings.database)
    if not source.is_file():
        print(f"seedbot: there is no database at {source} (SEEDBOT_DATABASE)", file=sys.stderr)
        return 1
    target = Path(args.path)
    # Path() drops a trailing separator: `backup DIR/` wrote a file named DIR when DIR was missing.
    if args.path.endswith(_SEPARATORS) and not target.is_dir():
        print(f"seedbot: there is no directory {args.path}: create it first", file=sys.stderr)
        return 1
    if target.is_dir():
        target = target / f"seedbot-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}.db"
    if target.exists() and not args.force:
        print(f"seedbot: {target} exists; pass --force to overwrite it", file=sys.stderr)
        return 1
    if not target.parent.is_dir():
        print(f"seedbot: there is no directory {target.parent}", file=sys.stderr)
        return 1
    partial = target.with_name(target.name + ".partial")
    try:  # made here first: SQLite's own error gives no reason ("unable to open database file")
        partial.unlink(missing_ok=True)
        partial.touch()
    except OSError as exc:
        print(f"seedbot: can't write {target}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    copy = sqlite3.connect(partial, check_same_thread=False)  # written from aiosqlite's thread
    try:
        async with aiosqlite.connect(source) as db:
            await db.execute("PRAGMA busy_timeout=10000")
            await db.backup(copy)  # pages=0: the whole database in one step, one snapshot
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        check = copy.execute("PRAGMA integrity_check").fetchone()[0]
        jobs = copy.execute("SELECT COUNT(*) FROM jobs").fetchone()[0]
        held = copy.execute("SELECT COUNT(*) FROM reservations WHERE state = 'reserved'").fetchone()[0]
    except (sqlite3.Error, OSError) as exc:
        copy.close()
        partial.unlink(missing_ok=True)
        print(f"seedbot: the backup failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    copy.close()
    if check != "ok":
        partial.unlink(missing_ok=True)
        print(f"seedbot: the copy failed its integrity check: {check}", file=sys.stderr)
        return 1
    partial.replace(target)
    size = target.stat().st_size
    print(
        f"{target}: {counted(size, 'byte')}, {counted(jobs, 'job')}, {counted(held, 'open reservation')}, integrity ok"
    )
    return 0

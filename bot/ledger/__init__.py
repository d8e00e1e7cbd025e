"""The job and quota ledger: interface (base.py), the embedded SQLite backend (sqlite.py) and
the PostgreSQL backend for several bot processes sharing one database (postgres.py)."""

from __future__ import annotations

import sqlite3

import asyncpg

from bot.config import Settings
from bot.ledger.base import Ledger, OpenMode, QuotaStatus, Reservation, database_down
from bot.ledger.postgres import PostgresLedger, is_postgres_url
from bot.ledger.sqlite import SQLiteLedger

__all__ = [
    "DATABASE_ERRORS",
    "Ledger",
    "OpenMode",
    "PostgresLedger",
    "QuotaStatus",
    "Reservation",
    "SQLiteLedger",
    "database_down",
    "open_ledger",
]

# What either backend may raise when the database can't be used right now: a caller that can go
# on without the ledger's answer catches these, then goes on only when `database_down` says the
# error is the database's state, not a bug.
DATABASE_ERRORS: tuple[type[Exception], ...] = (
    sqlite3.Error,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    OSError,
)


async def open_ledger(settings: Settings, *, mode: OpenMode = "write") -> Ledger:
    """`SEEDBOT_DATABASE=postgresql://...` (or postgres://) selects PostgreSQL; anything else is
    the path of a SQLite file. `mode` (base.OpenMode): "read" for read-only commands (a missing
    SQLite file is refused, not created), "run" for `seedbot run` (one per SQLite file)."""
    ledger: Ledger
    if is_postgres_url(settings.database):
        ledger = PostgresLedger(
            settings.database,
            daily_limit=settings.daily_images,
            monthly_limit=settings.monthly_images,
            mode=mode,
        )
    else:
        ledger = SQLiteLedger(
            settings.database,
            daily_limit=settings.daily_images,
            monthly_limit=settings.monthly_images,
            mode=mode,
        )
    await ledger.open()
    return ledger

"""The job and quota ledger: interface (base.py), the embedded SQLite backend (sqlite.py) and
the PostgreSQL backend for several bot processes sharing one database (postgres.py)."""

from __future__ import annotations

from bot.config import Settings
from bot.ledger.base import Ledger, QuotaStatus, Reservation
from bot.ledger.postgres import PostgresLedger, is_postgres_url
from bot.ledger.sqlite import SQLiteLedger

__all__ = ["Ledger", "PostgresLedger", "QuotaStatus", "Reservation", "SQLiteLedger", "open_ledger"]


async def open_ledger(settings: Settings) -> Ledger:
    """`SEEDBOT_DATABASE=postgresql://...` (or postgres://) selects PostgreSQL; anything else is
    the path of a SQLite file."""
    ledger: Ledger
    if is_postgres_url(settings.database):
        ledger = PostgresLedger(
            settings.database, daily_limit=settings.daily_images, monthly_limit=settings.monthly_images
        )
    else:
        ledger = SQLiteLedger(
            settings.database, daily_limit=settings.daily_images, monthly_limit=settings.monthly_images
        )
    await ledger.open()
    return ledger

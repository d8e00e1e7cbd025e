"""The job and quota ledger: interface (base.py) and the embedded SQLite backend."""

from __future__ import annotations

from bot.config import Settings
from bot.ledger.base import Ledger, QuotaStatus, Reservation
from bot.ledger.sqlite import SQLiteLedger

__all__ = ["Ledger", "QuotaStatus", "Reservation", "SQLiteLedger", "open_ledger"]


async def open_ledger(settings: Settings) -> Ledger:
    ledger = SQLiteLedger(
        settings.database, daily_limit=settings.daily_images, monthly_limit=settings.monthly_images
    )
    await ledger.open()
    return ledger

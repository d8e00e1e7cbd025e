"""Ledger throughput: reserve+commit pairs per second from 100 concurrent tasks on a real SQLite
file (bot.ledger.SQLiteLedger), beside the same number of bare aiosqlite write pairs on the same
kind of file and settings (WAL, synchronous=NORMAL, one connection): the floor for two writes.
Then a race against a small quota: exactly the quota is granted, never more.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

import aiosqlite

from bot.errors import QuotaExceeded
from bot.ledger.sqlite import SQLiteLedger

TASKS = 100


async def _pairs(ledger: SQLiteLedger, user: str, pairs: int) -> tuple[int, int]:
    """TASKS tasks share `pairs` reserve(1)+settle(1) pairs for one user; (granted, refused)."""
    left = pairs
    granted = refused = 0

    async def worker() -> None:
        nonlocal left, granted, refused
        while left > 0:
            left -= 1
            try:
                reservation = await ledger.reserve(user, 1)
            except QuotaExceeded:
                refused += 1
                continue
            await ledger.settle(reservation.id, 1)
            granted += 1

    await asyncio.gather(*(worker() for _ in range(TASKS)))
    return granted, refused


async def _raw_pairs(path: Path, pairs: int) -> float:
    async with aiosqlite.connect(path, isolation_level=None) as db:  # autocommit, as the ledger
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=NORMAL")
        await db.execute(
            "CREATE TABLE r (id INTEGER PRIMARY KEY, user TEXT, amount INT, used INT, state TEXT)"
        )
        lock = asyncio.Lock()
        left = pairs

        async def worker() -> None:
            nonlocal left
            while left > 0:
                left -= 1
                async with lock:
                    cur = await db.execute(
                        "INSERT INTO r (user, amount, used, state) VALUES ('u', 1, 0, 'reserved')"
                    )
                row = cur.lastrowid
                async with lock:
                    await db.execute("UPDATE r SET used = 1, state = 'settled' WHERE id = ?", (row,))

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(TASKS)))
        return pairs / (time.perf_counter() - started)


async def run(pairs: int = 4000, quota: int = 1000, attempts: int = 3000, rounds: int = 3) -> dict[str, Any]:
    out: dict[str, Any] = {"tasks": TASKS, "pairs": pairs, "rounds": []}
    with tempfile.TemporaryDirectory(prefix="seedbot-ledger-") as tmp:
        for i in range(rounds):
            ledger = SQLiteLedger(str(Path(tmp) / f"ledger{i}.db"), daily_limit=10**9, monthly_limit=10**9)
            await ledger.open()
            try:
                started = time.perf_counter()
                granted, _ = await _pairs(ledger, "bench:u1", pairs)
                rate = granted / (time.perf_counter() - started)
            finally:
                await ledger.close()
            raw = await _raw_pairs(Path(tmp) / f"raw{i}.db", pairs)
            out["rounds"].append({"pairs_per_s": rate, "raw_pairs_per_s": raw})
        # The race: `attempts` pairs against a daily quota of `quota`.
        ledger = SQLiteLedger(str(Path(tmp) / "race.db"), daily_limit=quota, monthly_limit=10**9)
        await ledger.open()
        try:
            granted, refused = await _pairs(ledger, "bench:u2", attempts)
            status = await ledger.quota("bench:u2")
        finally:
            await ledger.close()
    out["race"] = {
        "quota": quota,
        "attempts": attempts,
        "granted": granted,
        "refused": refused,
        "day_used": status.day_used,
        "overspend": max(0, granted - quota) + max(0, status.day_used - quota),
    }
    rates = sorted(r["pairs_per_s"] for r in out["rounds"])
    out["pairs_per_s"] = rates[len(rates) // 2]
    out["raw_pairs_per_s"] = sorted(r["raw_pairs_per_s"] for r in out["rounds"])[len(rates) // 2]
    return out

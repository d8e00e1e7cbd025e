"""Ledger throughput on both backends: reserve+commit pairs per second from 100 concurrent tasks,
on a SQLite file and on PostgreSQL, then a race against a small quota (zero over-spend).

    .venv/bin/python -m bench.ledger_bench [--pairs N] [--rounds N] [--dsn postgresql://...]

Without --dsn, PostgreSQL is a throwaway local cluster (tests/ledger/cluster.py) with the
server's default, durable settings (fsync on, synchronous_commit on), plus a second run with
synchronous_commit=off (the same durability trade as SQLite's synchronous=NORMAL in WAL mode:
a crash may lose the last commits, never corrupt). Two workloads:
- "1 user": every task reserves for the same user: one hot counter row, the worst case for
  row locks (reservations for one user queue on it, by design);
- "100 users": one user per task, what many users of one bot look like.
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bot.errors import QuotaExceeded
from bot.ledger import PostgresLedger, SQLiteLedger

TASKS = 100
UNLIMITED = 10**9

Opener = Callable[[int], Awaitable[Any]]


async def _pairs(ledger: Any, users: list[str], pairs: int) -> tuple[int, int, float]:
    """TASKS tasks share `pairs` reserve(1)+settle(1) pairs; task n works for users[n % len]."""
    left = pairs
    granted = refused = 0

    async def worker(user: str) -> None:
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

    started = time.perf_counter()
    await asyncio.gather(*(worker(users[n % len(users)]) for n in range(TASKS)))
    return granted, refused, time.perf_counter() - started


async def _measure(open_ledger: Opener, pairs: int, rounds: int, quota: int, attempts: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for label, users in (("1 user", ["bench:u1"]), ("100 users", [f"bench:u{n}" for n in range(TASKS)])):
        rates = []
        for _ in range(rounds):
            ledger = await open_ledger(UNLIMITED)
            try:
                granted, _, elapsed = await _pairs(ledger, users, pairs)
                rates.append(granted / elapsed)
            finally:
                await ledger.close()
        out[label] = sorted(rates)[len(rates) // 2]
    ledger = await open_ledger(quota)
    try:
        granted, refused, _ = await _pairs(ledger, ["bench:race"], attempts)
        assert granted + refused == attempts
        used = (await ledger.quota("bench:race")).day_used
    finally:
        await ledger.close()
    out["race"] = f"{granted}/{attempts} granted, used {used}"
    out["overspend"] = max(0, granted - quota) + max(0, used - quota)
    return out


async def main(args: argparse.Namespace) -> None:
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="seedbot-ledger-bench-") as tmp:
        count = 0

        async def sqlite(daily: int) -> Any:
            nonlocal count
            count += 1
            store = SQLiteLedger(str(Path(tmp) / f"l{count}.db"), daily_limit=daily, monthly_limit=UNLIMITED)
            await store.open()
            return store

        results["SQLite file (WAL, synchronous=NORMAL)"] = await _measure(
            sqlite, args.pairs, args.rounds, args.quota, args.attempts
        )

    targets: list[tuple[str, str | None, dict[str, str]]] = []
    if args.dsn:
        targets.append((f"PostgreSQL ({args.dsn.split('@')[-1]})", args.dsn, {}))
    else:
        targets.append(("PostgreSQL 127.0.0.1 (durable defaults)", None, {}))
        targets.append(("PostgreSQL 127.0.0.1 (synchronous_commit=off)", None, {"synchronous_commit": "off"}))
    for label, dsn, settings in targets:
        cluster = None
        if dsn is None:
            from tests.ledger.cluster import Cluster  # the tests' throwaway cluster

            cluster = Cluster(settings=settings).start()
        try:

            async def postgres(daily: int, cluster: Any = cluster, dsn: str | None = dsn) -> Any:
                url = cluster.create_database() if cluster is not None else dsn
                store = PostgresLedger(
                    url, daily_limit=daily, monthly_limit=UNLIMITED, max_connections=args.pool
                )
                await store.open()
                if cluster is None:  # a shared server: start from empty counters
                    await store.pool.execute("TRUNCATE reservations, quota_usage, quota_limits CASCADE")
                return store

            results[label + f", pool {args.pool}"] = await _measure(
                postgres, args.pairs, args.rounds, args.quota, args.attempts
            )
        finally:
            if cluster is not None:
                cluster.stop()

    print(f"reserve+commit pairs/s, {TASKS} concurrent tasks, {args.pairs} pairs, median of {args.rounds}")
    header = f"{'backend':<52} {'1 user':>9} {'100 users':>10}  {'race (quota ' + str(args.quota) + ')':<32} overspend"
    print(header)
    print("-" * len(header))
    for label, row in results.items():
        print(
            f"{label:<52} {row['1 user']:>9.0f} {row['100 users']:>10.0f}  {row['race']:<32} {row['overspend']}"
        )
    if any(row["overspend"] for row in results.values()):
        raise SystemExit("over-spend detected")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.ledger_bench", description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=4000, help="reserve+commit pairs per measurement")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quota", type=int, default=1000, help="daily quota in the race")
    parser.add_argument("--attempts", type=int, default=3000, help="pairs attempted in the race")
    parser.add_argument("--pool", type=int, default=20, help="PostgreSQL connections per ledger")
    parser.add_argument("--dsn", help="an existing PostgreSQL database (its ledger tables are truncated!)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse()))

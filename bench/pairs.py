"""What the overhead parts share (issue 17): alternating pairs of a direct run and a bot run at
one N, their median ratio, and the CPU seconds each side spent per delivered image.

CPU is read from each process's own counters: the direct client reports
`resource.getrusage(RUSAGE_SELF)` around its run (bench/direct.py); the bot's is its utime +
stime from /proc/PID/stat (the same counters getrusage reads, all threads included) before the
first request and after the last job was logged as delivered. With the bot started as
`bench.counts_bot`, its counters (statements, log records, platform calls...) are snapshotted
at the same two moments (`probe`).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import statistics
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench.botproc import BotProcess

__all__ = [
    "PAIRED_SIZES",
    "PAIRS",
    "cpu_seconds",
    "diff_counts",
    "pair_summary",
    "paired",
    "percentile",
    "probe",
]

PAIRED_SIZES = (10, 50, 100)  # issue 17's range: three alternating pairs each
PAIRS = 3
_CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far, all its threads included."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


async def probe(bot: BotProcess, *, start: bool = False, timeout: float = 30.0) -> dict[str, Any] | None:
    """A snapshot of bench.counts_bot's counters (None for any other bot). With a profile asked
    for (SEEDBOT_BENCH_PROFILE), `start` True starts it after the snapshot, False stops it
    (and writes it) before."""
    directory = bot.env.get("SEEDBOT_BENCH_PROBE_DIR")
    if bot.module != "bench.counts_bot" or not directory:
        return None
    profiling = bool(bot.env.get("SEEDBOT_BENCH_PROFILE"))
    if profiling and not start:
        os.kill(bot.pid, signal.SIGUSR2)
    key = f"{time.monotonic_ns()}"
    (Path(directory) / f"{key}.req").write_text("")
    answer = Path(directory) / f"{key}.json"
    deadline = time.monotonic() + timeout
    while not answer.exists():
        if time.monotonic() > deadline:
            raise TimeoutError("the bot did not answer the counters probe")
        await asyncio.sleep(0.02)
    data: dict[str, Any] = json.loads(answer.read_text())
    if profiling and start:
        os.kill(bot.pid, signal.SIGUSR1)
    return data


def diff_counts(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, Any] | None:
    """What happened between two probes: every counter's increase, CPU seconds (process, and
    per thread that lived through both)."""
    if before is None or after is None:
        return None
    counters: dict[str, dict[str, int]] = {}
    for kind, now in after["counters"].items():
        then = before["counters"].get(kind, {})
        grown = {k: v - then.get(k, 0) for k, v in now.items() if v - then.get(k, 0)}
        if grown:
            counters[kind] = grown
    times: dict[str, dict[str, float]] = {}
    for kind, now in after.get("times", {}).items():
        then = before.get("times", {}).get(kind, {})
        grown_s = {k: v - then.get(k, 0.0) for k, v in now.items() if v - then.get(k, 0.0) > 0}
        if grown_s:
            times[kind] = grown_s
    threads = {
        name: cpu - before["thread_cpu_s"].get(name, 0.0) for name, cpu in after["thread_cpu_s"].items()
    }
    return {
        "cpu_s": after["cpu_s"] - before["cpu_s"],
        "thread_cpu_s": threads,
        "counters": counters,
        "times": times,
    }


Run = Callable[[int], Awaitable[dict[str, Any]]]


async def paired(n: int, pairs: int, direct: Run, e2e: Run, label: str) -> dict[str, Any]:
    """`pairs` alternating runs at N (direct first, then the bot, as the machine's load drifts):
    each pair's ratio of mean latencies and the median of them, CPU per delivered image on each
    side (medians), and every pair's own figures under "pairs"."""
    rows = []
    for pair in range(pairs):
        ref = await direct(n)
        bot = await e2e(n)
        row = pair_summary(bot, ref, n)
        rows.append(row)
        print(
            f"  {label} N={n}"
            + (f" pair {pair + 1}" if pairs > 1 else "")
            + f": {row['ratio_mean']:.3f} (e2e {row['e2e_mean_s']:.2f} s, direct {row['direct_mean_s']:.2f} s;"
            f" CPU per image: bot {row['bot_cpu_per_image_ms']:.1f} ms,"
            f" direct {row['direct_cpu_per_image_ms']:.1f} ms)"
            + (f", {row['failed']} failed {row['failures']}" if row["failed"] else ""),
            flush=True,
        )
    bot_cpu = statistics.median(r["bot_cpu_per_image_ms"] for r in rows)
    direct_cpu = statistics.median(r["direct_cpu_per_image_ms"] for r in rows)
    return {
        "n": n,
        "ratios": [r["ratio_mean"] for r in rows],
        "ratio_mean": statistics.median(r["ratio_mean"] for r in rows),  # the median pair's
        "e2e_mean_s": statistics.median(r["e2e_mean_s"] for r in rows),
        "e2e_max_s": max(r["e2e_max_s"] for r in rows),
        "direct_mean_s": statistics.median(r["direct_mean_s"] for r in rows),
        "direct_max_s": max(r["direct_max_s"] for r in rows),
        "bot_cpu_per_image_ms": bot_cpu,
        "direct_cpu_per_image_ms": direct_cpu,
        "cpu_ratio": bot_cpu / direct_cpu if direct_cpu else float("nan"),
        "failed": sum(r["failed"] for r in rows),
        "failures": sorted({f for r in rows for f in r["failures"]})[:3],
        "pairs": rows,
    }


def pair_summary(bot: dict[str, Any], ref: dict[str, Any], n: int) -> dict[str, Any]:
    """One pair: the bot's run (its latencies, CPU seconds, images delivered, and whatever else
    it measured: RSS, counters) beside the direct run's."""
    lat, dl = bot["latencies"], ref["latencies"]
    mean_e2e, mean_direct = sum(lat) / len(lat), sum(dl) / len(dl)
    extra = {k: v for k, v in bot.items() if k not in ("latencies", "wall", "cpu_s", "images")}
    return {
        **extra,
        "n": n,
        "e2e_mean_s": mean_e2e,
        "e2e_p50_s": percentile(lat, 50),
        "e2e_max_s": max(lat),
        "direct_mean_s": mean_direct,
        "direct_p50_s": percentile(dl, 50),
        "direct_max_s": max(dl),
        "ratio_mean": mean_e2e / mean_direct,
        "ratio_makespan": bot["wall"] / ref["wall"],
        "image_bytes": sum(ref["bytes"]) / len(ref["bytes"]),
        "bot_cpu_per_image_ms": 1000 * bot["cpu_s"] / max(1, bot.get("images") or len(lat)),
        "direct_cpu_per_image_ms": 1000 * ref["cpu_s"] / max(1, len(dl)),
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]

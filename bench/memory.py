"""Memory across repeated Slack runs: allocator retention or a leak?

`python -m bench.memory [--n 200] [--runs 4] [--no-trace]` drives the Slack bot exactly as
bench/slack.py does (same emulators, same 3.06 MiB unique results, same end-to-end run), but
with the bot started as `python -m bench.memory_bot` (the bot plus a probe thread; tracemalloc
on unless --no-trace). Before the first run and after each run (1 s after the last job was
delivered, as in bench/slack.py) it asks the bot for VmRSS, glibc's mallinfo2 (bytes in use vs
free bytes malloc keeps), tracemalloc's traced size and the most numerous object types; after
the last run it also calls malloc_trim(0) in the bot. It prints the figures, the allocation
sites that grew between run 2 and the last run, and writes everything to bench/memory.txt.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import aiohttp

from bench.botproc import BotProcess
from bench.images import jpeg_2k, unique_jpeg
from bench.slack import BOT_TOKEN, PROVIDER_LATENCY, SIGNING_SECRET, BenchSlack, Rig, bot_env, end_to_end
from tests.emulators.providers import ProviderEmulator

HERE = Path(__file__).resolve().parent
MiB = 1024 * 1024


async def ask(directory: Path, key: str, *, trim: bool = False, timeout: float = 120.0) -> dict[str, Any]:
    (directory / f"{key}.req").write_text("trim" if trim else "")
    answer = directory / f"{key}.json"
    deadline = time.monotonic() + timeout
    while not answer.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"the bot did not answer probe {key}")
        await asyncio.sleep(0.1)
    data: dict[str, Any] = json.loads(answer.read_text())
    return data


def _line(label: str, p: dict[str, Any]) -> str:
    m = p["malloc"]
    traced = f"traced {p['traced'] / MiB:7.1f} MiB" if "traced" in p else "traced    -"
    return (
        f"{label:<10} RSS {p['rss'] / MiB:7.1f} MiB  {traced}  malloc in use {m['uordblks'] / MiB:7.1f} MiB"
        f"  free kept {m['fordblks'] / MiB:7.1f} MiB  (arena {m['arena'] / MiB:.1f}, mmapped"
        f" {m['hblkhd'] / MiB:.1f})  objects {p['objects_total']}"
    )


def _object_growth(old: dict[str, Any], new: dict[str, Any], top: int = 12) -> list[str]:
    names = set(old["objects"]) | set(new["objects"])
    diffs = sorted(
        ((new["objects"].get(n, 0) - old["objects"].get(n, 0), n) for n in names), key=lambda d: -abs(d[0])
    )
    return [f"  {d:+7d}  {n} (now {new['objects'].get(n, 0)})" for d, n in diffs[:top] if d]


def _snapshot_growth(directory: Path, old: str, new: str, top: int = 15) -> list[str]:
    filters = [
        tracemalloc.Filter(False, tracemalloc.__file__),
        tracemalloc.Filter(False, "<frozen importlib._bootstrap*>"),
        tracemalloc.Filter(False, "<unknown>"),
    ]
    a = tracemalloc.Snapshot.load(str(directory / f"{old}.snap")).filter_traces(filters)
    b = tracemalloc.Snapshot.load(str(directory / f"{new}.snap")).filter_traces(filters)
    lines = [f"tracemalloc, {old} -> {new}, by line (largest growth first):"]
    for stat in b.compare_to(a, "lineno")[:top]:
        lines.append(f"  {stat}")
    lines.append(f"tracemalloc, {new}, largest holders by line:")
    lines.extend(f"  {held}" for held in b.statistics("lineno")[:top])
    lines.append(f"tracemalloc, {old} -> {new}, top 3 by traceback:")
    for stat in b.compare_to(a, "traceback")[:3]:
        lines.append(f"  {stat.size_diff / 1024:+.1f} KiB, {stat.count_diff:+d} blocks")
        lines.extend(f"    {line}" for line in stat.traceback.format(limit=8))
    return lines


async def measure(n: int, runs: int, trace: bool) -> list[str]:
    image = jpeg_2k()
    report: list[str] = [
        f"bench.memory: Slack bot, N={n} x {runs} runs, tracemalloc {'on' if trace else 'off'},"
        f" MALLOC_ARENA_MAX={os.environ.get('MALLOC_ARENA_MAX', 'unset')}, load {os.getloadavg()}",
    ]
    print(report[0], flush=True)
    with tempfile.TemporaryDirectory(prefix="seedbot-memory-") as tmp:
        probes = Path(tmp) / "probes"
        probes.mkdir()
        slack = BenchSlack(bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET)
        async with (
            slack,
            ProviderEmulator() as providers,
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http,
        ):
            providers.novita.latency = PROVIDER_LATENCY
            providers.render = lambda w, h, fmt, i: unique_jpeg(image)
            env = bot_env(slack, providers, Path(tmp) / "seedbot.db") | {
                "SEEDBOT_BENCH_PROBE_DIR": str(probes),
                "SEEDBOT_BENCH_TRACEMALLOC": "1" if trace else "0",
            }
            bot = BotProcess(env, module="bench.memory_bot")
            bot.start()
            try:
                await bot.wait_ready(timeout=60)
                rig = Rig(slack, providers, bot, http, image)
                results = {"start": await ask(probes, "start")}
                report.append(_line("start", results["start"]))
                print(report[-1], flush=True)
                for k in range(1, runs + 1):
                    e2e = await end_to_end(rig, n)
                    key = f"run{k}"
                    results[key] = await ask(probes, key, trim=k == runs)
                    lat = e2e["latencies"]
                    report.append(
                        _line(key, results[key])
                        + f"  peak RSS {e2e['rss_peak'] / MiB:.0f} MiB, e2e mean {sum(lat) / len(lat):.1f} s,"
                        f" failed {e2e['failed']}"
                    )
                    print(report[-1], flush=True)
                last = results[f"run{runs}"]
                report.append(
                    f"after malloc_trim(0): RSS {last['rss_after_trim'] / MiB:.1f} MiB, free kept"
                    f" {last['malloc_after_trim']['fordblks'] / MiB:.1f} MiB"
                )
                print(report[-1], flush=True)
                old = "run2" if runs >= 3 else "run1"
                new = f"run{runs}"
                report.append(f"object types, {old} -> {new}:")
                report.extend(_object_growth(results[old], results[new]))
                if trace:
                    report.extend(_snapshot_growth(probes, old, new))
                errors = bot.matching(r" (ERROR|CRITICAL) ")
                report.append(f"bot errors logged: {len(errors)}")
                report.extend(errors[:5])
            finally:
                await bot.stop(timeout=30, check=False)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.memory")
    parser.add_argument("--n", type=int, default=200, help="mentions per run (default 200)")
    parser.add_argument("--runs", type=int, default=4, help="repeated runs (default 4)")
    parser.add_argument("--no-trace", action="store_true", help="tracemalloc off (RSS and mallinfo only)")
    parser.add_argument("--out", type=Path, default=HERE / "memory.txt", help="report file (appended)")
    args = parser.parse_args()
    report = asyncio.run(measure(args.n, args.runs, not args.no_trace))
    with args.out.open("a") as f:
        f.write("\n".join(report) + "\n\n")
    print("\n".join(report[report.index(next(r for r in report if r.startswith("object types"))) :]))


if __name__ == "__main__":
    main()

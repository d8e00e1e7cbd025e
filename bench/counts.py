"""Where the time goes per job (issue 17): the bot's counters over one overhead run.

    python -m bench.counts [--only slack|discord|web] [--n 50] [--profile]   -> bench/counts.txt

Each platform's rig (bench/slack.py, bench/discord_bench.py, bench/web.py) runs the bot as
`python -m bench.counts_bot run --PLATFORM` (the bot plus counters), one warm-up run of 5 jobs,
then one direct + bot pair at N. Printed per delivered job: CPU milliseconds (the process, and
each thread), database statements by kind and aiosqlite round trips, log records, outgoing HTTP
calls by endpoint, sockets opened, name lookups, thread hops and tasks created.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import pstats
import tempfile
from pathlib import Path
from typing import Any

from bench import discord_bench, slack, web

HERE = Path(__file__).resolve().parent
WARM_UP = 5


def _section(title: str, counter: dict[str, int], jobs: int, top: int = 25) -> list[str]:
    total = sum(counter.values())
    lines = [f"  {title}: {total / jobs:.2f} per job"]
    for key, value in sorted(counter.items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"    {value / jobs:8.2f}  {key}")
    return lines


def report(platform: str, row: dict[str, Any]) -> str:
    jobs = max(1, row["n"] - row["failed"])
    counts = row["counts"]
    c = counts["counters"]
    lines = [
        f"{platform}, N={row['n']}: end-to-end / direct {row['ratio_mean']:.3f} "
        f"(e2e {row['e2e_mean_s']:.2f} s mean, direct {row['direct_mean_s']:.2f} s); {row['failed']} failed",
        f"  CPU per job: bot {1000 * counts['cpu_s'] / jobs:.1f} ms (process_time); direct client "
        f"{row['direct_cpu_per_image_ms']:.1f} ms",
    ]
    for name, cpu in sorted(counts["thread_cpu_s"].items(), key=lambda kv: -kv[1]):
        if cpu > 0:
            lines.append(f"    {1000 * cpu / jobs:8.2f} ms  thread {name}")
    for kind, title in (
        ("sql", "SQL statements (by kind)"),
        ("sql_text", "SQL statements"),
        ("db_round_trips", "aiosqlite round trips (loop -> its thread -> loop)"),
        ("log", "log records"),
        ("http", "outgoing HTTP calls"),
        ("sockets", "sockets"),
        ("connections", "outgoing connections opened (create_connection)"),
        ("name_lookups", "name lookups (getaddrinfo)"),
        ("thread_hops", "thread hops (run_in_executor / to_thread)"),
        ("tasks", "tasks created"),
    ):
        lines += _section(title, c.get(kind, {}), jobs)
    spent = counts.get("times", {}).get("db_thread_cpu_s", {})
    lines.append(f"  aiosqlite thread CPU by call: {1000 * sum(spent.values()) / jobs:.2f} ms per job")
    sys_s = counts.get("times", {}).get("db_thread_sys_s", {})
    faults = counts.get("times", {}).get("db_thread_page_faults", {})
    for key, value in sorted(spent.items(), key=lambda kv: -kv[1])[:15]:
        lines.append(
            f"    {1000 * value / jobs:8.2f} ms (system {1000 * sys_s.get(key, 0) / jobs:.2f} ms,"
            f" {faults.get(key, 0) / jobs:.0f} page faults)  {key}"
        )
    return "\n".join(lines)


async def one(platform: str, n: int, profile: Path | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="seedbot-counts-") as probes:
        env = {"SEEDBOT_BENCH_PROBE_DIR": probes}
        if profile is not None:
            env["SEEDBOT_BENCH_PROFILE"] = str(profile)
        module = "bench.counts_bot"
        if platform == "slack":
            out = await slack.run(
                (WARM_UP, n), repeats_at_max=0, pairs=1, ack=False, module=module, extra_env=env
            )
        elif platform == "discord":
            out = await discord_bench.run((WARM_UP, n), pairs=1, ack=False, module=module, extra_env=env)
        else:
            out = await web.run((WARM_UP, n), pairs=1, module=module, extra_env=env)
    row: dict[str, Any] = out["runs"][-1]["pairs"][-1]
    return row


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.counts")
    parser.add_argument("--only", choices=["slack", "discord", "web"], action="append")
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--out", type=Path, default=HERE / "counts.txt")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also profile the event loop's thread (CPU time) over the run -> OUT.PLATFORM.prof and .txt",
    )
    args = parser.parse_args()
    parts = []
    for platform in args.only or ["slack", "discord", "web"]:
        print(f"{platform}: N={args.n} with counters", flush=True)
        prof = args.out.with_suffix(f".{platform}.prof") if args.profile else None
        parts.append(report(platform, asyncio.run(one(platform, args.n, prof))))
        if prof is not None:
            listing = io.StringIO()
            stats = pstats.Stats(str(prof), stream=listing)
            stats.sort_stats("tottime").print_stats(40)
            stats.sort_stats("cumulative").print_stats(80)
            prof.with_suffix(".txt").write_text(listing.getvalue())
    text = "\n\n".join(parts) + "\n"
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()

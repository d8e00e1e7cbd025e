"""Where the bot's event loop spends its time in an overhead run: the bot under cProfile.

python -m bench.profile [N ...]             (default: 100) -> bench/profile.txt   (Slack)
python -m bench.profile --discord [N ...]   (default: 100) -> bench/profile_discord.txt
"""

from __future__ import annotations

import asyncio
import io
import pstats
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench import discord_bench, slack

HERE = Path(__file__).resolve().parent


def main() -> None:
    args = sys.argv[1:]
    on_discord = "--discord" in args
    sizes = tuple(int(a) for a in args if a != "--discord") or (100,)
    with tempfile.TemporaryDirectory() as tmp:
        stats_path = Path(tmp) / "bot.prof"
        results: dict[str, Any]
        if on_discord:
            results = asyncio.run(discord_bench.run(sizes, pairs=1, ack=False, profile=stats_path))
        else:
            results = asyncio.run(slack.run(sizes, repeats_at_max=0, pairs=1, ack=False, profile=stats_path))
        out = io.StringIO()
        for r in results["runs"]:
            out.write(
                f"N={r['n']}: e2e {r['e2e_mean_s']:.2f} s mean vs direct {r['direct_mean_s']:.2f} s "
                f"(x{r['ratio_mean']:.2f}), bot under cProfile\n"
            )
        stats = pstats.Stats(str(stats_path), stream=out)
        stats.sort_stats("tottime").print_stats(30)
        stats.sort_stats("cumulative").print_stats(60)
    name = "profile_discord.txt" if on_discord else "profile.txt"
    (HERE / name).write_text(out.getvalue())
    print(out.getvalue()[:6000])


if __name__ == "__main__":
    main()

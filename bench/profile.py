"""Where the bot's event loop spends its time in an overhead run: the bot under cProfile.

python -m bench.profile [N ...]     (default: 100) -> bench/profile.txt
"""

from __future__ import annotations

import asyncio
import io
import pstats
import sys
import tempfile
from pathlib import Path

from bench import slack

HERE = Path(__file__).resolve().parent


def main() -> None:
    sizes = tuple(int(a) for a in sys.argv[1:]) or (100,)
    with tempfile.TemporaryDirectory() as tmp:
        stats_path = Path(tmp) / "bot.prof"
        results = asyncio.run(slack.run(sizes, repeats_at_max=0, ack=False, profile=stats_path))
        out = io.StringIO()
        for r in results["runs"]:
            out.write(
                f"N={r['n']}: e2e {r['e2e_mean_s']:.2f} s mean vs direct {r['direct_mean_s']:.2f} s "
                f"(x{r['ratio_mean']:.2f}), bot under cProfile\n"
            )
        stats = pstats.Stats(str(stats_path), stream=out)
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(40)
    (HERE / "profile.txt").write_text(out.getvalue())
    print(out.getvalue()[:6000])


if __name__ == "__main__":
    main()

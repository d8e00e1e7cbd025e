"""The bot as it is beside the bot with a candidate fix (bench/whatif_bot.py), same emulators,
same N, one run each: `python -m bench.whatif [N ...]` (default 10 100)."""

from __future__ import annotations

import asyncio
import json
import sys

from bench import slack


def main() -> None:
    sizes = tuple(int(a) for a in sys.argv[1:]) or (10, 100)
    out = {}
    for module in ("bot", "bench.whatif_bot"):
        print(module, flush=True)
        runs = asyncio.run(slack.run(sizes, repeats_at_max=0, pairs=1, ack=False, module=module))["runs"]
        out[module] = [
            {k: round(r[k], 3) for k in ("n", "e2e_mean_s", "direct_mean_s", "ratio_mean")} for r in runs
        ]
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

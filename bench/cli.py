"""An admin command's start-up: `seedbot quota show cli:local` in a fresh interpreter (on a SQLite
file with one user), beside a bare interpreter that only imports what that command needs (the
settings, the ledger and the community commands). Alternating pairs, the median ratio: what the
CLI costs beyond its own work. Before commands imported their modules lazily it loaded the
engine, the providers, Pillow and aiohttp too, and the ratio was about 2."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
COMMAND = [sys.executable, "-m", "bot", "quota", "show", "cli:local"]
REFERENCE = [sys.executable, "-c", "import bot.config, bot.ledger, bot.conversation.community"]


def _wall(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, cwd=cwd, env=env, check=True, capture_output=True, timeout=60)  # noqa: S603
    return time.perf_counter() - started


def run(pairs: int = 10) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEEDBOT_")}
    env["PYTHONPATH"] = str(REPO)
    with tempfile.TemporaryDirectory(prefix="seedbot-bench-cli-") as scratch:
        cwd = Path(scratch)
        grant = [sys.executable, "-m", "bot", "quota", "grant", "cli:local", "--images", "1"]
        _wall(grant, cwd, env)  # makes the database; also warms the file cache
        command, reference = [], []
        for _ in range(pairs):
            command.append(_wall(COMMAND, cwd, env))
            reference.append(_wall(REFERENCE, cwd, env))
    ratios = [c / r for c, r in zip(command, reference, strict=True)]
    return {
        "pairs": pairs,
        "command_s_median": statistics.median(command),
        "reference_s_median": statistics.median(reference),
        "ratio_median": statistics.median(ratios),
        "ratios": ratios,
    }

"""`python -m bot run --slack` or `--discord` in a subprocess (as in production: tests/botproc.py,
re-exported here), its log, and its memory."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from bot.config import MAX_LIMIT
from tests.botproc import REPO, BotProcess, bot_env
from tests.emulators.providers import ProviderEmulator

__all__ = ["REPO", "BotProcess", "RssSampler", "bench_env", "proc_status"]


def bench_env(db: Path, providers: ProviderEmulator, **platform: str) -> dict[str, str]:
    """The bot's environment in a benchmark: the platform settings given, Novita (the emulator)
    the only provider, and no concurrency cap or quota in the way."""
    return bot_env(
        db,
        **platform,
        NOVITA_API_KEY=providers.novita.api_key,
        NOVITA_BASE_URL=providers.base_url("novita"),
        SEEDBOT_PROVIDERS="novita",
        SEEDBOT_MAX_CONCURRENCY="500",
        SEEDBOT_USER_CONCURRENCY="500",
        # The most a limit may be (bot.config.MAX_LIMIT): 10,000,000 is refused at start since
        # SQLite overflowed past it.
        SEEDBOT_DAILY_IMAGES=str(MAX_LIMIT),
        SEEDBOT_MONTHLY_IMAGES=str(MAX_LIMIT),
    )


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS / VmHWM (and friends) of a process, in bytes."""
    out: dict[str, int] = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Vm") and line.rstrip().endswith("kB"):
                key, value = line.split(":", 1)
                out[key] = int(value.split()[0]) * 1024
    return out


class RssSampler:
    """Samples a process's VmRSS every `interval` seconds on a thread; `peak` is the maximum seen."""

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        self.pid = pid
        self.interval = interval
        self.peak = 0
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                rss = proc_status(self.pid)["VmRSS"]
            except (OSError, KeyError):
                return
            self.peak = max(self.peak, rss)
            self.samples.append((time.monotonic(), rss))
            self._stop.wait(self.interval)

"""`python -m bot run --slack` or `--discord` in a subprocess (as in production), its log, and its
memory."""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
_LISTENING = re.compile(r"slack: listening on http://[^:]+:(\d+)(/\S+)")
_DISCORD_READY = re.compile(r"discord: connected as ")


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


class BotProcess:
    def __init__(
        self,
        env: dict[str, str],
        *,
        profile: Path | None = None,
        module: str = "bot",
        platform: str = "slack",
    ) -> None:
        self.env = env
        self.platform = platform  # "slack" (HTTP mode) or "discord" (gateway)
        self.module = module  # `python -m MODULE run --slack`; bench.whatif_bot tries a fix
        self.profile = profile  # run under cProfile, writing the stats here at exit
        self.lines: list[str] = []
        self.port = 0
        self.path = "/slack/events"
        self.proc: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    def start(self) -> None:
        prefix = ["-m", "cProfile", "-o", str(self.profile)] if self.profile else []
        self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, *prefix, "-m", self.module, "run", f"--{self.platform}"],
            cwd=REPO,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._lock:
                self.lines.append(line.rstrip("\n"))

    def matching(self, pattern: str) -> list[str]:
        rx = re.compile(pattern)
        with self._lock:
            return [line for line in self.lines if rx.search(line)]

    def tail(self, n: int = 40) -> str:
        with self._lock:
            return "\n".join(self.lines[-n:])

    async def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.platform == "discord" and self.matching(_DISCORD_READY.pattern):
                return
            found = self.matching(_LISTENING.pattern)
            if found:
                match = _LISTENING.search(found[0])
                assert match is not None
                self.port, self.path = int(match.group(1)), match.group(2)
                return
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"bot exited ({self.proc.returncode}):\n{self.tail()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"bot not serving within {timeout}s:\n{self.tail()}")
            await asyncio.sleep(0.05)

    async def stop(self, timeout: float = 30.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(self.proc.wait, timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            await asyncio.to_thread(self.proc.wait, 5)

"""The bot as a process: `python -m bot run --slack` or `--discord`, exactly as in production.

`BotProcess` starts it with a given environment, collects its log (stderr) line by line on a
thread, waits for a log line (`wait_log`) or until it serves (`wait_ready`: the Discord gateway
connected, or the Slack port it bound, read from its log), and ends it with SIGTERM (`stop`) or
SIGKILL (`kill`, a crash). `BotGroup` keeps the bots of one test (a restart, or replicas on one
database): stopped together at the end, their logs printed when the test failed.

`bot_env` is the environment of such a bot: this one without any seedbot, platform or provider
setting the shell may have exported, plus what the test gives.

Used by the Slack and Discord end-to-end tests, the kill -9 and replica tests, and bench/.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import TypeVar

REPO = Path(__file__).resolve().parents[1]

# Settings a seedbot under test never inherits from the shell (tests pass what they mean): every
# test's environment, process or not, drops these (tests/conftest.py, the CLI and web helpers).
SETTING_PREFIXES = (
    "SEEDBOT_",
    "SLACK_",
    "DISCORD_",
    "NOVITA_",
    "SEGMIND_",
    "APIFRAME_",
    "MODELLIX_",
    "ARK_",
    "FAL_",
    "REPLICATE_",
)

_LISTENING = re.compile(r"slack: listening on http://[^:]+:(\d+)(/\S+)")
_READY = {
    "slack": f"{_LISTENING.pattern}|slack: connected in Socket Mode",
    "discord": r"discord: connected as ",
    "web": r"web: listening on http://",
}


def bot_env(database: str | Path, **values: str) -> dict[str, str]:
    """The environment for `python -m bot run`: this process's, minus any SEEDBOT_ / platform /
    provider variable; the repository importable, unbuffered INFO logs, private addresses allowed
    (the emulators listen on loopback), `database` as SEEDBOT_DATABASE; `values` on top."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(SETTING_PREFIXES)}
    env.update(
        PYTHONUNBUFFERED="1",
        PYTHONPATH=str(REPO),
        SEEDBOT_DATABASE=str(database),
        SEEDBOT_ALLOW_PRIVATE_NETWORK="1",
        SEEDBOT_LOG_LEVEL="INFO",
    )
    env.update(values)
    return env


class BotProcess:
    """`python -m MODULE run --PLATFORM` in a subprocess, with its log collected line by line.

    `profile`: run under cProfile, writing the stats there at exit (bench). `module`: another
    entry point with the same CLI (bench.whatif_bot tries a fix)."""

    def __init__(
        self,
        env: dict[str, str],
        cwd: Path = REPO,
        *,
        platform: str = "slack",
        module: str = "bot",
        profile: Path | None = None,
    ) -> None:
        if platform not in _READY:
            raise ValueError(f"unknown platform {platform!r}")
        self.env = env
        self.cwd = cwd
        self.platform = platform
        self.module = module
        self.profile = profile
        self.lines: list[str] = []
        self.port: int | None = None  # Slack over HTTP, once ready
        self.path = "/slack/events"
        self.proc: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        prefix = ["-m", "cProfile", "-o", str(self.profile)] if self.profile else []
        self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, *prefix, "-m", self.module, "run", f"--{self.platform}"],
            cwd=self.cwd,
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

    @property
    def pid(self) -> int:
        assert self.proc is not None, "bot not started"
        return self.proc.pid

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def url(self) -> str:
        """Where Slack events go (HTTP mode)."""
        assert self.port is not None, "bot not serving over HTTP"
        return f"http://127.0.0.1:{self.port}{self.path}"

    @property
    def log(self) -> str:
        with self._lock:
            return "\n".join(self.lines)

    def tail(self, n: int = 40) -> str:
        with self._lock:
            return "\n".join(self.lines[-n:])

    def matching(self, pattern: str) -> list[str]:
        rx = re.compile(pattern)
        with self._lock:
            return [line for line in self.lines if rx.search(line)]

    async def wait_log(self, pattern: str, count: int = 1, timeout: float = 20.0) -> list[str]:
        """Until `count` log lines match `pattern` (all matching lines so far); fails at once if
        the bot exits first."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = self.matching(pattern)
            if len(found) >= count:
                return found
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(
                    f"bot exited ({self.proc.returncode}) waiting for {pattern!r}:\n{self.log}"
                )
            if loop.time() > deadline:
                raise TimeoutError(f"{count}x {pattern!r} not logged within {timeout}s:\n{self.log}")
            await asyncio.sleep(0.02)

    async def wait_ready(self, timeout: float = 20.0) -> None:
        """Until the bot serves: Discord connected, Slack listening (port and path noted) or
        connected in Socket Mode."""
        line = (await self.wait_log(_READY[self.platform], timeout=timeout))[0]
        match = _LISTENING.search(line)
        if match:
            self.port, self.path = int(match.group(1)), match.group(2)

    async def kill(self) -> None:
        """SIGKILL: a crash, with no chance to clean up (jobs stay "running" in the ledger)."""
        assert self.proc is not None
        self.proc.kill()
        await asyncio.to_thread(self.proc.wait, 10)

    async def stop(self, timeout: float = 20.0, *, check: bool = True) -> int:
        """SIGTERM and wait for the exit code. A bot still running after `timeout` seconds is
        killed, and (with `check`) that is an AssertionError."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return await asyncio.to_thread(self.proc.wait, timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = await asyncio.to_thread(self.proc.wait, 5)
            if check:
                raise AssertionError(f"bot did not stop on SIGTERM:\n{self.log}") from None
            return code


B = TypeVar("B", bound=BotProcess)


class BotGroup:
    """The bots of one test, started one after another (a restart, or replicas sharing one
    database) and stopped together by `close`."""

    def __init__(self, label: str = "bot") -> None:
        self.label = label  # names each log when printed: "----- bot 1 log -----"
        self.bots: list[BotProcess] = []

    async def run(self, bot: B, timeout: float = 20.0) -> B:
        """Start `bot` and wait until it serves; from now on it is stopped by `close`."""
        self.bots.append(bot)
        bot.start()
        await bot.wait_ready(timeout)
        return bot

    async def close(self, *, print_logs: bool = False, max_chars: int | None = None) -> None:
        """SIGTERM to every bot still running; with `print_logs`, print each bot's log (its last
        `max_chars` characters) too. A bot that would not stop fails, after the others stopped."""
        errors: list[AssertionError] = []
        for bot in self.bots:
            try:
                await bot.stop()
            except AssertionError as exc:
                errors.append(exc)
        if print_logs:
            for i, bot in enumerate(self.bots, start=1):
                text = bot.log if max_chars is None else bot.log[-max_chars:]
                print(f"----- {self.label} {i} log -----\n{text}")
        if errors:
            raise errors[0]

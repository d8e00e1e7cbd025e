"""Fixtures for the Slack end-to-end tests: the loopback Slack emulator and the real bot.

The bot runs as `python -m bot run --slack`, exactly as in production, with SLACK_API_URL
pointing at the emulator and SLACK_PORT=0; the port it bound is read from its log. Tests
talk to it only over the wire (signed Events API requests, Socket Mode) and assert on what
the emulator recorded, waiting on those records (never on fixed sleeps).
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.emulators.slack_emulator import CHANNEL_ID, SlackEmulator

BOT_TOKEN = "xoxb-seedbot-test"
SIGNING_SECRET = "seedbot-signing-secret"
APP_TOKEN = "xapp-seedbot-test"
REPO = Path(__file__).resolve().parents[2]

_LISTENING = re.compile(r"slack: listening on http://[^:]+:(\d+)(/\S+)")
_SOCKET = "slack: connected in Socket Mode"


def png(width: int = 64, height: int = 48, color: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, format="PNG")
    return buf.getvalue()


class BotProcess:
    """`python -m bot run --slack` in a subprocess, with its log collected line by line."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env = env
        self.cwd = cwd
        self.lines: list[str] = []
        self.port: int | None = None
        self.path = "/slack/events"
        self.proc: subprocess.Popen[str] | None = None
        self.jobs_before = 0  # results already in the workspace when this bot started
        self._lock = threading.Lock()

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--slack"],
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
    def log(self) -> str:
        with self._lock:
            return "\n".join(self.lines)

    @property
    def url(self) -> str:
        assert self.port is not None, "bot not serving over HTTP"
        return f"http://127.0.0.1:{self.port}{self.path}"

    def matching(self, pattern: str) -> list[str]:
        rx = re.compile(pattern)
        with self._lock:
            return [line for line in self.lines if rx.search(line)]

    async def wait_log(self, pattern: str, count: int = 1, timeout: float = 15.0) -> list[str]:
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
        [line] = (await self.wait_log(f"{_LISTENING.pattern}|{_SOCKET}", timeout=timeout))[:1]
        match = _LISTENING.search(line)
        if match:
            self.port, self.path = int(match.group(1)), match.group(2)

    async def kill(self) -> None:
        """SIGKILL: a crash, with no chance to clean up (jobs stay "running" in the ledger)."""
        assert self.proc is not None
        self.proc.kill()
        await asyncio.to_thread(self.proc.wait, 10)

    async def stop(self, timeout: float = 20.0) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return await asyncio.to_thread(self.proc.wait, timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            await asyncio.to_thread(self.proc.wait, 5)
            raise AssertionError(f"bot did not stop on SIGTERM:\n{self.log}") from None


@pytest.fixture
async def emu() -> AsyncIterator[SlackEmulator]:
    async with SlackEmulator(bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET, app_token=APP_TOKEN) as e:
        yield e


StartBot = Callable[..., Awaitable[BotProcess]]


@pytest.fixture
async def start_bot(
    emu: SlackEmulator, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[StartBot]:
    """`await start_bot(SEEDBOT_DAILY_IMAGES="1", ...)` starts a bot (env overrides as keywords;
    `socket_mode=True` sets SLACK_APP_TOKEN instead of SLACK_SIGNING_SECRET). Bots share one database per test, so a second
    start is a restart. All are stopped at teardown; their logs are printed if the test failed."""
    bots: list[BotProcess] = []

    async def start(*, socket_mode: bool = False, **overrides: str) -> BotProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SEEDBOT_", "SLACK_", "NOVITA_"))}
        env.update(
            PYTHONUNBUFFERED="1",
            PYTHONPATH=str(REPO),
            SLACK_API_URL=emu.api_url,
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_PORT="0",
            SEEDBOT_DATABASE=str(tmp_path / "seedbot.db"),
            SEEDBOT_ALLOW_PRIVATE_NETWORK="1",
            SEEDBOT_LOG_LEVEL="INFO",
        )
        if socket_mode:  # needs no signing secret: nothing reaches the bot over HTTP
            env["SLACK_APP_TOKEN"] = APP_TOKEN
            del env["SLACK_SIGNING_SECRET"]
        env.update(overrides)
        bot = BotProcess(env, tmp_path)
        bot.jobs_before = len(controls_all(emu))
        bots.append(bot)
        bot.start()
        await bot.wait_ready()
        return bot

    yield start
    for bot in bots:
        await bot.stop()
    failed = getattr(request.node, "rep_call", None)
    if failed is None or failed.failed:
        for i, bot in enumerate(bots, start=1):
            print(f"----- bot {i} log -----\n{bot.log}")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def results(emu: SlackEmulator) -> list[dict[str, Any]]:
    """Completed uploads (one per image), oldest first."""
    return [u for u in emu.uploaded_files() if u["completed"]]


def controls(emu: SlackEmulator, channel: str = CHANNEL_ID) -> list[dict[str, Any]]:
    """Bot messages carrying the Re-roll / Variations / Edit buttons, oldest first."""
    return [
        m for m in emu.bot_messages(channel) if any(b.get("type") == "actions" for b in m.get("blocks") or [])
    ]


def button_values(message: dict[str, Any]) -> dict[str, str]:
    actions = next(b for b in message["blocks"] if b["type"] == "actions")
    return {e["action_id"]: e["value"] for e in actions["elements"]}


async def wait_results(
    emu: SlackEmulator, count: int, bot: BotProcess | None = None, timeout: float = 15.0
) -> list[dict[str, Any]]:
    """Wait for `count` completed uploads and the buttons of the job that made the last one;
    with `bot`, also until the bot has recorded every uploaded job as delivered (ledger)."""

    def done() -> list[dict[str, Any]] | None:
        found = results(emu)
        # The buttons follow the upload; wait for them so the job is fully delivered.
        uploads = emu.calls("files.completeUploadExternal")
        if len(found) >= count and len(controls_all(emu)) >= len(uploads):
            return found
        return None

    result: list[dict[str, Any]] = await emu.wait_for(done, timeout, message=f"{count} uploaded images")
    if bot is not None:
        await bot.wait_log(r"job \w+: delivered", count=len(controls_all(emu)) - bot.jobs_before)
    return result


def controls_all(emu: SlackEmulator) -> list[dict[str, Any]]:
    return [m for c in emu.messages for m in controls(emu, c)]

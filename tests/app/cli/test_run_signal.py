"""`seedbot run` in a subprocess on the Slack emulator: /healthz over HTTP, then SIGTERM with a
job in flight on a polling provider (Modellix emulator). The process exits 0, the job is left
'running' with its reservation held, and the next start resumes it and delivers."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sqlite3
from pathlib import Path
from typing import Any

import httpx

from tests.app.helpers import bot_command, clean_env
from tests.emulators.providers import ProviderEmulator
from tests.emulators.slack import SlackEmulator


class Bot:
    """A `seedbot run` child process whose JSON log lines are read as they come."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[dict[str, Any]] = []
        self.raw: list[str] = []
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, cwd: Path, env: dict[str, str]) -> Bot:
        proc = await asyncio.create_subprocess_exec(
            *bot_command("run"), cwd=cwd, env=clean_env(**env), stderr=asyncio.subprocess.PIPE
        )
        return cls(proc)

    async def _read(self) -> None:
        assert self.proc.stderr is not None
        async for raw in self.proc.stderr:
            text = raw.decode().rstrip("\n")
            self.raw.append(text)
            if text.startswith("{"):
                self.lines.append(json.loads(text))

    async def wait_for(self, pattern: str, timeout: float = 20.0) -> re.Match[str]:
        async with asyncio.timeout(timeout):
            while True:
                for line in self.lines:
                    found = re.search(pattern, line["message"])
                    if found:
                        return found
                if self.proc.returncode is not None:
                    raise AssertionError("seedbot exited:\n" + "\n".join(self.raw))
                await asyncio.sleep(0.02)

    async def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        self.proc.send_signal(sig)
        code = await asyncio.wait_for(self.proc.wait(), timeout)
        await self._reader
        return code

    def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


async def until(condition: Any, timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.05)


async def test_sigterm_with_a_job_in_flight_exits_cleanly_and_the_next_start_resumes(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    async with ProviderEmulator() as providers, SlackEmulator() as slack:
        providers.modellix.pending_polls = 100_000  # the task stays pending until we say so
        env = {
            "SEEDBOT_DATABASE": str(db),
            "SEEDBOT_PROVIDERS": "modellix",
            "MODELLIX_API_KEY": providers.modellix.api_key,
            "MODELLIX_BASE_URL": providers.base_url("modellix"),
            "SEEDBOT_POLL_INTERVAL": "0.05",
            "SEEDBOT_ALLOW_PRIVATE_NETWORK": "true",
            "SEEDBOT_HTTP_PORT": "0",
            "SEEDBOT_SHUTDOWN_GRACE": "0.5",
            "SEEDBOT_LOG_FORMAT": "json",
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_SIGNING_SECRET": slack.signing_secret,
            "SLACK_API_URL": slack.api_url,
            "SLACK_PORT": "0",
        }
        bot = await Bot.start(tmp_path, env)
        try:
            health_port = int((await bot.wait_for(r"health and metrics on http://[\d.]+:(\d+)/")).group(1))
            slack_port = int((await bot.wait_for(r"slack: listening on http://[\d.]+:(\d+)/")).group(1))
            await bot.wait_for(r"^slack connected$")
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{health_port}") as http:
                health = await http.get("/healthz")
                assert health.status_code == 200, health.text
                assert health.json()["checks"] == {"database": "ok", "platform:slack": "ok"}

                await slack.post_event(
                    f"http://127.0.0.1:{slack_port}/slack/events", slack.mention_event("a red fox --n 2")
                )
                await until(lambda: bool(rows(db, "SELECT 1 FROM jobs WHERE provider_task_id IS NOT NULL")))
                metrics = (await http.get("/metrics")).text
                assert "seedbot_jobs_running 1.0" in metrics

            code = await bot.stop(signal.SIGTERM)
        finally:
            bot.kill()
        log = "\n".join(bot.raw)
        assert code == 0, log
        # (bot.app.platform may log an adapter that other work has left unloadable; not ours to judge)
        errors = [
            line for line in bot.lines if line["level"] == "ERROR" and line["logger"] != "bot.app.platform"
        ]
        assert errors == [], errors
        messages = [line["message"] for line in bot.lines]
        assert "SIGTERM: shutting down (no new jobs; running ones get SEEDBOT_SHUTDOWN_GRACE)" in messages
        assert "shutting down: cancelling 1 job(s) still running" in messages
        (job_id, status, task_id, reservation_state) = rows(
            db,
            "SELECT j.id, j.status, j.provider_task_id, r.state FROM jobs j "
            "JOIN reservations r ON r.id = j.reservation_id",
        )[0]
        assert (status, reservation_state) == ("running", "reserved")
        checkpoint = [line for line in bot.lines if "left running on modellix" in line["message"]]
        assert checkpoint and checkpoint[0]["job_id"] == job_id and checkpoint[0]["platform"] == "slack"

        # Next start: the provider has finished meanwhile; polling resumes, no second submit.
        providers.modellix.tasks[task_id].pending = 0
        submits = providers.modellix.submissions
        bot = await Bot.start(tmp_path, env)
        try:
            await bot.wait_for(r"resuming 1 job\(s\) left running by the last run")
            await until(lambda: rows(db, f"SELECT status FROM jobs WHERE id = '{job_id}'")[0][0] != "running")
            code = await bot.stop(signal.SIGINT)
        finally:
            bot.kill()
        assert code == 0, "\n".join(bot.raw)
        assert rows(db, f"SELECT status, images_delivered FROM jobs WHERE id = '{job_id}'") == [
            ("succeeded", 2)
        ]
        assert rows(db, "SELECT state, used FROM reservations") == [("settled", 2)]
        assert providers.modellix.submissions == submits == 1

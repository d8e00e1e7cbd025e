"""One `seedbot run` per SQLite file: two real processes. The second refuses at start-up with one
line naming the first one's pid (leases, which let processes take each other's jobs over, are
PostgreSQL's); CLI commands, `generate` included, still work beside the running bot; once the
first one dies (even by SIGKILL) the next one starts."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

from tests.botproc import BotGroup, BotProcess, bot_env
from tests.cli_process import run_cli
from tests.emulators.slack import SlackEmulator


def seedbot(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(cwd, list(args), env)


async def test_a_second_bot_on_the_same_sqlite_file_refuses_to_start(tmp_path: Path) -> None:
    db = tmp_path / "seedbot.db"
    bots = BotGroup()
    failed = True
    async with SlackEmulator() as slack:
        env = bot_env(
            db,
            SLACK_API_URL=slack.api_url,
            SLACK_BOT_TOKEN=slack.bot_token,
            SLACK_SIGNING_SECRET=slack.signing_secret,
            SLACK_PORT="0",
        )
        try:
            first = await bots.run(BotProcess(env, tmp_path))

            second = await asyncio.to_thread(seedbot, env, tmp_path, "run", "--slack")
            assert second.returncode == 1, second.stderr
            assert "Traceback" not in second.stderr
            said = [line for line in second.stderr.splitlines() if line.startswith("seedbot:")]
            assert said == [
                f"seedbot: another seedbot (pid {first.pid}) is using {db}; use PostgreSQL "
                "(SEEDBOT_DATABASE=postgresql://...) to run several"
            ], second.stderr
            assert "listening" not in second.stderr and "applying migration" not in second.stderr
            assert first.running

            # Beside the bot: read-only commands and `generate` (its job is its own, held by
            # its own process; the bot only looks for unfinished jobs when it starts).
            stats, made = await asyncio.gather(
                asyncio.to_thread(seedbot, env, tmp_path, "stats"),
                asyncio.to_thread(
                    seedbot, env, tmp_path, "generate", "a fox", "--provider", "demo", "--out", "o"
                ),
            )
            assert stats.returncode == 0, stats.stderr
            assert made.returncode == 0, made.stderr

            await first.kill()  # the kernel drops a dead process's flock
            third = await bots.run(BotProcess(env, tmp_path))
            assert third.running and f"pid {first.pid}" not in third.log
            failed = False
        finally:
            await bots.close(print_logs=failed, max_chars=20000)

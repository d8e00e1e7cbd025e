"""`seedbot` as its own process (`python -m bot ...`, see tests/cli_process.py) with a clean
environment, and what to check of its output: the CLI tests' and the cross-cutting suites' way to
run the real command."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.botproc import SETTING_PREFIXES
from tests.cli_process import run_cli

REPO = Path(__file__).resolve().parents[3]


def seedbot(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(SETTING_PREFIXES)}
    clean["PYTHONPATH"] = str(REPO)
    clean.update(env or {})
    return run_cli(cwd, list(args), clean)


def in_parallel(calls: list[tuple[Path, list[str]]]) -> list[subprocess.CompletedProcess[str]]:
    """Independent invocations at once (each in its own directory or read-only)."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda call: seedbot(call[0], *call[1]), calls))


def no_traceback(proc: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr


def friendly_one_liner(proc: subprocess.CompletedProcess[str]) -> str:
    """The error a user sees: exit code != 0, one line on stderr (logging aside), no traceback."""
    assert proc.returncode != 0
    no_traceback(proc)
    lines = [line for line in proc.stderr.splitlines() if line.startswith("seedbot:")]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def jobs_and_holds(cwd: Path) -> tuple[int, int]:
    with sqlite3.connect(cwd / "seedbot.db") as db:
        jobs = db.execute("SELECT COUNT(*) FROM jobs").fetchone()[0]
        held = db.execute("SELECT COUNT(*) FROM reservations WHERE state = 'reserved'").fetchone()[0]
    return jobs, held

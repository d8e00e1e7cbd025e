"""Logs: text by default, JSON lines on request; job id, platform and user on every line of a
job; secrets redacted from messages and tracebacks in both formats."""

from __future__ import annotations

import json
import logging
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app.runtime import open_runtime
from bot.config import Settings
from bot.ledger import database_down
from bot.logs import (
    NetworkNotices,
    configure_logging,
    current_job,
    job_context,
    log_problem,
    quiet_library,
)
from tests.app.helpers import ALICE, bot_command, clean_env, deliver_all, fox, settings

SECRET = "sk-live-0123456789abcdef"


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def log_with_secret() -> None:
    log = logging.getLogger("bot.test")
    log.info("calling with key %s", SECRET)
    try:
        raise RuntimeError(f"provider refused key {SECRET}")
    except RuntimeError:
        log.exception("provider call failed")


def test_json_lines_carry_the_job_and_redact_secrets(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", [SECRET], "json")
    with job_context("abc123", "discord", "discord:1"):
        log_with_secret()
    logging.getLogger("bot.test").warning("outside any job")
    err = capsys.readouterr().err
    assert SECRET not in err
    lines = [json.loads(line) for line in err.splitlines()]
    assert len(lines) == 3
    first, failed, outside = lines
    assert first["message"] == "calling with key [redacted]"
    assert first["level"] == "INFO" and first["logger"] == "bot.test" and first["time"].endswith("+00:00")
    for line in (first, failed):
        assert (line["job_id"], line["platform"], line["user"]) == ("abc123", "discord", "discord:1")
    assert "Traceback" in failed["exception"] and "provider refused key [redacted]" in failed["exception"]
    assert "job_id" not in outside and outside["message"] == "outside any job"
    assert current_job() is None


def test_text_lines_show_the_job_and_redact_secrets(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", [SECRET], "text")
    with job_context("abc123", "slack", "slack:T1:U1"):
        log_with_secret()
    err = capsys.readouterr().err
    assert SECRET not in err
    assert "bot.test: [job=abc123 platform=slack user=slack:T1:U1] calling with key [redacted]" in err
    assert "Traceback" in err and "provider refused key [redacted]" in err


def test_a_text_line_cannot_be_split_or_escape_the_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    """Words quoted in a message (a refused flag's value, a host's error) are written escaped."""
    configure_logging("INFO", [], "text")
    value = "1\n2026-12-06 00:00:00,000 ERROR   bot: forged\r\x1b[2J\x00"
    logging.getLogger("bot.test").info("refused: %r is not a ratio %s", "x", value)
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.endswith(
        "refused: 'x' is not a ratio 1\\n2026-12-06 00:00:00,000 ERROR   bot: forged\\r\\x1b[2J\\x00\n"
    )


def test_log_format_setting() -> None:
    assert Settings(_env_file=None).log_format == "text"  # type: ignore[call-arg]
    assert Settings(_env_file=None, SEEDBOT_LOG_FORMAT="JSON").log_format == "json"  # type: ignore[call-arg]
    with pytest.raises(ValueError):
        Settings(_env_file=None, SEEDBOT_LOG_FORMAT="xml")  # type: ignore[call-arg]


async def test_every_engine_line_of_a_job_carries_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("DEBUG", [], "json")
    async with open_runtime(settings(tmp_path)) as runtime:
        result, _ = await runtime.engine.generate(fox(), ALICE, deliver=deliver_all)
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    # Lines logged in the job's task; library worker threads (aiosqlite at DEBUG) have no job.
    of_job = [
        line for line in lines if result.job_id in line["message"] and line["logger"].startswith("bot.")
    ]
    assert len(of_job) >= 2  # "asked for" and "delivered"
    for line in of_job:
        assert (line["job_id"], line["platform"], line["user"]) == (result.job_id, "discord", "discord:1")


def test_generate_from_the_shell_logs_json_lines(tmp_path: Path) -> None:
    proc = subprocess.run(  # noqa: S603
        bot_command("generate", "a red fox", "-v", "--provider", "demo", "--out", str(tmp_path)),
        cwd=tmp_path,
        env=clean_env(SEEDBOT_LOG_FORMAT="json", SEGMIND_API_KEY=SECRET),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stderr.splitlines() if line.startswith("{")]
    jobs = [line for line in lines if line.get("job_id")]
    assert jobs and all(line["platform"] == "cli" and line["user"] == "cli:local" for line in jobs)
    assert SECRET not in proc.stderr + proc.stdout


def test_a_library_network_notice_is_one_line_and_other_records_pass_unchanged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    notices = NetworkNotices("chat", notices=("Reconnecting",), drop=lambda m: m == "on purpose")
    library = logging.getLogger("tests.chatlib")
    quiet_library(notices, on=(library.name,), capped=("tests.chatlib.http",))
    quiet_library(notices, on=(library.name,), capped=())  # once is enough
    assert library.filters.count(notices) == 1
    caplog.set_level(logging.DEBUG)
    library.warning("on purpose")
    library.error("Reconnecting soon")  # no traceback: nothing to shorten
    try:
        raise TimeoutError("timed out")
    except TimeoutError:
        library.exception("Reconnecting in %ss", 2)
        library.exception("Something else broke")  # not a network notice: its traceback stays
    shown = [
        (r.levelname, r.getMessage(), bool(r.exc_info)) for r in caplog.records if r.name == library.name
    ]
    assert shown == [
        ("ERROR", "Reconnecting soon", False),
        ("WARNING", "chat: Reconnecting in 2s (TimeoutError: timed out)", False),
        ("ERROR", "Something else broke", True),
    ]
    assert logging.getLogger("tests.chatlib.http").level == logging.WARNING


def test_a_problem_carried_on_after_is_one_line_and_a_bug_keeps_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log = logging.getLogger("tests.loop")
    caplog.set_level(logging.DEBUG)
    for exc in (ConnectionRefusedError(111, "Connect call failed"), TimeoutError(), KeyError("job")):
        log_problem(log, logging.WARNING, "renewal of %d failed", 3, exc=exc, expected=database_down)
    shown = [(r.levelname, r.getMessage(), bool(r.exc_info)) for r in caplog.records]
    assert shown == [
        ("WARNING", "renewal of 3 failed (ConnectionRefusedError: [Errno 111] Connect call failed)", False),
        ("DEBUG", "renewal of 3 failed", True),
        ("WARNING", "renewal of 3 failed (TimeoutError)", False),
        ("DEBUG", "renewal of 3 failed", True),
        ("WARNING", "renewal of 3 failed", True),  # not expected: a bug, its traceback shown
    ]

"""Logging set-up: one place, with every configured secret redacted from every line.

Two formats: readable text (default) and JSON lines (`SEEDBOT_LOG_FORMAT=json`). While a job
runs, every line logged in its task (engine, providers, adapters) carries the job id, platform
and user, set by the engine through `job_context` and added to records by `JobContextFilter`.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

__all__ = [
    "JobContextFilter",
    "JsonFormatter",
    "NetworkNotices",
    "RedactingFilter",
    "TextFormatter",
    "configure_logging",
    "current_job",
    "job_context",
    "log_problem",
    "quiet_library",
]

REDACTED = "[redacted]"

# (job id, platform, user key) of the job the current task is working on, if any.
_JOB: contextvars.ContextVar[tuple[str, str, str] | None] = contextvars.ContextVar(
    "seedbot_job", default=None
)


@contextmanager
def job_context(job_id: str, platform: str, user: str) -> Iterator[None]:
    """Tag every log line of the current task (and tasks it starts) with this job."""
    token = _JOB.set((job_id, platform, user))
    try:
        yield
    finally:
        _JOB.reset(token)


def current_job() -> tuple[str, str, str] | None:
    return _JOB.get()


class JobContextFilter(logging.Filter):
    """Add `job_id`, `platform`, `user` (None outside a job) and `job_tag` (text form) to records."""

    def filter(self, record: logging.LogRecord) -> bool:
        job = _JOB.get()
        job_id, platform, user = job if job is not None else (None, None, None)
        record.job_id = job_id
        record.platform = platform
        record.user = user
        record.job_tag = f" [job={job_id} platform={platform} user={user}]" if job is not None else ""
        return True


class RedactingFilter(logging.Filter):
    """Replace secret values in the rendered message (args included) and in tracebacks."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        # Longest first, so a secret that contains another is redacted whole.
        self.secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            record.msg = self.scrub(record.getMessage())
            record.args = None
            if record.exc_info and record.exc_info[1] is not None:
                record.exc_text = self.scrub(logging.Formatter().formatException(record.exc_info))
                record.exc_info = None
            elif record.exc_text:
                record.exc_text = self.scrub(record.exc_text)
            if record.stack_info:
                record.stack_info = self.scrub(record.stack_info)
        return True


class NetworkNotices(logging.Filter):
    """A chat library logs its reconnects with a traceback, for what is a network problem: each
    such notice becomes one WARNING line that names the error (the traceback goes to DEBUG).
    `drop`: messages not logged at all (warnings about what seedbot does on purpose)."""

    def __init__(self, label: str, *, notices: tuple[str, ...], drop: Callable[[str], bool]) -> None:
        super().__init__()
        self.label, self.notices, self.drop = label, notices, drop

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.drop(message):
            return False
        if record.exc_info and message.startswith(self.notices):
            exc = record.exc_info[1]
            logging.getLogger(__name__).debug("%s: %s", self.label, message, exc_info=record.exc_info)
            if exc is not None and str(exc) not in message:
                message += f" ({type(exc).__name__}: {exc})"
            record.msg, record.args = f"{self.label}: {message}", None
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def log_problem(
    logger: logging.Logger,
    level: int,
    message: str,
    *args: object,
    exc: BaseException,
    expected: Callable[[BaseException], bool],
) -> None:
    """A problem the process carries on after (the database down, a network outage): one line
    naming the error, e.g. "renewal failed (ConnectionRefusedError: ...)", and the traceback at
    DEBUG; a loop retrying through an outage logged a traceback each time. An error of none of
    the `expected` kind is a bug: its traceback stays with the line."""
    if not expected(exc):
        logger.log(level, message, *args, exc_info=exc)
        return
    named = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    logger.log(level, f"{message} (%s)", *args, named)
    logger.debug(message, *args, exc_info=exc)


def quiet_library(notices: NetworkNotices, *, on: Iterable[str], capped: Iterable[str]) -> None:
    """Install `notices` on the `on` loggers (once), and keep the `capped` ones, which log
    request URLs and payloads at INFO and DEBUG, at WARNING or the root's level if higher."""
    for name in on:
        logger = logging.getLogger(name)
        if notices not in logger.filters:
            logger.addFilter(notices)
    root = logging.getLogger().getEffectiveLevel()
    for name in capped:
        logging.getLogger(name).setLevel(max(logging.WARNING, root))


class TextFormatter(logging.Formatter):
    """One line a record (a traceback below it, as Python prints one). Control characters in the
    message are written escaped: a user's or a host's words quoted in it (a refused flag value,
    an error text) can't start a forged line or send a terminal escape."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s:%(job_tag)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "job_tag"):  # a handler without JobContextFilter
            record.job_tag = ""
        return super().format(record)

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = _CONTROL.sub(lambda m: repr(m.group())[1:-1], record.message)
        return super().formatMessage(record)


_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # all but the tab


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, job fields, exception text."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in ("job_id", "platform", "user"):
            value = getattr(record, field, None)
            if value is not None:
                entry[field] = value
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str, secrets: list[str], fmt: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(JobContextFilter())
    handler.addFilter(RedactingFilter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Library loggers that log request URLs or payloads at INFO stay at WARNING (each platform
    # adapter does the same for its own libraries when it starts).
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))

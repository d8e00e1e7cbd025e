"""bot/conversation/tasks.py: work a surface runs after acknowledging an event is tracked, so a
shutdown lets it finish for the grace period, cancels the rest, and takes no new work."""

from __future__ import annotations

import asyncio
import logging
import sqlite3

import pytest

from bot.conversation.tasks import BackgroundTasks


async def test_running_work_finishes_within_the_grace_and_is_forgotten() -> None:
    tasks, done = BackgroundTasks("discord"), asyncio.Event()

    async def turn() -> None:
        await asyncio.sleep(0.01)
        done.set()

    assert tasks.spawn(turn(), name="turn") and len(tasks) == 1
    await tasks.close(grace=5)
    assert done.is_set() and len(tasks) == 0


async def test_work_past_the_grace_is_cancelled(caplog: pytest.LogCaptureFixture) -> None:
    tasks, cancelled = BackgroundTasks("slack"), asyncio.Event()

    async def stuck() -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()  # the engine refunds here
            raise

    tasks.spawn(stuck(), name="stuck")
    await asyncio.sleep(0)
    with caplog.at_level(logging.INFO, logger="bot.conversation.tasks"):
        await asyncio.wait_for(tasks.close(grace=0.05), 5)
    assert cancelled.is_set() and len(tasks) == 0
    assert "slack: cancelled 1 unfinished task(s) at shutdown" in caplog.text


async def test_once_closing_new_work_is_dropped_without_a_never_awaited_warning() -> None:
    tasks, ran = BackgroundTasks(), []

    async def turn() -> None:
        ran.append(1)

    await tasks.close(grace=1)
    coro = turn()
    assert tasks.spawn(coro, name="late") is False
    assert coro.cr_frame is None  # closed: Python would warn of a coroutine never awaited
    await asyncio.sleep(0)
    assert ran == [] and len(tasks) == 0


async def test_a_failed_task_is_logged_with_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    tasks = BackgroundTasks("web")

    async def broken() -> None:
        raise RuntimeError("boom")

    with caplog.at_level(logging.ERROR, logger="bot.conversation.tasks"):
        tasks.spawn(broken(), name="turn 42")
        await asyncio.sleep(0.01)
    [record] = [r for r in caplog.records if r.name == "bot.conversation.tasks"]
    assert record.getMessage() == "web: task turn 42 failed"
    assert record.exc_info is not None and "boom" in str(record.exc_info[1])
    assert len(tasks) == 0


async def test_a_task_failed_by_the_database_is_one_line(caplog: pytest.LogCaptureFixture) -> None:
    """The database down fails every event's task alike: one line each naming the error, not a
    traceback each (it goes to DEBUG)."""
    tasks = BackgroundTasks("slack")

    async def locked() -> None:
        raise sqlite3.OperationalError("database is locked")

    with caplog.at_level(logging.ERROR, logger="bot.conversation.tasks"):
        tasks.spawn(locked(), name="mention C1/1.2")
        await asyncio.sleep(0.01)
    [record] = [r for r in caplog.records if r.name == "bot.conversation.tasks"]
    assert record.getMessage() == "slack: task mention C1/1.2 failed (OperationalError: database is locked)"
    assert record.exc_info is None

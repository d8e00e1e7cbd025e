"""Conversation: which job a thread belongs to, while its job finishes."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from bot.conversation.conversation import _picked
from bot.errors import InvalidRequest
from bot.request.models import GeneratedImage, ImageInput, Job, JobStatus
from tests.engine.helpers import Harness, TestProvider, open_engine, settings
from tests.ledger.helpers import make_job


async def _running_in_thread(h: Harness) -> Job:
    job = make_job(
        "busy", platform="slack", status=JobStatus.RUNNING, channel_id="C1", thread_id="100.000001"
    )
    await h.ledger.create_job(job, ())
    return job


def _finishing_after_first_read(h: Harness, job: Job, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The job is delivered and closed right after the first thread read: the moment a reply
    in its thread can arrive when the result has just appeared."""
    reads: list[str] = []
    ledger = h.ledger

    def wrap(name: str, read: Callable[..., Awaitable[Job | None]]) -> Callable[..., Awaitable[Job | None]]:
        async def wrapped(*args: object) -> Job | None:
            found = await read(*args)
            reads.append(name)
            if len(reads) == 1:
                await ledger.save_outputs(job.id, [GeneratedImage(b"castle", "image/png", 8, 8)])
                await ledger.finish_job(job.id, JobStatus.SUCCEEDED, delivered=1)
            return found

        return wrapped

    monkeypatch.setattr(ledger, "latest_in_thread", wrap("latest", ledger.latest_in_thread))
    monkeypatch.setattr(ledger, "working_in_thread", wrap("working", ledger.working_in_thread))
    return reads


async def test_a_thread_whose_job_finishes_between_the_reads_is_still_ours(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = await _running_in_thread(h)
    reads = _finishing_after_first_read(h, job, monkeypatch)
    assert await h.conversation.in_thread("slack", "C1", "100.000001")
    assert reads == ["working", "latest"]
    finished = await h.ledger.get_job(job.id)
    assert finished is not None and finished.status == JobStatus.SUCCEEDED


async def test_a_thread_with_a_result_and_a_job_at_work_edits_the_result(h: Harness) -> None:
    job = await _running_in_thread(h)
    await h.ledger.save_outputs(job.id, [GeneratedImage(b"castle", "image/png", 8, 8)])
    await h.ledger.finish_job(job.id, JobStatus.SUCCEEDED, delivered=1)
    again = dataclasses.replace(job, id="again", status=JobStatus.RUNNING)
    await h.ledger.create_job(again, ())
    found = await h.conversation._thread_job("slack", "C1", "100.000001")
    assert found is not None and found.id == job.id
    assert not await h.conversation.in_thread("slack", "C1", "200.000002")


async def test_a_forged_job_id_is_no_job_on_either_ledger(tmp_path: Path, database: str) -> None:
    """A form field or typed text names the result; with a NUL in it PostgreSQL refused the
    lookup (an error and a traceback, not "that is not one of my results")."""
    config = settings(tmp_path, database=database)
    h = await open_engine(config, TestProvider(config))
    try:
        for forged in ("abc\x00", "x" * 5000, "'; --", "", "ABCDEF"):
            assert await h.conversation.where(forged) is None
    finally:
        await h.close()


def test_picks_choose_among_the_quoted_images_else_the_attached_ones() -> None:
    a, b, c, new = (ImageInput(data=n.encode(), mime="image/png", width=8, height=8, name=n) for n in "abcn")
    assert _picked([a, b, c, new], (3, 1), quoted=3) == [c, a, new]  # named, then what was attached
    assert _picked([a, b], (2,), quoted=0) == [b]  # none quoted: among the attached
    assert _picked([a, b], (), quoted=2) == [a, b]
    assert _picked([], (2,), quoted=0) == []  # nothing to pick from: the words stand alone
    with pytest.raises(InvalidRequest):
        _picked([a, b, c], (5,), quoted=3)


async def test_an_event_the_database_cannot_check_counts_as_first_seen(
    h: Harness, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Slack's event, acked and then dropped on the database's error, was never answered."""

    async def down(key: str) -> bool:
        raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)")

    async def broken(key: str) -> bool:
        raise KeyError(key)

    async def seen(key: str) -> bool:
        return False

    monkeypatch.setattr(h.ledger, "first_sighting", down)
    with caplog.at_level(logging.DEBUG, logger="bot.conversation.conversation"):
        assert await h.conversation.first_sighting("slack:C1/1.2") is True
    assert [(r.levelname, r.getMessage()) for r in caplog.records if not r.exc_info] == [
        (
            "WARNING",
            "could not check event slack:C1/1.2 against other processes; answering it "
            "(ConnectionRefusedError: [Errno 111] Connect call failed ('127.0.0.1', 5432))",
        )
    ]
    monkeypatch.setattr(h.ledger, "first_sighting", seen)
    assert await h.conversation.first_sighting("slack:C1/1.2") is False
    monkeypatch.setattr(h.ledger, "first_sighting", broken)
    with pytest.raises(KeyError):  # a bug is no outage
        await h.conversation.first_sighting("slack:C1/1.2")

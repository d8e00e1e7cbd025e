"""The values a job passes around (bot/engine/job.py): an admitted request's price, how a
progress event reads, the stored request a restart rebuilds the job from, best-effort progress,
the kind of an all-failed batch, and the timestamps the ledger stores."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from datetime import UTC, datetime, timedelta

import pytest

from bot import messages
from bot.engine.job import (
    Admitted,
    ProgressEvent,
    all_failed_kind,
    now_iso,
    quiet,
    request_from_json,
    request_to_json,
)
from bot.errors import ProviderErrorKind
from bot.request.models import ImageInput
from bot.request.validation import validate
from bot.request.workspace import WorkspacePolicy
from tests.engine.helpers import Events, fox

REF = ImageInput(data=b"\x89PNG-ish", mime="image/png", width=1600, height=900, name="cat.png")


def test_an_admitted_request_costs_its_weight_for_each_image() -> None:
    request = fox(model="4.5", resolution="4K", count=3)
    admitted = Admitted(request, validate(request), WorkspacePolicy(), weight=2)
    assert admitted.cost == 6


def test_progress_events_read_as_the_stage_they_report() -> None:
    assert ProgressEvent("queued", position=3).text() == "Queued: you are #3 in line."
    # No position known yet: first in line, never "#None" or "#0".
    assert ProgressEvent("queued").text() == "Queued: you are #1 in line."
    assert ProgressEvent("running", elapsed=12.4).text() == "Generating… 12s"
    assert ProgressEvent("running", elapsed=3, percent=45).text() == "Generating… 3s  █████░░░░░░░ 45%"
    assert ProgressEvent("done", elapsed=9, provider="ark").text() == messages.running(9, 100.0)


def test_a_stored_request_rebuilds_the_same_request_through_json() -> None:
    """The job row keeps the request as JSON; a restart or a re-roll rebuilds it from that."""
    request = fox(
        images=(REF,),
        model="4.5",
        resolution="4K",
        aspect="16:9",
        count=3,
        watermark=True,
        provider="ark",
        style="noir",
    )
    stored = json.loads(json.dumps(request_to_json(request)))
    assert request_from_json(stored, [REF]) == request


def test_a_stored_request_keeps_the_count_of_its_references_not_their_bytes() -> None:
    stored = request_to_json(fox(images=(REF, REF)))
    assert "images" not in stored
    assert stored["image_count"] == 2
    assert stored["prompt"] == "a red fox in the snow"


def test_keys_a_request_does_not_have_are_ignored_when_it_is_rebuilt() -> None:
    """The engine stores more beside the request (size, tier, weight, locale), and a job recorded
    by another seedbot may hold keys this one does not know, or lack ones it added since."""
    stored = {
        **request_to_json(fox(count=2)),
        "size": "2048x2048",
        "tier": "2K",
        "weight": 1,
        "locale": "ja",
        "from_a_newer_seedbot": True,
    }
    del stored["style"]
    assert request_from_json(stored, []) == fox(count=2)


def test_references_are_given_back_in_the_order_passed() -> None:
    other = ImageInput(data=b"other", mime="image/jpeg", width=2000, height=2000, name="dog.jpg")
    rebuilt = request_from_json(request_to_json(fox(images=(REF, other))), [other, REF])
    assert rebuilt.images == (other, REF)


async def test_progress_reaches_the_callback() -> None:
    events = Events()
    event = ProgressEvent("queued", position=2)
    await quiet(events, event)
    assert events.seen == [event]
    await quiet(None, event)  # no callback: nothing to do, no error


async def test_a_failing_progress_callback_never_fails_the_job(caplog: pytest.LogCaptureFixture) -> None:
    async def broken(event: ProgressEvent) -> None:
        raise RuntimeError("message was deleted")

    with caplog.at_level(logging.WARNING, logger="bot.engine.job"):
        await quiet(broken, ProgressEvent("running", elapsed=1))
    assert [r.getMessage() for r in caplog.records] == ["progress callback failed"]


async def test_a_cancelled_progress_callback_is_not_swallowed() -> None:
    """Cancel (or shutdown) reaching the job during a status edit must still stop it."""

    async def cancelled(event: ProgressEvent) -> None:
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await quiet(cancelled, ProgressEvent("running"))


def test_a_batch_whose_every_image_was_refused_is_moderation_and_none_returned_is_unavailable() -> None:
    """Every image refused one by one is almost always the content filter."""
    assert all_failed_kind(1) is ProviderErrorKind.MODERATION
    assert all_failed_kind(4) is ProviderErrorKind.MODERATION
    assert all_failed_kind(0) is ProviderErrorKind.UNAVAILABLE


def test_timestamps_are_utc_to_the_millisecond() -> None:
    before = datetime.now(UTC)
    stamp = now_iso()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", stamp)
    parsed = datetime.fromisoformat(stamp)
    assert parsed.utcoffset() == timedelta(0)
    assert before - timedelta(milliseconds=1) <= parsed <= datetime.now(UTC)

"""SEEDBOT_IMAGE_RETENTION_DAYS: old jobs' images go, the jobs stay, and an edit, re-roll or
variations of such a job gets a clear refusal (before any charge) instead of a different request."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import messages
from bot.config import Settings
from bot.conversation.compose import compose_edit, reroll, variations
from bot.errors import InvalidRequest
from bot.ledger.retention import ImageRetention
from bot.request.models import GeneratedImage, GenerationRequest, Job, JobKind, JobStatus, Requester
from tests.engine.helpers import Deliverer, Harness, TestProvider, open_engine, settings

ALICE = Requester(platform="discord", user_id="1", workspace_id="g1", channel_id="c1")
LATER = datetime.now(UTC) + timedelta(days=31)


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    config = settings(tmp_path)
    harness = await open_engine(config, TestProvider(config, images=2))
    try:
        yield harness
    finally:
        await harness.close()


async def _job(h: Harness, job_id: str) -> Job:
    job = await h.ledger.get_job(job_id)
    assert job is not None
    return job


async def _imagine_then_edit(h: Harness) -> tuple[Job, Job]:
    first, _ = await h.engine.generate(
        GenerationRequest(prompt="a red fox", count=2), ALICE, deliver=Deliverer()
    )
    outputs = await h.ledger.job_outputs(first.job_id)
    edit, _ = await h.engine.generate(
        GenerationRequest(prompt="at night", images=(outputs[0],)),
        ALICE,
        deliver=Deliverer(),
        kind=JobKind.EDIT,
        parent_id=first.job_id,
    )
    return await _job(h, first.job_id), await _job(h, edit.job_id)


async def test_within_the_retention_nothing_goes(h: Harness) -> None:
    first, edit = await _imagine_then_edit(h)
    assert await ImageRetention(h.ledger, 30).run_once() == (0, 0)
    assert await ImageRetention(h.ledger, 0).run_once(now=LATER) == (0, 0)  # 0 keeps them for ever
    assert len(await h.ledger.job_outputs(first.id)) == 2
    assert len(await h.ledger.job_inputs(edit.id)) == 1


async def test_expired_jobs_refuse_edits_and_reruns_but_not_plain_rerolls(h: Harness) -> None:
    first, edit = await _imagine_then_edit(h)
    blobs = (await h.ledger.db.execute_fetchall("SELECT COUNT(*) FROM blobs"))[0][0]
    assert await ImageRetention(h.ledger, 30, batch=1).run_once(now=LATER) == (2, blobs)
    assert (await h.ledger.db.execute_fetchall("SELECT COUNT(*) FROM blobs"))[0][0] == 0
    assert await h.ledger.job_outputs(first.id) == [] and await h.ledger.job_inputs(edit.id) == []

    with pytest.raises(InvalidRequest) as err:
        await compose_edit(h.ledger, first, "make it blue", [])
    assert err.value.user_text == messages.RESULT_EXPIRED
    for compose in (reroll, variations):
        with pytest.raises(InvalidRequest) as err:
            await compose(h.ledger, edit)
        assert err.value.user_text == messages.REFERENCES_EXPIRED

    again = await reroll(h.ledger, first)  # it had no references: the same request still
    assert (again.request.prompt, again.request.count, again.request.images) == ("a red fox", 2, ())
    # So is a batch's request in another shape ("--ar 16:9" replied to it): no image is needed.
    wide = await compose_edit(h.ledger, first, "--ar 16:9", [])
    assert (wide.kind, wide.request.prompt, wide.request.count, wide.request.aspect) == (
        JobKind.REROLL,
        "a red fox",
        2,
        "16:9",
    )
    with pytest.raises(InvalidRequest) as err:  # one image of it, edited, needs that image
        await compose_edit(h.ledger, first, "#2 --ar 16:9", [])
    assert err.value.user_text == messages.RESULT_EXPIRED
    info = await h.community.lineage(edit)
    assert "References: 1 image, no longer kept" in info
    assert (await h.ledger.quota(ALICE.key)).day_used == 3  # refusals cost nothing
    assert (await _job(h, edit.id)).status == JobStatus.SUCCEEDED  # history keeps the job


async def test_a_message_that_never_had_images_is_still_not_a_result(h: Harness) -> None:
    first, _ = await _imagine_then_edit(h)
    failed = dataclasses.replace(first, id="failed-job", images_delivered=0)
    with pytest.raises(InvalidRequest) as err:
        await compose_edit(h.ledger, failed, "make it blue", [])
    assert err.value.user_text == messages.NOT_A_RESULT


async def test_the_loop_runs_at_start_and_stops_on_close(h: Harness) -> None:
    first, _ = await _imagine_then_edit(h)
    old = datetime.now(UTC) - timedelta(days=2)
    await h.ledger.create_job(dataclasses.replace(first, id="old", created_at=old.isoformat()), ())
    await h.ledger.save_outputs("old", [GeneratedImage(b"old result", "image/png", 8, 8)])
    await h.ledger.finish_job("old", JobStatus.SUCCEEDED, delivered=1)
    retention = ImageRetention(h.ledger, 1, every=0.05)
    retention.start()
    try:
        for _ in range(200):
            if not await h.ledger.job_outputs("old"):
                break
            await asyncio.sleep(0.02)
        assert await h.ledger.job_outputs("old") == []
        assert len(await h.ledger.job_outputs(first.id)) == 2  # a day old at most: kept
    finally:
        await retention.close()
    assert retention._task is None


def test_the_setting() -> None:
    assert Settings(_env_file=None).image_retention_days == 30  # type: ignore[call-arg]
    config = Settings(_env_file=None, SEEDBOT_IMAGE_RETENTION_DAYS="0")  # type: ignore[call-arg]
    assert config.image_retention_days == 0

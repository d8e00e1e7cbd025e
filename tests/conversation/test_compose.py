"""Editing a job that is not a finished result: still at work (waited for), or failed."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from bot import messages
from bot.conversation import compose
from bot.conversation.compose import compose_edit, compose_new, option_fields
from bot.conversation.turns import Options
from bot.errors import DeliveryError, FlagError, InvalidRequest
from bot.request.flags import parse_text
from bot.request.models import GeneratedImage, Job, JobKind, JobStatus
from tests.engine.helpers import ALICE, Deliverer, Harness, fox


async def _running(h: Harness, job_id: str = "busy") -> Job:
    job = Job(
        id=job_id,
        user_key="discord:1",
        platform="discord",
        status=JobStatus.RUNNING,
        kind="imagine",
        prompt="a castle",
        model="5.0-lite",
        request={"prompt": "a castle", "image_count": 0},
        message_id="status-1",
        images_requested=1,
    )
    await h.ledger.create_job(job, ())
    return job


async def test_a_job_at_work_is_found_by_its_status_message_and_waited_for(h: Harness) -> None:
    job = await _running(h)
    found = await h.ledger.job_for_message("discord", "status-1")
    assert found is not None and (found.id, found.status) == (job.id, JobStatus.RUNNING)
    with pytest.raises(InvalidRequest) as err:
        await compose_edit(h.ledger, job, "in winter", [])  # no wait: not ready
    assert err.value.user_text == messages.PARENT_NOT_READY

    async def finish() -> None:
        await asyncio.sleep(0.2)
        await h.ledger.save_outputs(job.id, [GeneratedImage(b"castle", "image/png", 8, 8)])
        await h.ledger.finish_job(job.id, JobStatus.SUCCEEDED, delivered=1)

    finishing = asyncio.create_task(finish())
    composed = await compose_edit(h.ledger, job, "in winter", [], wait=10)
    await finishing
    assert (composed.kind, composed.parent_id) == (JobKind.EDIT, job.id)
    assert [i.data for i in composed.request.images] == [b"castle"]


async def test_a_failed_or_overdue_job_is_refused(h: Harness) -> None:
    job = await _running(h)
    with pytest.raises(InvalidRequest) as err:
        await compose_edit(h.ledger, job, "in winter", [], wait=0.3)  # still at work after the wait
    assert err.value.user_text == messages.PARENT_NOT_READY
    await h.ledger.finish_job(job.id, JobStatus.FAILED, error_kind="moderation")
    with pytest.raises(InvalidRequest) as err:
        await compose_edit(h.ledger, job, "in winter", [], wait=10)
    assert err.value.user_text == messages.PARENT_FAILED
    # Cancelled while the reply waited for it: "isn't a seedbot result" after "I'll edit it as
    # soon as it's ready" read as if the person had replied to the wrong message.
    cancelled = await _running(h, "cancelled")
    await h.ledger.finish_job(cancelled.id, JobStatus.CANCELLED, error_kind="cancelled")
    with pytest.raises(InvalidRequest) as err:
        await compose_edit(h.ledger, cancelled, "in winter", [], wait=10)
    assert err.value.user_text == messages.PARENT_FAILED
    succeeded_empty = dataclasses.replace(job, id="never", status=JobStatus.SUCCEEDED)
    with pytest.raises(InvalidRequest) as err:
        await compose_edit(h.ledger, succeeded_empty, "in winter", [])
    assert err.value.user_text == messages.NOT_A_RESULT


def test_form_options_mean_what_the_same_flags_mean() -> None:
    assert option_fields(Options()) == {}
    assert option_fields(
        Options(
            aspect="16:9", resolution="2048x1536", count=3, model="4.5", output_format="jpg", watermark=True
        )
    ) == {
        "aspect": "16:9",
        "width": 2048,
        "height": 1536,
        "count": 3,
        "model": "4.5",
        "output_format": "jpeg",
        "watermark": True,
    }
    with pytest.raises(FlagError) as refused:
        option_fields(Options(resolution="5K"))
    # named as the form names it (a slash option, a control, the shell's --resolution)
    assert refused.value.user_text == messages.bad_flag_value(
        "resolution", "5K", "use 2K, 3K, 4K or a size like 2048x2048"
    )
    # Flags typed in the prompt win over the options picked in the form.
    request = compose_new("a fox --n 4", [], model="5.0-lite", **option_fields(Options(count=2))).request
    assert (request.prompt, request.count) == ("a fox", 4)


@pytest.mark.parametrize(
    ("typed", "form", "size"),
    [
        ("a lighthouse --ar 9:16", Options(), (1600, 2848)),
        ("a lighthouse, phone wallpaper", Options(), (1600, 2848)),
        ("a lighthouse --res 3K --ar 1:1", Options(), (3072, 3072)),
        ("a lighthouse", Options(aspect="9:16"), (1600, 2848)),
        ("a lighthouse", Options(), (2560, 1440)),  # the server's size, when nothing else is said
    ],
)
async def test_a_shape_or_tier_said_wins_over_the_servers_default_size(
    h: Harness, typed: str, form: Options, size: tuple[int, int]
) -> None:
    """A server's `resolution 2560x1440` was kept beside every shape typed or picked, and an
    exact size comes first: each of these was made at 2560x1440."""
    await h.community.settings_set("admin", "discord:g1", "resolution", "2560x1440")
    rules = await h.engine.workspaces.policy_for(ALICE)
    defaults = h.conversation.defaults(rules, form)
    composed = compose.new(parse_text(typed, picks=False), [], defaults)
    validated = h.engine.check(composed.request)
    assert (validated.width, validated.height) == size


async def test_only_the_images_that_reached_the_person_are_the_result(h: Harness) -> None:
    """A batch of 4 posted in part (2, the rest refunded): all 4 were kept and edited, upscaled
    and picked as if the person had them ("That result has 4 images"); a delivery the platform
    refused ("not charged") could still be edited and upscaled."""
    partly, _ = await h.engine.generate(fox(count=4), ALICE, deliver=Deliverer(posted=2))
    parent = await h.ledger.get_job(partly.job_id)
    assert parent is not None and parent.images_delivered == 2
    edited = await compose.edit(h.ledger, parent, parse_text("make them night"), [])
    assert len(edited.request.images) == 2
    with pytest.raises(InvalidRequest) as four:
        await compose.upscale(h.ledger, parent, 4)
    assert four.value.user_text == messages.no_such_image(4, 2)
    with pytest.raises(DeliveryError):
        await h.engine.generate(fox(count=2), ALICE, deliver=Deliverer(posted=0))
    failed = (await h.ledger.jobs_for_user(ALICE.key, limit=1))[0]
    assert failed.status == JobStatus.FAILED and failed.error_kind == "delivery"
    with pytest.raises(InvalidRequest) as nothing:
        await compose.edit(h.ledger, failed, parse_text("#2 make it night"), [])
    assert nothing.value.user_text == messages.PARENT_FAILED

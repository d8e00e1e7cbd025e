"""Apiframe: X-API-Key, Idempotency-Key, 202 + job polling with progress, URL references."""

from __future__ import annotations

import pytest

from bot.errors import ProviderError, ProviderErrorKind
from bot.providers.apiframe import ApiframeProvider
from tests.providers.helpers import Hooks, make_call, vreq


async def test_text_to_image_submits_and_polls(make, emu) -> None:
    emu.apiframe.pending_polls = 3
    hooks = Hooks()
    out = await make("apiframe").generate(make_call(vreq("portrait", aspect="3:2"), hooks, job_id="job-42"))

    assert len(out.images) == 1 and out.failed == 0
    assert out.images[0].mime == "image/jpeg"
    assert out.usage == {"job_id": hooks.task_ids[0], "credits": 4}
    assert out.request_id == hooks.task_ids[0]
    rec = emu.apiframe.submits[-1]
    assert rec.path == "/v2/images/generate"
    assert rec.headers["x-api-key"] == emu.apiframe.api_key
    assert rec.headers["idempotency-key"] == "job-42"
    assert "authorization" not in rec.headers
    assert rec.json == {
        "prompt": "portrait",
        "model": "seedream-5-lite",
        "seedreamParams": {"aspect_ratio": "3:2", "size": "2K", "output_format": "jpg"},
    }
    assert len(hooks.task_ids) == 1
    assert hooks.progress == [0.0, 33.0, 66.0, 100.0]
    assert emu.apiframe.polls == 4
    # Every poll carried the key, none an idempotency key.
    polls = [r for r in emu.apiframe.requests if r.method == "GET"]
    assert all(r.headers["x-api-key"] == emu.apiframe.api_key for r in polls)


async def test_png_and_result_as_images_object(make, emu) -> None:
    emu.apiframe.result_mode = "images"
    out = await make("apiframe").generate(make_call(vreq("poster", output_format="png", resolution="3K")))
    assert out.images[0].mime == "image/png"
    params = emu.apiframe.last_json["seedreamParams"]
    assert params["output_format"] == "png" and params["size"] == "3K"


async def test_edit_sends_reference_urls_and_matches_input_shape(make, emu, reference) -> None:
    refs = (reference(), reference())
    await make("apiframe").generate(make_call(vreq("wong kar-wai grading", images=refs)))
    params = emu.apiframe.last_json["seedreamParams"]
    assert params["image_input"] == [r.url for r in refs]
    assert params["aspect_ratio"] == "match_input_image"
    assert emu.apiframe.received_urls == [r.url for r in refs]


async def test_edit_with_own_aspect_keeps_it(make, emu, reference) -> None:
    await make("apiframe").generate(make_call(vreq("crop wide", images=(reference(),), aspect="16:9")))
    assert emu.apiframe.last_json["seedreamParams"]["aspect_ratio"] == "16:9"


async def test_same_job_id_is_not_a_second_job(make, emu) -> None:
    provider = make("apiframe")
    await provider.generate(make_call(vreq(), job_id="job-7"))
    await provider.generate(make_call(vreq(), job_id="job-7"))
    assert emu.apiframe.submissions == 2
    assert emu.apiframe.created == 1


@pytest.mark.parametrize(
    ("message", "kind", "failover"),
    [
        ("Provider returned an error: content policy violation", ProviderErrorKind.MODERATION, False),
        ("Provider returned an error: upstream crashed", ProviderErrorKind.UNAVAILABLE, True),
    ],
)
async def test_failed_job(make, emu, message, kind, failover) -> None:
    emu.apiframe.job_error = message
    emu.apiframe.pending_polls = 1
    with pytest.raises(ProviderError) as info:
        await make("apiframe").generate(make_call(vreq()))
    assert info.value.kind is kind
    assert info.value.retryable is False  # the same Idempotency-Key would replay the failure
    assert info.value.failover is failover
    assert "job failed" in info.value.detail


async def test_broken_result_url(make, emu) -> None:
    emu.apiframe.broken = 1
    with pytest.raises(ProviderError) as info:
        await make("apiframe").generate(make_call(vreq()))
    assert info.value.kind is ProviderErrorKind.UNAVAILABLE


def test_capabilities(reference) -> None:
    caps = ApiframeProvider.capabilities
    assert caps.max_outputs == 1 and caps.references_need_urls and caps.resumable
    assert caps.refusal(vreq(count=2)) == "at most 1 image"
    assert caps.refusal(vreq(width=2560, height=1440)) == "no explicit sizes"
    assert caps.refusal(vreq(images=(reference(public=False),))) == "references must be public URLs"
    assert caps.refusal(vreq(aspect="5:4")) is None
    assert caps.refusal(vreq("x" * 2000)) is None

"""Replicate: Bearer, one model path per Seedream model, {"input": {...}}, prediction polling,
E005 refusals, cancel, resume and the free account check."""

from __future__ import annotations

import asyncio

import pytest

from bot.errors import ProviderError, ProviderErrorKind
from bot.media.images import load_reference
from bot.providers.base import ProviderCall
from bot.providers.replicate import ReplicateProvider
from tests.providers.helpers import Hooks, make_call, png, vreq


async def test_create_and_poll(make, emu) -> None:
    emu.replicate.pending_polls = 2
    hooks = Hooks()
    out = await make("replicate").generate(make_call(vreq("a koi pond", aspect="16:9"), hooks))

    assert len(out.images) == 1 and out.failed == 0
    assert out.images[0].mime == "image/jpeg"
    rec = emu.replicate.submits[-1]
    assert rec.path == "/v1/models/bytedance/seedream-5-lite/predictions"
    assert rec.headers["authorization"] == f"Bearer {emu.replicate.api_key}"
    assert "prefer" not in rec.headers  # the id is stored before any long wait
    assert rec.json == {
        "input": {
            "prompt": "a koi pond",
            "size": "2K",
            "aspect_ratio": "16:9",
            "sequential_image_generation": "disabled",
            "output_format": "jpeg",
        }
    }
    assert hooks.task_ids == [out.request_id]
    assert out.usage["prediction_id"] == hooks.task_ids[0] and out.usage["predict_time"] == 8.1
    gets = [r for r in emu.replicate.requests if r.method == "GET"]
    assert len(gets) == 3 and all(r.path == f"/v1/predictions/{hooks.task_ids[0]}" for r in gets)
    assert all(r.headers["authorization"] == f"Bearer {emu.replicate.api_key}" for r in gets)


async def test_seedream_45_input(make, emu) -> None:
    await make("replicate").generate(make_call(vreq(model="4.5", resolution="4K", aspect="21:9")))
    rec = emu.replicate.submits[-1]
    assert rec.path == "/v1/models/bytedance/seedream-4.5/predictions"
    assert rec.json["input"]["size"] == "4K"
    assert rec.json["input"]["aspect_ratio"] == "21:9"
    assert "output_format" not in rec.json["input"]


async def test_png(make, emu) -> None:
    out = await make("replicate").generate(make_call(vreq(output_format="png", resolution="3K")))
    assert out.images[0].mime == "image/png"
    assert emu.replicate.last_json["input"]["size"] == "3K"


async def test_edit_matches_the_input_shape(make, emu, reference) -> None:
    public, local = reference(public=True), reference(public=False)
    await make("replicate").generate(make_call(vreq("watercolor", images=(public, local))))
    data = emu.replicate.last_json["input"]
    assert data["aspect_ratio"] == "match_input_image"
    assert data["image_input"][0] == public.url
    assert data["image_input"][1].startswith("data:image/png;base64,")
    assert emu.replicate.received_urls == [public.url]
    assert emu.replicate.received_images == [local.data]


async def test_edit_with_own_aspect_keeps_it(make, emu, reference) -> None:
    await make("replicate").generate(make_call(vreq("wide", images=(reference(),), aspect="3:2")))
    assert emu.replicate.last_json["input"]["aspect_ratio"] == "3:2"


async def test_batch(make, emu) -> None:
    out = await make("replicate").generate(make_call(vreq("comic strip", count=3)))
    assert len(out.images) == 3 and out.failed == 0
    data = emu.replicate.last_json["input"]
    assert data["sequential_image_generation"] == "auto" and data["max_images"] == 3
    assert data["prompt"].endswith("Generate a set of 3 images.")


async def test_partial_batch(make, emu) -> None:
    emu.replicate.deliver = 1
    out = await make("replicate").generate(make_call(vreq("pair", count=2)))
    assert len(out.images) == 1 and out.failed == 1


@pytest.mark.parametrize(
    ("message", "kind", "failover"),
    [
        (
            "The input or output was flagged as sensitive. Please try again with different inputs. (E005)",
            ProviderErrorKind.MODERATION,
            False,
        ),
        ("Prediction interrupted; please retry (code: PA)", ProviderErrorKind.UNAVAILABLE, True),
    ],
)
async def test_failed_prediction(make, emu, message, kind, failover) -> None:
    emu.replicate.job_error = message
    emu.replicate.pending_polls = 1
    with pytest.raises(ProviderError) as info:
        await make("replicate").generate(make_call(vreq()))
    assert info.value.kind is kind
    assert info.value.retryable is False
    assert info.value.failover is failover
    assert emu.replicate.submissions == 1


async def test_broken_output_url(make, emu) -> None:
    emu.replicate.broken = 1
    with pytest.raises(ProviderError) as info:
        await make("replicate").generate(make_call(vreq()))
    assert info.value.kind is ProviderErrorKind.UNAVAILABLE and not info.value.failover


async def test_cancel_a_running_prediction(make, emu) -> None:
    emu.replicate.pending_polls = 10_000
    got: asyncio.Queue[str] = asyncio.Queue()

    async def on_task_id(task_id: str) -> None:
        await got.put(task_id)

    provider = make("replicate")
    call = ProviderCall(vreq(), "job-c", 30.0, on_task_id=on_task_id)
    running = asyncio.create_task(provider.generate(call))
    task_id = await asyncio.wait_for(got.get(), 5)
    assert await provider.cancel(task_id) is True
    cancels = [r for r in emu.replicate.requests if r.path.endswith("/cancel")]
    assert [(r.method, r.path) for r in cancels] == [("POST", f"/v1/predictions/{task_id}/cancel")]
    with pytest.raises(ProviderError) as info:
        await asyncio.wait_for(running, 5)
    assert "canceled" in info.value.detail
    assert not info.value.failover and not info.value.retryable
    assert await provider.cancel("no-such-prediction") is False


async def test_resume_polls_without_resubmitting(make, emu) -> None:
    hooks = Hooks()
    emu.replicate.pending_polls = 3
    created = await make("replicate").generate(make_call(vreq(), hooks))
    assert len(created.images) == 1
    out = await make("replicate").resume(hooks.task_ids[0], make_call(vreq()))
    assert len(out.images) == 1 and emu.replicate.submissions == 1


async def test_key_check(make, emu) -> None:
    check = await make("replicate").check_key()
    assert check.ok is True and "seedbot-test" in check.detail
    refused = await make("replicate", replicate_api_key="r8_wrong_key_0123").check_key()
    assert refused.ok is False and "REPLICATE_API_TOKEN" in refused.detail
    assert "r8_wrong_key_0123" not in refused.detail
    assert [r.path for r in emu.replicate.requests] == ["/v1/account", "/v1/account"]


async def test_other_hosts_have_no_free_key_check(make) -> None:
    for name in ("ark", "fal", "novita"):
        assert (await make(name).check_key()).ok is None


def test_capabilities(reference) -> None:
    caps = ReplicateProvider.capabilities
    assert caps.resumable and not caps.streaming and not caps.references_need_urls
    assert caps.refusal(vreq(width=2560, height=1440)) == "no explicit sizes"
    assert caps.refusal(vreq(aspect="5:4")) == "no 5:4 aspect ratio"
    assert caps.refusal(vreq(aspect="21:9")) is None
    assert caps.refusal(vreq(images=(reference(public=False),))) is None
    assert caps.refusal(vreq(model="4.5", resolution="4K")) is None


@pytest.mark.parametrize("size", [(210, 90), (90, 210)])
def test_an_edit_of_a_wide_or_tall_picture_is_sent_to_match_it(size: tuple[int, int]) -> None:
    """The edit's default shape (the reference's, 21:9 or 9:21) was checked against Replicate's
    ratios and refused ("no 21:9 aspect ratio"), though the body asks to match the input."""
    wide = load_reference(png(*size), "panorama.png")
    caps = ReplicateProvider.capabilities
    assert caps.refusal(vreq(images=(wide,))) is None
    assert caps.refusal(vreq(images=(wide,), aspect="5:4")) == "no 5:4 aspect ratio"  # one's own

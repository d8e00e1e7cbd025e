"""Segmind: x-api-key, tier + fixed aspect ratios, binary or JSON answers, credits header."""

from __future__ import annotations

import pytest

from bot.errors import ProviderError, ProviderErrorKind
from bot.providers.segmind import SegmindProvider
from tests.providers.helpers import make_call, vreq


async def test_text_to_image_sends_exact_body_and_reads_bytes(make, emu) -> None:
    out = await make("segmind").generate(make_call(vreq("neon rain", aspect="16:9", resolution="3K")))

    assert len(out.images) == 1 and out.failed == 0
    assert out.images[0].mime == "image/jpeg"
    assert out.usage["remaining_credits"] == pytest.approx(999.95)
    rec = emu.segmind.submits[-1]
    assert rec.path == "/v1/seedream-v5-lite-text-to-image"
    assert rec.headers["x-api-key"] == emu.segmind.api_key
    assert "authorization" not in rec.headers
    assert rec.json == {
        "prompt": "neon rain",
        "aspect_ratio": "16:9",
        "size": "3K",
        "max_images": 1,
        "optimize_prompt": "standard",
        "watermark": False,
    }


async def test_ultrawide_is_sent_by_segminds_name(make, emu) -> None:
    # Validation reduces 21:9 to 7:3; Segmind only knows "21:9".
    await make("segmind").generate(make_call(vreq("skyline", aspect="21:9")))
    assert emu.segmind.last_json["aspect_ratio"] == "21:9"


async def test_batch_as_json_images(make, emu) -> None:
    out = await make("segmind").generate(make_call(vreq("variations", count=3)))
    assert len(out.images) == 3 and out.failed == 0
    assert emu.segmind.last_json["max_images"] == 3
    assert "Generate a set" not in emu.segmind.last_json["prompt"]  # max_images is a real count here


async def test_batch_answered_by_one_binary_image_refunds_the_rest(make, emu) -> None:
    emu.segmind.result_mode = "binary"
    out = await make("segmind").generate(make_call(vreq("variations", count=4)))
    assert len(out.images) == 1 and out.failed == 3


async def test_single_json_image(make, emu) -> None:
    emu.segmind.result_mode = "json_image"
    out = await make("segmind").generate(make_call(vreq()))
    assert len(out.images) == 1 and out.usage["remaining_credits"] == pytest.approx(999.95)


async def test_partial_json_batch(make, emu) -> None:
    emu.segmind.deliver = 2
    out = await make("segmind").generate(make_call(vreq("variations", count=5)))
    assert len(out.images) == 2 and out.failed == 3


async def test_never_sends_references(make, emu, reference) -> None:
    req = vreq("edit me", images=(reference(),))
    assert SegmindProvider.capabilities.refusal(req) == "text-to-image only"
    with pytest.raises(ProviderError) as info:
        await make("segmind").generate(make_call(req))
    assert info.value.kind is ProviderErrorKind.BAD_REQUEST and not info.value.retryable
    assert emu.segmind.submissions == 0


def test_refuses_explicit_sizes_and_odd_ratios() -> None:
    caps = SegmindProvider.capabilities
    assert caps.refusal(vreq(width=2560, height=1440)) == "no explicit sizes"
    assert caps.refusal(vreq(aspect="5:4")) == "no 5:4 aspect ratio"
    assert caps.refusal(vreq(aspect="21:9")) is None
    assert caps.refusal(vreq(aspect="9:21")) == "no 3:7 aspect ratio"
    assert caps.refusal(vreq(model="4.5")) is not None
    assert caps.refusal(vreq(output_format="png")) == "no png output"


async def test_oversized_binary_answer_is_refused(make, emu) -> None:
    emu.segmind.fail("oversized_body", size=2_000_000)
    provider = make("segmind")
    provider.response_max_bytes = 500_000
    with pytest.raises(ProviderError) as info:
        await provider.generate(make_call(vreq()))
    assert info.value.kind is ProviderErrorKind.UNAVAILABLE and not info.value.retryable


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("Generation failed: NSFW content detected", ProviderErrorKind.MODERATION),
        ("Generation failed: worker crashed", ProviderErrorKind.UNAVAILABLE),
    ],
)
async def test_json_error_inside_a_200(make, emu, message, kind) -> None:
    emu.segmind.job_error = message
    with pytest.raises(ProviderError) as info:
        await make("segmind").generate(make_call(vreq()))
    assert info.value.kind is kind
    assert message in info.value.detail

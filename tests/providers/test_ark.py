"""Ark (BytePlus ModelArk): Bearer, both models by id, inline references, sequential batches,
per-image refusals, and streaming (one SSE event per image, handed over as it arrives)."""

from __future__ import annotations

import asyncio

import pytest

from bot.errors import ProviderError, ProviderErrorKind
from bot.providers.ark import ArkProvider
from bot.providers.base import ProviderCall
from bot.request.models import GeneratedImage
from tests.providers.helpers import make_call, vreq


class Stream:
    """on_image / on_image_failed hooks that note what came, in order, and when."""

    def __init__(self, emu) -> None:
        self.emu = emu
        self.events: list[tuple[str, int]] = []
        self.images: dict[int, GeneratedImage] = {}
        self.reasons: dict[int, str] = {}
        self.before_end: list[bool] = []  # per image: did it come before the stream's end?

    async def on_image(self, index: int, image: GeneratedImage) -> None:
        self.before_end.append(not self.emu.ark_host.stream_done)
        self.events.append(("image", index))
        self.images[index] = image

    async def on_image_failed(self, index: int, reason: str) -> None:
        self.events.append(("failed", index))
        self.reasons[index] = reason

    def call(self, req, **kwargs) -> ProviderCall:
        call = make_call(req, **kwargs)
        call.on_image = self.on_image
        call.on_image_failed = self.on_image_failed
        return call


async def test_text_to_image_sends_exact_body(make, emu) -> None:
    out = await make("ark").generate(make_call(vreq("a lighthouse at dawn", aspect="16:9")))

    assert len(out.images) == 1 and out.failed == 0
    assert out.images[0].mime == "image/jpeg"
    assert out.usage["generated_images"] == 1
    rec = emu.ark.submits[-1]
    assert rec.path == "/api/v3/images/generations"
    assert rec.headers["authorization"] == f"Bearer {emu.ark.api_key}"
    assert rec.json == {
        "model": "seedream-5-0-260128",
        "prompt": "a lighthouse at dawn",
        "size": "2848x1600",
        "sequential_image_generation": "disabled",
        "response_format": "url",
        "watermark": False,
        "optimize_prompt_options": {"mode": "standard"},
        "output_format": "jpeg",
    }


async def test_seedream_45_has_no_output_format(make, emu) -> None:
    await make("ark").generate(make_call(vreq(model="4.5", resolution="4K", watermark=True)))
    body = emu.ark.last_json
    assert body["model"] == "seedream-4-5-251128"
    assert body["size"] == "4096x4096" and body["watermark"] is True
    assert "output_format" not in body


async def test_model_ids_are_settings(make, emu) -> None:
    emu.ark_host.models["ep-20260101-abcde"] = emu.ark_host.models["seedream-5-0-260128"]
    await make("ark", ark_model_50_lite="ep-20260101-abcde").generate(make_call(vreq(output_format="png")))
    assert emu.ark.last_json["model"] == "ep-20260101-abcde"
    assert emu.ark.last_json["output_format"] == "png"


async def test_unknown_model_is_configuration(make, emu) -> None:
    with pytest.raises(ProviderError) as info:
        await make("ark", ark_model_45="seedream-4-5-000000").generate(make_call(vreq(model="4.5")))
    assert info.value.status == 404 and info.value.kind is ProviderErrorKind.UNAVAILABLE
    assert not info.value.retryable and info.value.failover


async def test_one_reference_is_a_string_several_a_list(make, emu, reference) -> None:
    one = reference(public=False)
    await make("ark").generate(make_call(vreq("make it blue", images=(one,))))
    assert isinstance(emu.ark.last_json["image"], str)
    assert emu.ark.last_json["image"].startswith("data:image/png;base64,")
    refs = (reference(public=False), reference(public=True))
    await make("ark").generate(make_call(vreq("merge", images=refs)))
    assert isinstance(emu.ark.last_json["image"], list) and len(emu.ark.last_json["image"]) == 2
    assert emu.ark.received_images == [one.data, *(r.data for r in refs)]


async def test_large_reference_with_a_url_goes_as_url(make, emu, reference, monkeypatch) -> None:
    monkeypatch.setattr("bot.providers.ark.INLINE_MAX_BYTES", 10)
    big, local = reference(public=True), reference(public=False)
    await make("ark").generate(make_call(vreq("merge", images=(big, local))))
    assert emu.ark.received_urls == [big.url]
    assert emu.ark.received_images == [local.data]


async def test_batch_uses_sequential_generation(make, emu) -> None:
    out = await make("ark").generate(make_call(vreq("four seasons", count=4)))
    assert len(out.images) == 4 and out.failed == 0
    body = emu.ark.last_json
    assert body["sequential_image_generation"] == "auto"
    assert body["sequential_image_generation_options"] == {"max_images": 4}
    assert body["prompt"].endswith("Generate a set of 4 images.")
    assert out.usage["generated_images"] == 4


async def test_refused_image_in_a_batch_is_counted(make, emu) -> None:
    emu.ark_host.refused = {1}
    out = await make("ark").generate(make_call(vreq("three cats", count=3)))
    assert len(out.images) == 2 and out.failed == 1
    assert out.usage["image_errors"] == [
        "OutputImageSensitiveContentDetected: The request failed because the output image may "
        "contain sensitive information."
    ]


async def test_every_image_refused_is_moderation(make, emu) -> None:
    emu.ark_host.refused = {0}
    with pytest.raises(ProviderError) as info:
        await make("ark").generate(make_call(vreq()))
    assert info.value.kind is ProviderErrorKind.MODERATION and not info.value.failover


async def test_inline_b64_results(make, emu, monkeypatch) -> None:
    monkeypatch.setattr("bot.providers.ark.RESPONSE_FORMAT", "b64_json")
    out = await make("ark").generate(make_call(vreq("inline", count=2)))
    assert len(out.images) == 2
    assert emu.file_requests == []  # nothing had to be downloaded
    assert emu.ark.last_json["response_format"] == "b64_json"


async def test_unfetchable_result_counts_as_failed(make, emu) -> None:
    emu.ark.broken = 1
    out = await make("ark").generate(make_call(vreq("cats", count=2)))
    assert len(out.images) == 1 and out.failed == 1


async def test_slow_sync_answer_times_out_without_retry(make, emu) -> None:
    emu.ark.fail("slow_body", seconds=3)
    with pytest.raises(ProviderError) as info:
        await make("ark").generate(make_call(vreq(), deadline=0.5))
    assert info.value.kind is ProviderErrorKind.TIMEOUT
    assert info.value.retryable is False and info.value.failover is True


# -- streaming -------------------------------------------------------------------------------


async def test_no_hook_no_stream(make, emu) -> None:
    await make("ark").generate(make_call(vreq(count=2)))
    assert "stream" not in emu.ark.last_json
    assert emu.ark_host.streams == 0


async def test_stream_hands_over_each_image_before_the_end(make, emu) -> None:
    emu.ark_host.event_gap = 0.3
    hooks = Stream(emu)
    out = await make("ark").generate(hooks.call(vreq("a comic strip", count=3)))

    assert emu.ark.last_json["stream"] is True
    assert emu.ark_host.streams == 1
    assert hooks.events == [("image", 0), ("image", 1), ("image", 2)]
    assert hooks.before_end == [True, True, True]
    # The full output still comes back at the end, the same images in order.
    assert len(out.images) == 3 and out.failed == 0
    assert [img.data for img in out.images] == [hooks.images[i].data for i in range(3)]
    assert out.usage["generated_images"] == 3 and out.usage["total_tokens"] > 0


async def test_stream_counts_a_refused_image(make, emu) -> None:
    emu.ark_host.refused = {1}
    hooks = Stream(emu)
    out = await make("ark").generate(hooks.call(vreq("three cats", count=3)))

    assert hooks.events == [("image", 0), ("failed", 1), ("image", 2)]
    assert "OutputImageSensitiveContentDetected" in hooks.reasons[1]
    assert len(out.images) == 2 and out.failed == 1
    assert out.usage["generated_images"] == 2


async def test_stream_unfetchable_image_goes_to_on_image_failed(make, emu) -> None:
    emu.ark.broken = 1
    hooks = Stream(emu)
    out = await make("ark").generate(hooks.call(vreq("pair", count=2)))
    assert hooks.events == [("image", 0), ("failed", 1)]
    assert hooks.reasons[1] == "result image could not be fetched"
    assert len(out.images) == 1 and out.failed == 1


async def test_stream_with_every_image_refused_is_moderation(make, emu) -> None:
    emu.ark_host.refused = {0}
    hooks = Stream(emu)
    with pytest.raises(ProviderError) as info:
        await make("ark").generate(hooks.call(vreq()))
    assert info.value.kind is ProviderErrorKind.MODERATION
    assert hooks.events == [("failed", 0)]


async def test_parameter_errors_are_not_streamed(make, emu) -> None:
    emu.ark.fail("bad_request")
    hooks = Stream(emu)
    with pytest.raises(ProviderError) as info:
        await make("ark").generate(hooks.call(vreq()))
    assert info.value.kind is ProviderErrorKind.BAD_REQUEST and info.value.status == 400
    assert hooks.events == []


async def test_stream_rate_limited_before_it_starts_is_retryable(make, emu) -> None:
    emu.ark.fail("rate_limited", retry_after=3)
    with pytest.raises(ProviderError) as info:
        await make("ark").generate(Stream(emu).call(vreq()))
    assert info.value.kind is ProviderErrorKind.RATE_LIMITED and info.value.retryable
    assert info.value.retry_after == 3


async def test_broken_stream_keeps_what_was_handed_over(make, emu) -> None:
    emu.ark_host.cut_after = 2
    hooks = Stream(emu)
    out = await make("ark").generate(hooks.call(vreq("four", count=4)))
    assert hooks.events == [("image", 0), ("image", 1)]
    assert len(out.images) == 2 and out.failed == 2  # partial, never generated again


async def test_stream_broken_before_any_image_fails_over_without_retry(make, emu) -> None:
    emu.ark_host.cut_after = 0
    with pytest.raises(ProviderError) as info:
        await make("ark").generate(Stream(emu).call(vreq()))
    assert info.value.kind is ProviderErrorKind.UNAVAILABLE
    assert info.value.failover


async def test_stream_past_the_deadline(make, emu) -> None:
    emu.ark_host.event_gap = 1.0
    hooks = Stream(emu)
    out = await make("ark").generate(hooks.call(vreq("three", count=3), deadline=1.5))
    # The first image made it before the deadline; the rest are a partial batch.
    assert hooks.events == [("image", 0), ("image", 1)] or hooks.events == [("image", 0)]
    assert len(out.images) == len(hooks.events) and out.failed == 3 - len(out.images)


async def test_stream_deadline_before_any_image(make, emu) -> None:
    emu.ark.latency = 2.0
    with pytest.raises(ProviderError) as info:
        await make("ark").generate(Stream(emu).call(vreq(), deadline=0.5))
    assert info.value.kind is ProviderErrorKind.TIMEOUT
    assert not info.value.retryable and info.value.failover


async def test_stream_callbacks_run_while_the_host_is_still_generating(make, emu) -> None:
    emu.ark_host.event_gap = 0.2
    seen: list[bool] = []

    async def on_image(index: int, image: GeneratedImage) -> None:
        await asyncio.sleep(0)
        seen.append(emu.ark_host.stream_done)

    call = make_call(vreq("pair", count=2))
    call.on_image = on_image  # on_image_failed left unset: refusals are only counted
    emu.ark_host.refused = {1}
    out = await make("ark").generate(call)
    assert seen == [False]
    assert out.failed == 1


def test_capabilities(reference) -> None:
    caps = ArkProvider.capabilities
    assert caps.streaming and not caps.resumable
    assert caps.models == frozenset({"5.0-lite", "4.5"})
    assert caps.max_references == 14 and caps.max_outputs == 15
    assert not caps.references_need_urls and caps.explicit_size
    assert caps.refusal(vreq(images=(reference(public=False),))) is None
    assert caps.refusal(vreq(output_format="png", count=15)) is None

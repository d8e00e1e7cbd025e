"""Novita: sync JSON API, both models, references inline, batches via sequential mode."""

from __future__ import annotations

import pytest

from bot.errors import ProviderErrorKind
from bot.providers.base import ProviderError
from bot.providers.novita import NovitaProvider
from tests.providers.helpers import make_call, vreq


async def test_text_to_image_sends_exact_body(make, emu) -> None:
    out = await make("novita").generate(make_call(vreq("a lighthouse at dawn", aspect="16:9")))

    assert len(out.images) == 1 and out.failed == 0
    assert out.images[0].mime == "image/jpeg"
    rec = emu.novita.submits[-1]
    assert rec.path == "/v3/seedream-5.0-lite"
    assert rec.headers["authorization"] == f"Bearer {emu.novita.api_key}"
    assert rec.headers["content-type"].startswith("application/json")
    assert rec.json == {
        "prompt": "a lighthouse at dawn",
        "size": "2848x1600",
        "watermark": False,
        "optimize_prompt_options": {"mode": "standard"},
        "sequential_image_generation": "disabled",
    }


async def test_explicit_size_and_watermark_pass_through(make, emu) -> None:
    await make("novita").generate(make_call(vreq(width=2560, height=1440, watermark=True)))
    assert emu.novita.last_json["size"] == "2560x1440"
    assert emu.novita.last_json["watermark"] is True


async def test_seedream_45_uses_its_own_route(make, emu) -> None:
    await make("novita").generate(make_call(vreq(model="4.5", resolution="4K")))
    rec = emu.novita.submits[-1]
    assert rec.path == "/v3/seedream-4.5"
    assert rec.json["size"] == "4096x4096"


async def test_edit_sends_reference_bytes_as_data_uris(make, emu, reference) -> None:
    refs = (reference(public=False), reference(public=True))
    out = await make("novita").generate(make_call(vreq("make it blue", images=refs)))

    assert len(out.images) == 1
    sent = emu.novita.last_json["image"]
    assert all(item.startswith("data:image/png;base64,") for item in sent)
    assert emu.novita.received_images == [r.data for r in refs]


async def test_large_reference_with_a_url_goes_as_url(make, emu, reference, monkeypatch) -> None:
    monkeypatch.setattr("bot.providers.novita.INLINE_MAX_BYTES", 10)
    big, local = reference(public=True), reference(public=False)
    await make("novita").generate(make_call(vreq("merge", images=(big, local))))
    assert emu.novita.received_urls == [big.url]
    assert emu.novita.received_images == [local.data]


async def test_batch_asks_the_prompt_for_n_images(make, emu) -> None:
    out = await make("novita").generate(make_call(vreq("four seasons of one tree", count=4)))

    assert len(out.images) == 4 and out.failed == 0
    body = emu.novita.last_json
    assert body["sequential_image_generation"] == "auto"
    assert body["sequential_image_generation_options"] == {"max_images": 4}
    assert body["prompt"].startswith("four seasons of one tree")
    assert body["prompt"].endswith("Generate a set of 4 images.")


async def test_partial_batch_delivers_what_came_back(make, emu) -> None:
    emu.novita.deliver = 2
    out = await make("novita").generate(make_call(vreq("cats", count=4)))
    assert len(out.images) == 2 and out.failed == 2


async def test_unfetchable_result_url_counts_as_failed(make, emu) -> None:
    emu.novita.broken = 1
    out = await make("novita").generate(make_call(vreq("cats", count=3)))
    assert len(out.images) == 2 and out.failed == 1
    assert out.usage["images_returned"] == 3


@pytest.mark.parametrize("mode", ["data_uri", "base64"])
async def test_inline_results_are_decoded(make, emu, mode) -> None:
    emu.novita.result_mode = mode
    out = await make("novita").generate(make_call(vreq("inline", count=2)))
    assert [img.mime for img in out.images] == ["image/jpeg", "image/jpeg"]
    assert emu.file_requests == []  # nothing had to be downloaded


async def test_no_usable_image_is_an_error(make, emu) -> None:
    emu.novita.broken = 1
    with pytest.raises(ProviderError) as info:
        await make("novita").generate(make_call(vreq()))
    assert info.value.kind is ProviderErrorKind.UNAVAILABLE


async def test_slow_sync_answer_times_out_without_retry(make, emu) -> None:
    emu.novita.fail("slow_body", seconds=3)
    with pytest.raises(ProviderError) as info:
        await make("novita").generate(make_call(vreq(), deadline=0.5))
    assert info.value.kind is ProviderErrorKind.TIMEOUT
    assert info.value.retryable is False and info.value.failover is True


def test_capabilities() -> None:
    caps = NovitaProvider.capabilities
    assert caps.models == frozenset({"5.0-lite", "4.5"})
    assert caps.edit and not caps.references_need_urls and caps.explicit_size
    assert caps.output_formats == frozenset({"jpeg"})
    assert not caps.resumable

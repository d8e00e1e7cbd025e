"""Modellix: Bearer, edit and text routes, task polling, URL references, 600-char prompts."""

from __future__ import annotations

import pytest

from bot.errors import ProviderError, ProviderErrorKind
from bot.providers.modellix import ModellixProvider
from tests.providers.helpers import Hooks, make_call, vreq


async def test_text_to_image_uses_the_text_route(make, emu) -> None:
    emu.modellix.pending_polls = 2
    hooks = Hooks()
    out = await make("modellix").generate(make_call(vreq("a koi pond", aspect="4:3"), hooks))

    assert len(out.images) == 1 and out.failed == 0
    rec = emu.modellix.submits[-1]
    assert rec.path == "/api/v1/bytedance/seedream-5.0-lite/async"
    assert rec.headers["authorization"] == f"Bearer {emu.modellix.api_key}"
    assert rec.json == {
        "prompt": "a koi pond",
        "size": "2304x1728",
        "sequential_image_generation": "disabled",
        "optimize_prompt_mode": "standard",
        "output_format": "jpeg",
    }
    assert hooks.task_ids and out.usage["task_id"] == hooks.task_ids[0]
    assert out.request_id == f"req-{hooks.task_ids[0]}"
    assert out.usage["image_count"] == 1
    assert emu.modellix.polls == 3


async def test_edit_uses_the_edit_route_with_urls(make, emu, reference) -> None:
    refs = (reference(), reference(), reference())
    out = await make("modellix").generate(make_call(vreq("watercolor", images=refs, output_format="png")))

    assert out.images[0].mime == "image/png"
    rec = emu.modellix.submits[-1]
    assert rec.path == "/api/v1/bytedance/seedream-5.0-lite-edit/async"
    assert rec.json["image"] == [r.url for r in refs]
    assert rec.json["output_format"] == "png"
    assert emu.modellix.received_urls == [r.url for r in refs]


async def test_batch(make, emu) -> None:
    out = await make("modellix").generate(make_call(vreq("comic strip", count=3, width=2560, height=1440)))
    assert len(out.images) == 3 and out.failed == 0
    body = emu.modellix.last_json
    assert body["sequential_image_generation"] == "auto"
    assert body["sequential_image_generation_max_images"] == 3
    assert body["size"] == "2560x1440"
    assert body["prompt"].endswith("Generate a set of 3 images.")


async def test_batch_prompt_never_passes_600_characters(make, emu) -> None:
    prompt = "a" * 590
    out = await make("modellix").generate(make_call(vreq(prompt, count=3)))
    assert emu.modellix.last_json["prompt"] == prompt  # the sentence would not fit
    assert len(out.images) == 1 and out.failed == 2  # so the model made one: partial batch


async def test_partial_batch(make, emu) -> None:
    emu.modellix.deliver = 1
    out = await make("modellix").generate(make_call(vreq("pair", count=2)))
    assert len(out.images) == 1 and out.failed == 1


@pytest.mark.parametrize(
    ("message", "kind", "failover"),
    [
        ("Content Moderation: output image contains sensitive content", ProviderErrorKind.MODERATION, False),
        ("Internal Error: generation crashed", ProviderErrorKind.UNAVAILABLE, True),
    ],
)
async def test_failed_task(make, emu, message, kind, failover) -> None:
    emu.modellix.job_error = message
    with pytest.raises(ProviderError) as info:
        await make("modellix").generate(make_call(vreq()))
    assert info.value.kind is kind
    assert info.value.retryable is False
    assert info.value.failover is failover


def test_capabilities(reference) -> None:
    caps = ModellixProvider.capabilities
    assert caps.references_need_urls and caps.resumable and caps.explicit_size
    assert caps.refusal(vreq("x" * 601)) == "prompts up to 600 characters"
    assert caps.refusal(vreq(images=(reference(public=False),))) == "references must be public URLs"
    assert caps.refusal(vreq(model="4.5")) is not None
    assert caps.refusal(vreq(output_format="png", count=4)) is None

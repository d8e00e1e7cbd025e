"""fal.ai: `Authorization: Key`, queue submit -> status -> result, text-to-image and edit
endpoints per model, batches as separate generations, PNG answers, cancel, resume."""

from __future__ import annotations

import asyncio
import contextlib
import io
import random
import struct
import zlib

import pytest
from PIL import Image

from bot.errors import ProviderError, ProviderErrorKind
from bot.providers.base import ProviderCall, image_from_bytes
from bot.providers.fal import FalProvider, _as_format
from tests.emulators.providers import render_image
from tests.providers.helpers import Hooks, make_call, vreq


async def test_text_to_image_submits_and_polls(make, emu) -> None:
    emu.fal.pending_polls = 2
    hooks = Hooks()
    out = await make("fal").generate(make_call(vreq("a koi pond", aspect="4:3"), hooks))

    assert len(out.images) == 1 and out.failed == 0
    rec = emu.fal.submits[-1]
    assert rec.path == "/fal-ai/bytedance/seedream/v5/lite/text-to-image"
    assert rec.headers["authorization"] == f"Key {emu.fal.api_key}"
    assert rec.json == {
        "prompt": "a koi pond",
        "image_size": {"width": 2304, "height": 1728},
        "num_images": 1,
        "enable_safety_checker": True,
    }
    assert hooks.task_ids == [out.request_id]
    assert out.usage["request_id"] == hooks.task_ids[0] and out.usage["seed"] == 746406749
    gets = [r for r in emu.fal.requests if r.method == "GET"]
    assert [r.path.rsplit("/", 1)[-1] for r in gets] == ["status", "status", "status", hooks.task_ids[0]]
    assert all(r.headers["authorization"] == f"Key {emu.fal.api_key}" for r in gets)


async def test_png_answers_are_re_encoded_for_jpeg_requests(make, emu) -> None:
    jpeg = await make("fal").generate(make_call(vreq()))
    assert jpeg.images[0].mime == "image/jpeg"
    png = await make("fal").generate(make_call(vreq(output_format="png")))
    assert png.images[0].mime == "image/png"


def _damaged_png(width: int, height: int, fmt: str, index: int = 0) -> bytes:
    """A PNG whose ends are whole (so it passes as one) and whose pixel data is no zlib stream."""
    good = render_image(width, height, "png", index)
    at = good.index(b"IDAT") - 4
    length = struct.unpack(">I", good[at : at + 4])[0]
    bad = b"\x78\x9c" + b"\xff" * (length - 2)
    chunk = struct.pack(">I", length) + b"IDAT" + bad + struct.pack(">I", zlib.crc32(b"IDAT" + bad))
    return good[:at] + chunk + good[at + 12 + length :]


async def test_a_result_that_cant_be_re_encoded_is_a_failed_image_not_a_crash(make, emu) -> None:
    """Re-encoding a damaged PNG for a JPEG request raised PIL's OSError out of the provider:
    an unexpected error for the person, though fal had made (and billed) the request."""
    emu.render = _damaged_png
    with pytest.raises(ProviderError) as info:
        await make("fal").generate(make_call(vreq()))
    assert (info.value.kind, info.value.retryable, info.value.failover) == (
        ProviderErrorKind.UNAVAILABLE,
        False,
        False,
    )


async def test_seedream_45_endpoints(make, emu, reference) -> None:
    await make("fal").generate(make_call(vreq(model="4.5", resolution="4K")))
    assert emu.fal.submits[-1].path == "/fal-ai/bytedance/seedream/v4.5/text-to-image"
    assert emu.fal.last_json["image_size"] == {"width": 4096, "height": 4096}
    await make("fal").generate(make_call(vreq("edit", model="4.5", images=(reference(),))))
    assert emu.fal.submits[-1].path == "/fal-ai/bytedance/seedream/v4.5/edit"


async def test_edit_sends_urls_and_data_uris(make, emu, reference) -> None:
    public, local = reference(public=True), reference(public=False)
    await make("fal").generate(make_call(vreq("watercolor", images=(public, local))))
    rec = emu.fal.submits[-1]
    assert rec.path == "/fal-ai/bytedance/seedream/v5/lite/edit"
    assert rec.json["image_urls"][0] == public.url
    assert rec.json["image_urls"][1].startswith("data:image/png;base64,")
    assert emu.fal.received_urls == [public.url]
    assert emu.fal.received_images == [local.data]


async def test_batch_is_separate_generations(make, emu) -> None:
    out = await make("fal").generate(make_call(vreq("four seasons", count=4)))
    assert len(out.images) == 4 and out.failed == 0
    body = emu.fal.last_json
    assert body["num_images"] == 4 and "max_images" not in body
    assert body["prompt"] == "four seasons"  # no "Generate a set of" sentence needed


async def test_foreign_status_urls_are_not_followed(make, emu) -> None:
    # The key must never travel to a host other than FAL_BASE_URL: the paths are built instead.
    emu.fal_host.foreign_urls = True
    out = await make("fal").generate(make_call(vreq()))
    assert len(out.images) == 1


@pytest.mark.parametrize(
    ("message", "kind", "failover"),
    [
        ("The content could not be processed because it was flagged", ProviderErrorKind.MODERATION, False),
        ("Upstream model crashed", ProviderErrorKind.UNAVAILABLE, True),
    ],
)
async def test_completed_with_an_error(make, emu, message, kind, failover) -> None:
    emu.fal.job_error = message
    emu.fal.pending_polls = 1
    with pytest.raises(ProviderError) as info:
        await make("fal").generate(make_call(vreq()))
    assert info.value.kind is kind
    assert info.value.retryable is False
    assert info.value.failover is failover
    assert emu.fal.submissions == 1


async def test_broken_result_url(make, emu) -> None:
    emu.fal.broken = 1
    with pytest.raises(ProviderError) as info:
        await make("fal").generate(make_call(vreq()))
    assert info.value.kind is ProviderErrorKind.UNAVAILABLE and not info.value.failover


async def test_partial_batch(make, emu) -> None:
    emu.fal.deliver = 2
    out = await make("fal").generate(make_call(vreq("three", count=3)))
    assert len(out.images) == 2 and out.failed == 1


async def test_cancel_a_queued_request(make, emu) -> None:
    emu.fal.pending_polls = 10_000
    got: asyncio.Queue[str] = asyncio.Queue()

    async def on_task_id(task_id: str) -> None:
        await got.put(task_id)

    provider = make("fal")
    running = asyncio.create_task(
        provider.generate(ProviderCall(vreq(), "job-c", 30.0, on_task_id=on_task_id))
    )
    task_id = await asyncio.wait_for(got.get(), 5)
    assert await provider.cancel(task_id) is True
    put = [r for r in emu.fal.requests if r.method == "PUT"]
    assert [r.path for r in put] == [f"/fal-ai/bytedance/requests/{task_id}/cancel"]
    assert put[0].headers["authorization"] == f"Key {emu.fal.api_key}"
    with pytest.raises(ProviderError) as info:
        await asyncio.wait_for(running, 5)
    assert not info.value.failover and not info.value.retryable  # cancelled: no other host
    assert "cancel" in info.value.detail.lower()
    assert await provider.cancel(task_id) is False  # already over


async def test_cancel_of_a_finished_or_unknown_request(make, emu) -> None:
    hooks = Hooks()
    provider = make("fal")
    await provider.generate(make_call(vreq(), hooks))
    assert await provider.cancel(hooks.task_ids[0]) is False
    assert await provider.cancel("no-such-request") is False


async def test_resume_polls_without_resubmitting(make, emu) -> None:
    emu.fal.pending_polls = 10_000
    got: asyncio.Queue[str] = asyncio.Queue()

    async def on_task_id(task_id: str) -> None:
        await got.put(task_id)

    running = asyncio.create_task(
        make("fal").generate(ProviderCall(vreq(), "job-r", 30.0, on_task_id=on_task_id))
    )
    task_id = await asyncio.wait_for(got.get(), 5)
    running.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await running
    upstream = emu.fal.tasks[task_id]
    upstream.pending = upstream.polls + 1
    out = await make("fal").resume(task_id, make_call(vreq()))
    assert len(out.images) == 1 and emu.fal.submissions == 1


def test_capabilities(reference) -> None:
    caps = FalProvider.capabilities
    assert caps.resumable and not caps.streaming
    assert caps.models == frozenset({"5.0-lite", "4.5"})
    assert caps.max_references == 10 and caps.max_outputs == 6
    assert caps.refusal(vreq(count=7)) == "at most 6 images"
    assert caps.refusal(vreq(images=tuple(reference() for _ in range(11)))) == "at most 10 references"
    assert caps.refusal(vreq(images=(reference(public=False),), width=2560, height=1440)) is None


def test_a_png_damaged_between_its_ends_is_no_image_to_re_encode() -> None:
    """Pillow says "damaged" in more ways than OSError: a chunk type broken mid-file raised
    SyntaxError out of the provider."""
    img = Image.frombytes("RGB", (256, 256), random.Random(1).randbytes(256 * 256 * 3))
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=0)
    data = bytearray(buf.getvalue())
    at, idats = 8, []
    while at < len(data):
        length = struct.unpack(">I", data[at : at + 4])[0]
        if data[at + 4 : at + 8] == b"IDAT":
            idats.append(at)
        at += 12 + length
    data[idats[1] + 4 : idats[1] + 8] = b"I\x00AT"
    damaged = image_from_bytes(bytes(data))  # its ends are whole: it passes as an image
    assert _as_format(damaged, "jpeg") is None
    assert _as_format(damaged, "png") is damaged  # not re-encoded: handed on as it came

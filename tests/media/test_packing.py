"""A batch made ready to post: each image fitted to the upload limit (on a worker thread only
when one needs re-encoding), packed into messages by count and bytes, and into the messages
there are."""

from __future__ import annotations

import asyncio
import io

import pytest
from PIL import Image

from bot.media import packing
from bot.media.packing import UploadLimits, fit_and_pack, fit_batch, fit_each, fit_each_off_loop, pack
from bot.request.models import GeneratedImage


def noise(side: int) -> GeneratedImage:
    buf = io.BytesIO()
    Image.effect_noise((side, side), 80).convert("RGB").save(buf, format="PNG")
    return GeneratedImage(buf.getvalue(), "image/png", side, side)


def test_files_are_packed_by_count_and_bytes() -> None:
    assert pack([1] * 15, per_message=10, message_bytes=100) == [list(range(10)), list(range(10, 15))]
    assert pack([40, 40, 40, 90, 5], per_message=10, message_bytes=100) == [[0, 1], [2], [3, 4]]
    assert pack([], per_message=10, message_bytes=100) == []
    # a file as big as a message has one of its own; with no byte cap only the count matters
    assert pack([150, 1], per_message=10, message_bytes=100) == [[0], [1]]
    assert pack([10**9] * 12, per_message=10) == [list(range(10)), [10, 11]]


async def test_a_batch_is_fitted_into_the_messages_there_are() -> None:
    image = noise(256)
    big = len(image.data)
    limits = UploadLimits(big * 2, 10, big * 2)
    packed = await fit_and_pack([image] * 15, limits)
    assert len(packed.groups) == 8 and packed.planned == 15  # two a message: no cap on messages
    assert not packed.refitted
    packed = await fit_and_pack([image] * 15, limits, room=6)
    assert packed.refitted and len(packed.groups) <= 6 and packed.planned == 15
    assert all(sum(len(packed.images[i].data) for i in g) <= big * 2 for g in packed.groups)
    packed = await fit_and_pack([image] * 15, UploadLimits(10 * big, 10, 10 * big), room=2)
    assert [len(g) for g in packed.groups] == [10, 5]


async def test_past_the_room_a_group_is_left_out() -> None:
    image = noise(64)
    # Only the count limits a message: nothing to refit, the groups past the room cannot go.
    packed = await fit_and_pack([image] * 25, UploadLimits(10**6, 10), room=2)
    assert [len(g) for g in packed.groups] == [10, 10] and packed.planned == 20
    assert len(packed.images) == 25 and not packed.refitted
    # One file a message: an even share changes nothing, and what needs more messages than
    # there are is left out rather than posted.
    size = len(image.data)
    packed = await fit_and_pack([image] * 3, UploadLimits(size, 1, size), room=2)
    assert packed.groups == [[0], [1]] and packed.planned == 2 and len(packed.images) == 3


def test_images_over_the_limit_are_reencoded_to_fit() -> None:
    big = noise(512)
    small = GeneratedImage(b"\xff\xd8\xff" + b"0" * 10, "image/jpeg", 1, 1)
    fitted, changed = fit_each([big, small], 60_000)
    assert changed and len(fitted) == 2
    assert fitted[0] is not None and len(fitted[0].data) <= 60_000 and fitted[0].mime == "image/jpeg"
    assert fitted[1] is small
    assert fit_each([small], 60_000) == ([small], False)


async def test_an_image_that_cannot_be_fitted_is_left_out(caplog: pytest.LogCaptureFixture) -> None:
    big = noise(128)
    small = GeneratedImage(b"\xff\xd8\xff" + b"0" * 10, "image/jpeg", 1, 1)
    assert await fit_each_off_loop([big, small], 50) == ([None, small], False)
    assert await fit_batch([big, small], 50) == ([small], False)
    assert "could not be fitted into 50 bytes" in caplog.text


async def test_only_a_real_reencode_goes_to_a_worker_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    hops: list[object] = []
    real = asyncio.to_thread

    async def noting(func: object, *args: object) -> object:
        hops.append(func)
        return await real(func, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(packing.asyncio, "to_thread", noting)
    image = noise(256)
    assert await fit_batch([image, image], len(image.data)) == ([image, image], False)
    assert hops == []  # they fit: a length check on the loop
    fitted, changed = await fit_batch([image], len(image.data) // 2)
    assert changed and len(fitted[0].data) <= len(image.data) // 2
    assert hops == [fit_each]

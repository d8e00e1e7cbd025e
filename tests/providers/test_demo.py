"""The offline demo provider: its pace (SEEDBOT_DEMO_LATENCY, progress like a polling provider)
and images that show what was asked."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from bot.config import Settings
from bot.providers import demo
from bot.providers.base import ProviderCall
from bot.providers.demo import DemoProvider, render_placeholder
from bot.request.models import GenerationRequest, ImageInput
from bot.request.validation import validate


def _reference(color: tuple[int, int, int]) -> ImageInput:
    buf = io.BytesIO()
    Image.new("RGB", (300, 200), color).save(buf, format="PNG")
    return ImageInput(buf.getvalue(), "image/png", 300, 200, name="red.png")


def _pixels(data: bytes, close_to: tuple[int, int, int]) -> int:
    raw = Image.open(io.BytesIO(data)).convert("RGB").reduce(4).tobytes()
    pixels = (raw[i : i + 3] for i in range(0, len(raw), 3))
    return sum(1 for px in pixels if all(abs(a - b) < 40 for a, b in zip(px, close_to, strict=True)))


async def test_with_a_latency_it_reports_progress_several_times(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo, "PROGRESS_EVERY", 0.05)
    provider = DemoProvider(Settings(demo_latency=0.3), None, None)  # type: ignore[arg-type]
    seen: list[float] = []

    async def on_progress(percent: float) -> None:
        seen.append(percent)

    request = validate(GenerationRequest("a red fox", count=2))
    output = await provider.generate(ProviderCall(request, "job1", 60.0, on_progress=on_progress))
    assert len(seen) >= 5 and seen == sorted(seen) and seen[0] > 0 and seen[-1] < 100
    assert len(output.images) == 2 and output.images[0].data != output.images[1].data


def test_it_is_instant_unless_asked() -> None:
    assert DemoProvider(Settings(), None, None).latency == 0.0  # type: ignore[arg-type]
    assert Settings(SEEDBOT_DEMO_LATENCY="2.5").demo_latency == 2.5


def test_images_show_their_references_and_differ_within_a_batch() -> None:
    red = _reference((255, 0, 0))
    plain = render_placeholder("an edit", 2048, 2048, 0, "png", count=2, aspect="1:1", model="Seedream 4.5")
    edited = render_placeholder(
        "an edit", 2048, 2048, 0, "png", count=2, aspect="1:1", model="Seedream 4.5", references=[red.data]
    )
    second = render_placeholder("an edit", 2048, 2048, 1, "png", count=2, aspect="1:1", model="Seedream 4.5")
    assert _pixels(plain.data, (255, 0, 0)) == 0
    assert _pixels(edited.data, (255, 0, 0)) > 500  # the reference, composited as a thumbnail
    first_colour = Image.open(io.BytesIO(plain.data)).getpixel((5, 5))
    assert Image.open(io.BytesIO(second.data)).getpixel((5, 5)) != first_colour
    assert (plain.width, plain.height, plain.mime) == (2048, 2048, "image/png")


def test_a_reference_it_cannot_draw_is_left_out() -> None:
    image = render_placeholder("x", 2048, 2048, 0, "jpeg", references=[b"not an image"])
    assert image.mime == "image/jpeg" and Image.open(io.BytesIO(image.data)).size == (2048, 2048)

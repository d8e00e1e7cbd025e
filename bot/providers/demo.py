"""The offline `demo` provider: clearly-labelled placeholder images, free, no network.

It exists so the bot's wiring (commands, threads, uploads, quotas, the playground) can be tried
without keys. Each image shows what was asked: the prompt, size, aspect ratio and model, its
place in the batch (each in its own colour), and the reference images composited in as labelled
thumbnails, so an edit visibly comes from its parent.

SEEDBOT_DEMO_LATENCY makes it take that many seconds, reporting progress a few times a second
like a polling provider, so queue positions and progress bars can be seen.
"""

from __future__ import annotations

import asyncio
import colorsys
import hashlib
import io
import textwrap
from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont

from bot.providers.base import Capabilities, Provider, ProviderCall, ProviderOutput
from bot.request.models import GeneratedImage
from bot.request.validation import MODELS

__all__ = ["PROGRESS_EVERY", "DemoProvider", "render_placeholder"]

PROGRESS_EVERY = 0.5  # seconds between progress reports while "generating"
_INK = (20, 20, 20)


def _colour(prompt: str, index: int) -> tuple[int, int, int]:
    digest = hashlib.sha256(prompt.encode()).digest()
    hue = (digest[0] / 255 + index * 0.19) % 1.0  # images of one batch differ in colour
    r, g, b = colorsys.hsv_to_rgb(hue, 0.42, 0.88)
    return int(r * 255), int(g * 255), int(b * 255)


def _thumbnail(data: bytes, box: int) -> Image.Image | None:
    try:
        with Image.open(io.BytesIO(data)) as source:
            source.draft("RGB", (box, box))  # JPEG: decode at a fraction of the size
            thumb = source.convert("RGB")
    except Exception:  # a reference the demo can't draw is left out, never a failed job
        return None
    thumb.thumbnail((box, box))
    return thumb


def render_placeholder(
    prompt: str,
    width: int,
    height: int,
    index: int,
    fmt: str,
    *,
    count: int = 1,
    aspect: str = "",
    model: str = "",
    references: Sequence[bytes] = (),
) -> GeneratedImage:
    """One placeholder: image `index` (from 0) of `count`, showing the request it answers."""
    img = Image.new("RGB", (width, height), _colour(prompt, index))
    draw = ImageDraw.Draw(img)
    short = min(width, height)
    big_size, font_size, small_size = max(16, short // 14), max(14, short // 24), max(12, short // 40)
    big = ImageFont.load_default(size=big_size)
    font = ImageFont.load_default(size=font_size)
    small = ImageFont.load_default(size=small_size)
    margin = max(8, width // 16)
    # A soft disc whose place depends on the index: a batch is told apart at a glance.
    radius = short // 4
    cx = width - margin - radius - (index % 4) * radius // 3
    cy = height // 2 + (index // 4 - 1) * radius // 3
    tint = tuple(min(255, c + 40) for c in _colour(prompt, index))
    draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=tint)
    y = float(margin)
    draw.text((margin, y), "DEMO · seedbot placeholder", fill=_INK, font=font)
    y += font_size * 1.6
    draw.text((margin, y), f"image {index + 1} of {count}", fill=_INK, font=big)
    y += big_size * 1.4
    details = " · ".join(part for part in (f"{width}x{height}", aspect, model) if part)
    draw.text((margin, y), details, fill=_INK, font=font)
    y += font_size * 2.0
    columns = max(20, int((width - 2 * margin) / (font_size * 0.55)))
    wrapped = textwrap.fill(prompt, width=min(columns, 48))[:600]
    draw.multiline_text((margin, y), wrapped, fill=(30, 30, 30), font=font)
    if references:
        box = max(48, min(height // 5, (width - 2 * margin) // max(1, len(references)) - margin // 4))
        x, top = margin, height - margin - box - small_size * 1.5
        for n, data in enumerate(references, start=1):
            thumb = _thumbnail(data, box)
            label_y = top + small_size * 0.3
            if thumb is not None:
                img.paste(thumb, (x, int(top)))
                draw.rectangle((x, top, x + thumb.width, top + thumb.height), outline=_INK, width=2)
                label_y += thumb.height
            draw.text((x, label_y), f"image {n}", fill=_INK, font=small)
            x += box + margin // 4
            if x + box > width - margin:
                break
    buf = io.BytesIO()
    if fmt == "png":
        img.save(buf, format="PNG", compress_level=1)
        mime = "image/png"
    else:
        img.save(buf, format="JPEG", quality=85)
        mime = "image/jpeg"
    return GeneratedImage(data=buf.getvalue(), mime=mime, width=width, height=height)


class DemoProvider(Provider):
    name = "demo"
    capabilities = Capabilities(models=frozenset(MODELS), max_prompt_chars=10_000)

    def api_key(self) -> str:
        return ""

    @property
    def latency(self) -> float:
        """Seconds one request takes (SEEDBOT_DEMO_LATENCY; the playground sets ~3 s)."""
        return self.settings.demo_latency or 0.0

    async def generate(self, call: ProviderCall) -> ProviderOutput:
        req = call.request
        latency = self.latency
        if latency:
            # Report a few times a second, as a polling provider does.
            steps = max(2, round(latency / PROGRESS_EVERY))
            for step in range(1, steps + 1):
                await asyncio.sleep(latency / steps)
                await call.on_progress(100.0 * step / (steps + 1))
        else:
            await call.on_progress(50.0)
        references = [image.data for image in req.images]
        images = [
            await asyncio.to_thread(
                render_placeholder,
                req.prompt,
                req.width,
                req.height,
                i,
                req.request.output_format,
                count=req.count,
                aspect=req.aspect_text,
                model=req.spec.name,
                references=references,
            )
            for i in range(req.count)
        ]
        return ProviderOutput(images=images, usage={"generated_images": len(images), "demo": True})

"""The offline `demo` provider: clearly-labelled placeholder images, free, no network.

It exists so the bot's wiring (commands, threads, uploads, quotas) can be tried without keys.
"""

from __future__ import annotations

import asyncio
import colorsys
import hashlib
import io
import textwrap

from PIL import Image, ImageDraw, ImageFont

from bot.providers.base import Capabilities, Provider, ProviderCall, ProviderOutput
from bot.request.models import GeneratedImage
from bot.request.validation import MODELS

__all__ = ["DemoProvider", "render_placeholder"]


def render_placeholder(prompt: str, width: int, height: int, index: int, fmt: str) -> GeneratedImage:
    digest = hashlib.sha256(f"{prompt}\0{index}".encode()).digest()
    r, g, b = colorsys.hsv_to_rgb(digest[0] / 255, 0.45, 0.85)
    img = Image.new("RGB", (width, height), (int(r * 255), int(g * 255), int(b * 255)))
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=max(16, min(width, height) // 20))
    small = ImageFont.load_default(size=max(12, min(width, height) // 40))
    margin = width // 16
    draw.text((margin, margin), "DEMO - seedbot placeholder", fill=(20, 20, 20), font=font)
    draw.text((margin, margin * 2.2), f"image {index + 1} · {width}x{height}", fill=(20, 20, 20), font=small)
    wrapped = textwrap.fill(prompt, width=48)[:600]
    draw.multiline_text((margin, margin * 3.4), wrapped, fill=(30, 30, 30), font=small)
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
    latency = 0.0  # seconds; tests and demos can slow it down

    def api_key(self) -> str:
        return ""

    async def generate(self, call: ProviderCall) -> ProviderOutput:
        req = call.request
        if self.latency:
            await asyncio.sleep(self.latency)
        await call.on_progress(50.0)
        images = [
            await asyncio.to_thread(
                render_placeholder, req.prompt, req.width, req.height, i, req.request.output_format
            )
            for i in range(req.count)
        ]
        return ProviderOutput(images=images, usage={"generated_images": len(images), "demo": True})

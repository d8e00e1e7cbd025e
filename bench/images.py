"""Photo-like test images: noise over gradients, so they do not compress to nothing."""

from __future__ import annotations

import io
import itertools
import struct

from PIL import Image

_serial = itertools.count(1)


def photo_like(width: int, height: int, sigma: float) -> Image.Image:
    channels = []
    for i in range(3):
        base = Image.linear_gradient("L").resize((width, height)).rotate(i * 120)
        channels.append(Image.blend(base, Image.effect_noise((width, height), sigma), 0.5))
    return Image.merge("RGB", channels)


def jpeg_2k(quality: int = 95, sigma: float = 50.0) -> bytes:
    """A 2048x2048 JPEG of about 3 MB, like a Seedream 2K result."""
    buf = io.BytesIO()
    photo_like(2048, 2048, sigma).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def png_3k(sigma: float = 20.0) -> bytes:
    """A 3072x3072 PNG of about 20 MB (3K 1:1), over Slack's or Discord's small upload limits."""
    buf = io.BytesIO()
    photo_like(3072, 3072, sigma).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def unique_jpeg(base: bytes) -> bytes:
    """`base` with a JPEG comment segment carrying a serial number right after SOI: the same
    picture, but distinct bytes (so no layer can deduplicate it by hash)."""
    note = f"seedbot-bench {next(_serial)}".encode()
    return base[:2] + b"\xff\xfe" + struct.pack(">H", len(note) + 2) + note + base[2:]

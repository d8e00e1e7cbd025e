"""Image fitting: a 3K photo-like PNG (~20 MB) made to fit a 10 MB upload limit with
bot.media.images.fit_to_limit, beside the floor: one PNG decode plus one JPEG encode in Pillow."""

from __future__ import annotations

import io
import time
from typing import Any

from PIL import Image

from bench.images import png_3k
from bot.media.images import fit_to_limit
from bot.request.models import GeneratedImage

LIMIT = 10_000_000


def _floor(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as src:
        img = src.convert("RGB")
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def run(reps: int = 5) -> dict[str, Any]:
    data = png_3k()
    image = GeneratedImage(data, "image/png", 3072, 3072)
    fit_ms, floor_ms = [], []
    out_bytes = 0
    for _ in range(reps):
        started = time.perf_counter()
        fitted, changed = fit_to_limit(image, LIMIT)
        fit_ms.append((time.perf_counter() - started) * 1000)
        assert changed and len(fitted.data) <= LIMIT
        out_bytes = len(fitted.data)
        started = time.perf_counter()
        _floor(data)
        floor_ms.append((time.perf_counter() - started) * 1000)
    fit_ms.sort()
    floor_ms.sort()
    return {
        "png_bytes": len(data),
        "limit": LIMIT,
        "out_bytes": out_bytes,
        "reps": reps,
        "ms_median": fit_ms[reps // 2],
        "ms_max": fit_ms[-1],
        "ms_all": fit_ms,
        "floor_ms_median": floor_ms[reps // 2],
    }

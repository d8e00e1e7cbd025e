"""The reference for the streamed batch: a plain httpx client reading the Ark emulator's event
stream, fetching each image as its event arrives, in a process of its own like the bot.

    python -m bench.stream_direct BASE_URL API_KEY COUNT   -> one JSON line

Times are `time.monotonic()` (CLOCK_MONOTONIC: one clock for every process on the machine, so
the benchmark compares them with the emulator's): `started` (the request sent), `first_event`
(the first image event read) and `images` (index -> the image's bytes in hand).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

import httpx

MODEL = "seedream-4-5-251128"


async def run(base: str, key: str, count: int) -> dict[str, Any]:
    body = {
        "model": MODEL,
        "prompt": f"a lighthouse in four seasons\n\nGenerate a set of {count} images.",
        "size": "2048x2048",  # what the bot sends for 4.5 at 2K, 1:1
        "sequential_image_generation": "auto",
        "sequential_image_generation_options": {"max_images": count},
        "stream": True,
        "response_format": "url",
        "watermark": False,
    }
    images: dict[int, float] = {}
    first_event: float | None = None
    async with httpx.AsyncClient(timeout=httpx.Timeout(120.0)) as client:
        started = time.monotonic()
        async with client.stream(
            "POST",
            f"{base}/api/v3/images/generations",
            json=body,
            headers={"Authorization": f"Bearer {key}"},
        ) as resp:
            resp.raise_for_status()
            async for line in resp.aiter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                event = json.loads(line[6:])
                if event.get("type") != "image_generation.partial_succeeded":
                    continue
                first_event = first_event or time.monotonic()
                image = await client.get(event["url"])
                image.raise_for_status()
                images[int(event["image_index"])] = time.monotonic()
    return {"started": started, "first_event": first_event, "images": images}


def main() -> None:
    base, key, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    print(json.dumps(asyncio.run(run(base, key, count))))


if __name__ == "__main__":
    main()

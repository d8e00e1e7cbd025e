"""The reference for the overhead figures: N concurrent direct httpx calls to the provider
emulator, in a process of its own like the bot: POST the generation, then GET the result image.

    python -m bench.direct BASE_URL API_KEY N     -> one JSON line: per-call seconds, bytes, and
                                                     the CPU seconds this process spent on the run
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time

import httpx


async def one(client: httpx.AsyncClient, base: str, key: str) -> tuple[float, int]:
    # A burst of hundreds of new connections can be reset by the listener's backlog: the
    # reference retries those, as a well-behaved client would, and the time counts.
    started = time.monotonic()
    for attempt in range(1, 5):
        try:
            return await _call(client, base, key, started)
        except httpx.TransportError:
            await asyncio.sleep(0.05 * attempt)
    return await _call(client, base, key, started)


async def _call(client: httpx.AsyncClient, base: str, key: str, started: float) -> tuple[float, int]:
    resp = await client.post(
        f"{base}/v3/seedream-5.0-lite",
        json={"prompt": "a red fox in snow", "size": "2048x2048", "watermark": False},
        headers={"Authorization": f"Bearer {key}"},
    )
    resp.raise_for_status()
    [url] = resp.json()["images"]
    image = await client.get(url)
    image.raise_for_status()
    return time.monotonic() - started, len(image.content)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)  # every thread of this process
    return usage.ru_utime + usage.ru_stime


async def run(base: str, key: str, n: int) -> dict[str, object]:
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    async with httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(300.0)) as client:
        # From here on, as for the bot (whose client exists before the run): the work itself.
        cpu = _cpu()
        started = time.monotonic()
        results = await asyncio.gather(*(one(client, base, key) for _ in range(n)))
        wall = time.monotonic() - started
        cpu = _cpu() - cpu
    return {
        "latencies": [r[0] for r in results],
        "bytes": [r[1] for r in results],
        "wall": wall,
        "cpu_s": cpu,
    }


def main() -> None:
    base, key, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    print(json.dumps(asyncio.run(run(base, key, n))))


if __name__ == "__main__":
    main()

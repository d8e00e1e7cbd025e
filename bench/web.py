"""The playground's web API under load (issue 16): N concurrent requests end to end against the
direct reference, and how long a change takes from the core to an open page's event stream.

The bot runs as `python -m bot run --web` (bench.botproc) with Novita (the emulator) as its
provider. A person's request is done, for the clock, when its thread shows the result with its
buttons on the page's event stream: the last thing they see. Latency of a change: the wall
clock when the timeline published it (the `at` of the event) to when this client read it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench.botproc import REPO, BotProcess, bench_env
from bench.images import jpeg_2k, unique_jpeg
from bench.pairs import PAIRED_SIZES, PAIRS, cpu_seconds, diff_counts, paired, percentile, probe
from tests.emulators.providers import ProviderEmulator

PROVIDER_LATENCY = 2.0  # seconds, every Novita submit (as the Slack and Discord figures)
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
CSRF_HEADER = "X-CSRF-Token"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Page:
    """One open page: its session, and what its event stream said when."""

    def __init__(self, http: aiohttp.ClientSession, base: str) -> None:
        self.http = http
        self.base = base
        self.csrf = ""
        self.done: dict[str, float] = {}  # thread -> when its result (with buttons) arrived
        self.refused: dict[str, str] = {}
        self.lag: list[float] = []  # seconds from the core's change to this stream
        self._reader: asyncio.Task[None] | None = None

    async def open(self) -> None:
        async with self.http.get(f"{self.base}/") as resp:
            match = CSRF_META.search(await resp.text())
        assert match, "no CSRF token on the page"
        self.csrf = match.group(1)
        self._reader = asyncio.create_task(self._read())
        await asyncio.sleep(0.2)

    async def _read(self) -> None:
        async with self.http.get(f"{self.base}/api/events") as resp:
            event = ""
            async for raw in resp.content:
                line = raw.decode().rstrip("\n")
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: ") and event == "thread":
                    self._thread(json.loads(line[6:]), time.time(), time.monotonic())

    def _thread(self, data: dict[str, Any], wall: float, now: float) -> None:
        if "at" in data:
            self.lag.append(wall - float(data["at"]))
        for entry in data.get("entries") or []:
            if entry.get("kind") == "result" and entry.get("actions"):
                self.done.setdefault(data["id"], now)
            elif entry.get("kind") == "refusal":
                self.refused.setdefault(data["id"], str(entry.get("text")))

    async def ask(self, text: str) -> tuple[str, float]:
        form = aiohttp.FormData()
        form.add_field("text", text)
        started = time.monotonic()
        async with self.http.post(
            f"{self.base}/api/ask", data=form, headers={CSRF_HEADER: self.csrf}
        ) as resp:
            if resp.status != 202:
                raise RuntimeError(f"ask answered {resp.status}: {await resp.text()}")
            return str((await resp.json())["thread"]), started

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, aiohttp.ClientError):
                await self._reader


async def direct(providers: ProviderEmulator, n: int) -> dict[str, Any]:
    providers.files.clear()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.direct",
        providers.base_url("novita"),
        providers.novita.api_key,
        str(n),
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await proc.communicate()
    if proc.returncode:
        raise RuntimeError(f"bench.direct failed ({proc.returncode})")
    data: dict[str, Any] = json.loads(out)
    return data


async def end_to_end(page: Page, providers: ProviderEmulator, n: int, bot: BotProcess) -> dict[str, Any]:
    providers.files.clear()
    page.done.clear()
    page.refused.clear()
    ended = len(bot.matching(r"job \w+(: delivered| failed)"))
    counts = await probe(bot, start=True)
    cpu = cpu_seconds(bot.pid)
    t0 = time.monotonic()
    asked = await asyncio.gather(*(page.ask(f"a red fox in snow {i}") for i in range(n)))
    started = dict(asked)
    deadline = time.monotonic() + 240
    while len([t for t in started if t in page.done or t in page.refused]) < n:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{n} requests not finished: {len(page.done)} done\n{bot.tail()}")
        await asyncio.sleep(0.02)
    wall = time.monotonic() - t0
    await bot.wait_log(r"job \w+(: delivered| failed)", count=ended + n, timeout=60)  # settled too
    cpu = cpu_seconds(bot.pid) - cpu
    counts = diff_counts(counts, await probe(bot))
    latencies = [page.done[t] - started[t] for t in started if t in page.done]
    return {
        "latencies": latencies,
        "failed": len([t for t in started if t in page.refused]),
        "failures": sorted(set(page.refused.values()))[:3],
        "wall": wall,
        "cpu_s": cpu,
        "images": len(latencies),
        **({"counts": counts} if counts else {}),
    }


async def run(
    sizes: tuple[int, ...] = PAIRED_SIZES,
    pairs: int = PAIRS,
    *,
    module: str = "bot",
    extra_env: dict[str, str] | None = None,
) -> dict[str, Any]:
    image = jpeg_2k()
    out: dict[str, Any] = {"provider_latency_s": PROVIDER_LATENCY, "runs": []}
    with tempfile.TemporaryDirectory(prefix="seedbot-bench-web-") as tmp:
        async with ProviderEmulator() as providers:
            providers.novita.latency = PROVIDER_LATENCY
            providers.render = lambda w, h, fmt, i: unique_jpeg(image)
            port = _free_port()
            env = bench_env(Path(tmp) / "seedbot.db", providers, SEEDBOT_WEB_PORT=str(port))
            bot = BotProcess(env | (extra_env or {}), platform="web", module=module)
            bot.start()
            jar = aiohttp.CookieJar(unsafe=True)  # the session cookie of a 127.0.0.1 page
            connector = aiohttp.TCPConnector(limit=0)
            async with aiohttp.ClientSession(cookie_jar=jar, connector=connector) as http:
                page = Page(http, f"http://127.0.0.1:{port}")
                try:
                    await bot.wait_ready(timeout=30)
                    await page.open()

                    async def ref(n: int) -> dict[str, Any]:
                        return await direct(providers, n)

                    async def e2e(n: int) -> dict[str, Any]:
                        return await end_to_end(page, providers, n, bot)

                    for n in sizes:
                        out["runs"].append(await paired(n, pairs, ref, e2e, "web"))
                    out["event_lag"] = {
                        "events": len(page.lag),
                        "p50_ms": percentile(page.lag, 50) * 1000,
                        "p99_ms": percentile(page.lag, 99) * 1000,
                    }
                finally:
                    await page.close()
                    await bot.stop(timeout=30, check=False)
    return out


if __name__ == "__main__":
    print(json.dumps(asyncio.run(run()), indent=2))

"""A streamed batch of 4 from the Ark emulator (issue 19), on Slack, Discord and the playground,
beside a direct reference in the same run.

The bot runs as `python -m bot run --slack` / `--discord` / `--web` (bench.botproc) with `ark`
(the emulator, `"stream": true`) as its only provider. The emulator sends the four image events
at fixed times (FIRST_GAP after the request, then EVENT_GAP apart) and notes when each leaves;
each image is a distinct ~3 MB 2048x2048 JPEG, as in the other parts. An image has *reached
the platform* when:

- Slack: the emulator completes its upload into the thread (`files.completeUploadExternal`);
- Discord: the emulator stores a write of the result whose gallery shows it (the thread's
  message, created and then edited with each image; `DiscordEmulator.message_log`);
- playground: the page's event stream delivers the thread entry whose gallery shows it.

Figures, per surface: the lag from the provider's event to the image on the platform, per image
(target p99 < 150 ms), and time-to-first-image over time-to-the-provider's-first-event, both from
the user's request (target <= 1.05). Reference: `bench.stream_direct`, a plain httpx client in a
process of its own reading the same stream and fetching each image as its event arrives, for the
same figures. Every time is `time.monotonic()`, one clock for all processes on the machine.

EVENT_GAP is above Discord's one write a second per message (adapters/discord_adapter/stream.py):
events closer together wait for that window on Discord, by design, and go up together.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp

from bench.botproc import REPO, BotProcess, bench_env
from bench.images import jpeg_2k, unique_jpeg
from bench.slack import BOT_TOKEN, SIGNING_SECRET, BenchSlack, percentile
from bench.web import Page, _free_port
from tests.emulators.discord import DiscordEmulator
from tests.emulators.providers import ProviderEmulator

COUNT = 4  # images in the batch
FIRST_GAP = 2.0  # seconds from the request to the host's first image event (the 2 s of the other parts)
EVENT_GAP = 1.5  # seconds between the host's image events
BATCHES = 3  # per surface (and for the reference)
PROMPT = "a lighthouse in four seasons {i} --n 4 --model 4.5"
_NUMBER = re.compile(r"-(\d+)\.\w+$")


class StreamSlack(BenchSlack):
    """Notes when each file's upload is completed into a channel (by its number in the batch)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.landed: dict[int, float] = {}

    def _files_complete_upload_external(self, p: dict[str, Any], r: Any) -> dict[str, Any]:
        out = super()._files_complete_upload_external(p, r)
        now = time.monotonic()
        for item in p.get("files") or []:
            upload = self.uploads.get(item.get("id", ""))
            match = _NUMBER.search(str((upload or {}).get("filename", "")))
            if match:
                self.landed.setdefault(int(match.group(1)), now)
        return out


class StreamPage(Page):
    """Notes when the page's event stream first shows a result gallery of 1, 2, ... images."""

    def __init__(self, http: aiohttp.ClientSession, base: str) -> None:
        super().__init__(http, base)
        self.landed: dict[int, float] = {}

    def _thread(self, data: dict[str, Any], wall: float, now: float) -> None:
        super()._thread(data, wall, now)
        for entry in data.get("entries") or []:
            if entry.get("kind") == "result":
                for n in range(1, len(entry.get("images") or []) + 1):
                    self.landed.setdefault(n, now)


def _env(providers: ProviderEmulator, db: Path, **platform: str) -> dict[str, str]:
    return bench_env(db, providers, **platform) | {
        "SEEDBOT_PROVIDERS": "ark",
        "ARK_API_KEY": providers.ark.api_key,
        "ARK_BASE_URL": providers.base_url("ark"),
    }


def _batch(asked: float, landed: dict[int, float], events: dict[int, float]) -> dict[str, Any]:
    """One batch's figures: per image, the event -> platform lag; the first image's time over the
    first event's, both from the request."""
    if sorted(landed) != list(range(1, COUNT + 1)) or sorted(events) != list(range(COUNT)):
        raise RuntimeError(f"incomplete batch: landed {sorted(landed)}, events {sorted(events)}")
    return {
        "lags": [landed[i + 1] - events[i] for i in range(COUNT)],
        "ttfi_s": landed[1] - asked,
        "first_event_s": events[0] - asked,
        "ratio": (landed[1] - asked) / (events[0] - asked),
    }


async def _wait(landed: dict[int, float], bot: BotProcess | None, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while len(landed) < COUNT:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(landed)} of {COUNT} images arrived\n{bot.tail() if bot else ''}")
        await asyncio.sleep(0.005)


def _summary(batches: list[dict[str, Any]]) -> dict[str, Any]:
    lags = [lag for b in batches for lag in b["lags"]]
    ratios = [b["ratio"] for b in batches]
    return {
        "batches": batches,
        "images": len(lags),
        "lag_p50_ms": percentile(lags, 50) * 1000,
        "lag_p99_ms": percentile(lags, 99) * 1000,
        "lag_max_ms": max(lags) * 1000,
        "ratio_median": sorted(ratios)[len(ratios) // 2],
        "ratio_max": max(ratios),
    }


async def direct(providers: ProviderEmulator) -> dict[str, Any]:
    batches = []
    for _ in range(BATCHES):
        providers.files.clear()
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.stream_direct",
            providers.base_url("ark"),
            providers.ark.api_key,
            str(COUNT),
            cwd=REPO,
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await proc.communicate()
        if proc.returncode:
            raise RuntimeError(f"bench.stream_direct failed ({proc.returncode})")
        data = json.loads(out)
        landed = {int(i) + 1: t for i, t in data["images"].items()}
        batches.append(_batch(data["started"], landed, providers.ark_host.event_times))
    return _summary(batches)


async def _batches(
    providers: ProviderEmulator,
    bot: BotProcess,
    landed: dict[int, float],
    ask: Callable[[int], Awaitable[float]],
) -> dict[str, Any]:
    """BATCHES requests one after another (`ask(i)` sends one and returns when it was sent),
    each timed from its request."""
    batches = []
    for i in range(BATCHES):
        providers.files.clear()
        landed.clear()
        asked = await ask(i)
        await _wait(landed, bot)
        await bot.wait_log(r"job \w+: delivered", count=i + 1, timeout=60)
        batches.append(_batch(asked, dict(landed), dict(providers.ark_host.event_times)))
    return _summary(batches)


async def on_slack(providers: ProviderEmulator, tmp: Path) -> dict[str, Any]:
    slack = StreamSlack(bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET)
    async with slack, aiohttp.ClientSession() as http:
        env = _env(
            providers,
            tmp / "slack.db",
            SLACK_API_URL=slack.api_url,
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_PORT="0",
        )
        bot = BotProcess(env, platform="slack")
        bot.start()
        try:
            await bot.wait_ready(timeout=30)

            async def ask(i: int) -> float:
                raw, headers = slack.signed(slack.mention_event(PROMPT.format(i=i)))
                asked = time.monotonic()
                async with http.post(bot.url, data=raw, headers=headers) as resp:
                    resp.raise_for_status()
                return asked

            return await _batches(providers, bot, slack.landed, ask)
        finally:
            await bot.stop(timeout=30, check=False)


async def on_discord(providers: ProviderEmulator, tmp: Path) -> dict[str, Any]:
    async with DiscordEmulator() as emu:
        env = _env(
            providers,
            tmp / "discord.db",
            DISCORD_TOKEN=emu.token,
            DISCORD_API_BASE_URL=emu.api_base,
            DISCORD_GATEWAY_URL=emu.gateway_url,
        )
        bot = BotProcess(env, platform="discord")
        bot.start()
        landed: dict[int, float] = {}
        since = [0]

        async def watch() -> None:  # the message log, read as it grows
            while True:
                for seen in emu.message_log[since[0] :]:
                    for n in range(1, seen.gallery + 1):
                        landed.setdefault(n, seen.at)
                since[0] = len(emu.message_log)
                await asyncio.sleep(0.002)

        try:
            await bot.wait_ready(timeout=60)

            async def ask(i: int) -> float:
                since[0] = len(emu.message_log)
                asked = time.monotonic()
                await emu.send_slash_command(
                    "imagine", {"prompt": f"a lighthouse in four seasons {i}", "count": COUNT, "model": "4.5"}
                )
                return asked

            watcher = asyncio.create_task(watch())
            try:
                return await _batches(providers, bot, landed, ask)
            finally:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
        finally:
            await bot.stop(timeout=30, check=False)


async def on_web(providers: ProviderEmulator, tmp: Path) -> dict[str, Any]:
    port = _free_port()
    bot = BotProcess(_env(providers, tmp / "web.db", SEEDBOT_WEB_PORT=str(port)), platform="web")
    bot.start()
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        page = StreamPage(http, f"http://127.0.0.1:{port}")
        try:
            await bot.wait_ready(timeout=30)
            await page.open()

            async def ask(i: int) -> float:
                asked = time.monotonic()
                await page.ask(PROMPT.format(i=i))
                return asked

            return await _batches(providers, bot, page.landed, ask)
        finally:
            await page.close()
            await bot.stop(timeout=30, check=False)


async def run() -> dict[str, Any]:
    image = jpeg_2k()
    out: dict[str, Any] = {
        "count": COUNT,
        "first_gap_s": FIRST_GAP,
        "event_gap_s": EVENT_GAP,
        "batches": BATCHES,
        "image_bytes": len(image),
    }
    with tempfile.TemporaryDirectory(prefix="seedbot-bench-stream-") as tmp:
        async with ProviderEmulator() as providers:
            providers.ark_host.first_gap = FIRST_GAP
            providers.ark_host.event_gap = EVENT_GAP
            providers.render = lambda w, h, fmt, i: unique_jpeg(image)
            print("  direct reference", flush=True)
            out["direct"] = await direct(providers)
            for name, part in (("slack", on_slack), ("discord", on_discord), ("web", on_web)):
                print(f"  {name}", flush=True)
                out[name] = await part(providers, Path(tmp))
    return out


if __name__ == "__main__":
    print(json.dumps(asyncio.run(run()), indent=2))

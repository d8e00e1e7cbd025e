"""Acknowledgement, overhead and memory through the real Slack adapter (HTTP mode).

The bot runs as `python -m bot run --slack` (bench.botproc), pointed at the Slack emulator and
the Novita emulator, both served by this process. A job is finished, for the clock, when the
emulator receives its Re-roll / Variations / Edit buttons: the last thing a user sees.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench.botproc import REPO, BotProcess, RssSampler, bench_env, proc_status
from bench.images import jpeg_2k, unique_jpeg
from bench.pairs import PAIRED_SIZES, PAIRS, cpu_seconds, diff_counts, paired, percentile, probe
from tests.emulators.providers import ProviderEmulator
from tests.emulators.slack import SlackEmulator

BOT_TOKEN = "xoxb-seedbot-bench"
SIGNING_SECRET = "seedbot-bench-signing-secret"
PROVIDER_LATENCY = 2.0  # seconds, every Novita submit
PROMPT = "a red fox in snow"


class BenchSlack(SlackEmulator):
    """The Slack emulator, noting when each thread got its buttons (done) or an ephemeral (failed)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.done: dict[str, float] = {}
        self.failed: dict[str, str] = {}

    def _chat_post_message(self, p: dict[str, Any], r: Any) -> dict[str, Any]:
        out = super()._chat_post_message(p, r)
        blocks = p.get("blocks") or []
        if any(isinstance(b, dict) and b.get("type") == "actions" for b in blocks):
            self.done.setdefault(str(p.get("thread_ts")), time.monotonic())
        return out

    def _chat_post_ephemeral(self, p: dict[str, Any], r: Any) -> dict[str, Any]:
        out = super()._chat_post_ephemeral(p, r)
        self.failed.setdefault(str(p.get("thread_ts")), str(p.get("text")))
        return out

    def reset(self) -> None:
        """Forget everything recorded (uploads are megabytes each); keep users and channels."""
        self.clear_records()
        self.uploads.clear()
        self.files.clear()
        self._file_data.clear()
        for msgs in self.messages.values():
            msgs.clear()
        self.ephemerals.clear()
        self.deleted_messages.clear()
        self.done.clear()
        self.failed.clear()

    def signed(self, event: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        """A ready-to-send Events API request (signed now; valid for 5 minutes)."""
        raw = json.dumps(self.event_envelope(event)).encode()
        ts = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": self.sign(raw, ts),
        }
        return raw, headers


@dataclass
class Rig:
    slack: BenchSlack
    providers: ProviderEmulator
    bot: BotProcess
    http: aiohttp.ClientSession
    image: bytes
    delivered: int = 0  # jobs the bot has logged as delivered so far
    notes: list[str] = field(default_factory=list)

    async def wait_delivered(self, total: int, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.bot.matching(r"job \w+: delivered")) < total:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{total} deliveries not logged:\n{self.bot.tail()}")
            await asyncio.sleep(0.05)
        self.delivered = total


def bot_env(slack: SlackEmulator, providers: ProviderEmulator, db: Path) -> dict[str, str]:
    return bench_env(
        db,
        providers,
        SLACK_API_URL=slack.api_url,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_PORT="0",
    )


# -- 1. acknowledgement ---------------------------------------------------------------------------


async def _burst(
    http: aiohttp.ClientSession, url: str, requests: list[tuple[bytes, dict[str, str]]], window: float
) -> list[float]:
    """POST every request, spread evenly over `window` seconds; per-request seconds to the answer."""
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.05

    async def one(i: int, raw: bytes, headers: dict[str, str]) -> float:
        await asyncio.sleep(max(0.0, start + i * window / len(requests) - loop.time()))
        sent = time.monotonic()
        async with http.post(url, data=raw, headers=headers) as resp:
            await resp.read()
            if resp.status != 200:
                raise RuntimeError(f"{url} answered {resp.status}")
        return time.monotonic() - sent

    return list(await asyncio.gather(*(one(i, raw, h) for i, (raw, h) in enumerate(requests))))


async def acknowledgement(rig: Rig, n: int = 500, rounds: int = 2) -> dict[str, Any]:
    """n signed app_mention events within one second, into the bot and into a bare aiohttp server."""
    echo = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.echo", cwd=REPO, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert echo.stdout is not None
        echo_url = f"http://127.0.0.1:{int((await echo.stdout.readline()).decode())}/slack/events"
        rounds_out = []
        rig.providers.render = None  # small images: this part is about the ack, not the jobs
        for _ in range(rounds):
            rig.slack.reset()
            reference = await _burst(
                rig.http, echo_url, [rig.slack.signed(rig.slack.mention_event(PROMPT)) for _ in range(n)], 1.0
            )
            events = [rig.slack.signed(rig.slack.mention_event(PROMPT)) for _ in range(n)]
            acks = await _burst(rig.http, rig.bot.url, events, 1.0)
            # The 500 jobs the burst started run to the end before anything else is measured.
            await rig.wait_delivered(rig.delivered + n)
            rounds_out.append(
                {
                    "bot_p50_ms": percentile(acks, 50) * 1000,
                    "bot_p99_ms": percentile(acks, 99) * 1000,
                    "bot_max_ms": max(acks) * 1000,
                    "ref_p50_ms": percentile(reference, 50) * 1000,
                    "ref_p99_ms": percentile(reference, 99) * 1000,
                    "failed_jobs": len(rig.slack.failed),
                }
            )
    finally:
        echo.terminate()
        await echo.wait()
    worst = max(rounds_out, key=lambda r: r["bot_p99_ms"])
    return {"n": n, "window_s": 1.0, "rounds": rounds_out, "worst": worst}


# -- 2 and 3. overhead against the provider limit, and memory ---------------------------------------


async def direct(rig: Rig, n: int) -> dict[str, Any]:
    rig.providers.files.clear()  # results already fetched: megabytes each
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.direct",
        rig.providers.base_url("novita"),
        rig.providers.novita.api_key,
        str(n),
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await proc.communicate()
    if proc.returncode:
        raise RuntimeError(f"bench.direct failed ({proc.returncode})")
    data: dict[str, Any] = json.loads(out)
    return data


async def end_to_end(rig: Rig, n: int) -> dict[str, Any]:
    rig.slack.reset()
    rig.providers.files.clear()
    events = [rig.slack.mention_event(f"{PROMPT} {i}") for i in range(n)]
    prepared = [(e["ts"], *rig.slack.signed(e)) for e in events]
    started: dict[str, float] = {}
    before = proc_status(rig.bot.pid)["VmRSS"]
    counts = await probe(rig.bot, start=True)
    cpu = cpu_seconds(rig.bot.pid)

    async def post(ts: str, raw: bytes, headers: dict[str, str]) -> None:
        started[ts] = time.monotonic()
        async with rig.http.post(rig.bot.url, data=raw, headers=headers) as resp:
            await resp.read()
            if resp.status != 200:
                raise RuntimeError(f"bot answered {resp.status}")

    t0 = time.monotonic()
    with RssSampler(rig.bot.pid) as sampler:
        await asyncio.gather(*(post(*p) for p in prepared))
        deadline = time.monotonic() + 240
        while len(rig.slack.done) + len(rig.slack.failed) < n:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{n} jobs not finished: {len(rig.slack.done)} done\n{rig.bot.tail()}")
            await asyncio.sleep(0.02)
        wall = time.monotonic() - t0
        await rig.wait_delivered(rig.delivered + len(rig.slack.done))
    cpu = cpu_seconds(rig.bot.pid) - cpu
    counts = diff_counts(counts, await probe(rig.bot))
    await asyncio.sleep(1.0)  # let the bot drop what it held
    after = proc_status(rig.bot.pid)["VmRSS"]
    latencies = [rig.slack.done[ts] - started[ts] for ts in started if ts in rig.slack.done]
    uploads = [len(u["data"]) for u in rig.slack.uploads.values() if u.get("data")]
    return {
        "latencies": latencies,
        "failed": len(rig.slack.failed),
        "failures": sorted(set(rig.slack.failed.values()))[:3],
        "wall": wall,
        "rss_before": before,
        "rss_peak": sampler.peak,
        "rss_after": after,
        "upload_bytes": sum(uploads) / len(uploads) if uploads else 0,
        "cpu_s": cpu,
        "images": len(rig.slack.done),
        **({"counts": counts} if counts else {}),
    }


async def overhead(
    rig: Rig, sizes: tuple[int, ...], repeats_at_max: int, pairs: int = PAIRS
) -> dict[str, Any]:
    """Each N in `sizes`: alternating direct and bot runs, `pairs` of them for issue 17's range
    (PAIRED_SIZES), one otherwise; then `repeats_at_max` more runs at the largest N (memory)."""
    rig.providers.render = lambda w, h, fmt, i: unique_jpeg(rig.image)
    runs = []

    async def ref(n: int) -> dict[str, Any]:
        return await direct(rig, n)

    async def bot(n: int) -> dict[str, Any]:
        return await end_to_end(rig, n)

    for n in sizes:
        runs.append(await paired(n, pairs if n in PAIRED_SIZES else 1, ref, bot, "slack"))
    top = max(sizes)
    memory_runs = [runs[-1]["pairs"][-1]]
    for _ in range(repeats_at_max):
        memory_runs.append((await paired(top, 1, ref, bot, "slack again"))["pairs"][0])
    peak = memory_runs[0]
    held = peak["image_bytes"] * top
    memory = {
        "n": top,
        "image_bytes": peak["image_bytes"],
        "rss_before": peak["rss_before"],
        "rss_peak": peak["rss_peak"],
        "per_job_bytes": (peak["rss_peak"] - peak["rss_before"]) / top,
        "per_job_over_image": (peak["rss_peak"] - peak["rss_before"]) / held,
        "rss_after_each_run": [r["rss_after"] for r in memory_runs],
        "rss_peak_each_run": [r["rss_peak"] for r in memory_runs],
        "growth_bytes": memory_runs[-1]["rss_after"] - memory_runs[0]["rss_after"],
    }
    return {"runs": runs, "repeats": memory_runs[1:], "memory": memory}


async def run(
    sizes: tuple[int, ...] = (1, 10, 50, 100, 500),
    repeats_at_max: int = 2,
    *,
    pairs: int = PAIRS,
    ack: bool = True,
    profile: Path | None = None,
    module: str = "bot",
    extra_env: dict[str, str] | None = None,
) -> dict[str, Any]:
    image = jpeg_2k()
    out: dict[str, Any] = {"image_bytes": len(image), "provider_latency_s": PROVIDER_LATENCY}
    with tempfile.TemporaryDirectory(prefix="seedbot-bench-") as tmp:
        slack = BenchSlack(bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET)
        async with (
            slack,
            ProviderEmulator() as providers,
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http,
        ):
            providers.novita.latency = PROVIDER_LATENCY
            env = bot_env(slack, providers, Path(tmp) / "seedbot.db") | (extra_env or {})
            bot = BotProcess(env, profile=profile, module=module)
            bot.start()
            try:
                await bot.wait_ready(timeout=30)
                rig = Rig(slack, providers, bot, http, image)
                if ack:
                    print("slack: acknowledgement burst", flush=True)
                    out["ack"] = await acknowledgement(rig)
                print("slack: overhead against the provider", flush=True)
                out.update(await overhead(rig, sizes, repeats_at_max, pairs))
                errors = bot.matching(r" (ERROR|CRITICAL) ")
                out["bot_errors"] = errors[:5]
            finally:
                await bot.stop(timeout=30, check=False)
    return out

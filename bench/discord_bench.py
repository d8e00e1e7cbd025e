"""Acknowledgement and overhead through the real Discord adapter (gateway + REST).

The bot runs as `python -m bot run --discord` (bench.botproc) with DISCORD_API_BASE_URL and
DISCORD_GATEWAY_URL pointing at the Discord emulator (tests/emulators/discord/) and
NOVITA_BASE_URL at the Novita emulator, both served by this process. Users run `/imagine` through
the emulator's gateway (INTERACTION_CREATE), exactly as Discord would send it.

- ack: the time from the INTERACTION_CREATE frame leaving the emulator to the bot's deferral
  (`POST .../callback`, type 5) reaching it; reference: bench.discord_echo, a bare aiohttp client
  answering the same callback, against a second emulator in this process.
- overhead: a job is done when the emulator receives its result message carrying the Re-roll /
  Variations / Edit buttons (the result is posted in a thread started from the deferred response;
  the thread's id is the response's id).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.botproc import REPO, BotProcess, RssSampler, bench_env, proc_status
from bench.images import jpeg_2k, unique_jpeg
from bench.pairs import PAIRED_SIZES, PAIRS, cpu_seconds, diff_counts, paired, percentile, probe
from bench.slack import PROMPT, PROVIDER_LATENCY, direct
from tests.emulators.discord import TEXT_CHANNEL_ID, DiscordEmulator
from tests.emulators.discord.validation import walk_components
from tests.emulators.providers import ProviderEmulator

# The shape of the bot's /imagine (only what the reference emulator needs to accept it).
IMAGINE = {
    "name": "imagine",
    "type": 1,
    "description": "Generate an image",
    "options": [{"type": 3, "name": "prompt", "description": "What to draw", "required": True}],
}


class BenchDiscord(DiscordEmulator):
    """The Discord emulator, noting when each interaction was deferred and when each result
    message with buttons arrived (by the id of the thread / message it landed in)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.acked: dict[str, float] = {}  # interaction token -> callback received
        self.done: dict[str, float] = {}  # thread id or message id -> result with buttons received

    async def _r_interaction_callback(self, req: Any) -> Any:
        received = time.monotonic()
        out = await super()._r_interaction_callback(req)
        self.acked.setdefault(req.params["token"], received)
        return out

    def _apply_message_body(self, msg: dict[str, Any], body: Any, uploads: Any, *, creating: bool) -> None:
        super()._apply_message_body(msg, body, uploads, creating=creating)
        # A result is a Components V2 layout: its buttons sit in an action row inside a container.
        ids = [str(c.get("custom_id", "")) for _, c in walk_components((body or {}).get("components") or [])]
        if any(i.startswith("seedbot:reroll:") for i in ids):
            now = time.monotonic()
            self.done.setdefault(msg["channel_id"], now)
            self.done.setdefault(msg["id"], now)

    def reset(self) -> None:
        """Forget what was recorded (uploads are megabytes each, kept twice); keep the state the
        bot relies on (users, channels, commands)."""
        self.requests.clear()
        self._cdn.clear()
        self.messages.clear()
        self.interactions.clear()
        self.gateway_sent.clear()
        self.gateway_received.clear()
        self._nonces.clear()
        for cid in [c for c, ch in self.channels.items() if ch.get("type") == 11]:
            del self.channels[cid]
        self.acked.clear()
        self.done.clear()


def bot_env(emu: DiscordEmulator, providers: ProviderEmulator, db: Path) -> dict[str, str]:
    return bench_env(
        db,
        providers,
        DISCORD_TOKEN=emu.token,
        DISCORD_API_BASE_URL=emu.api_base,
        DISCORD_GATEWAY_URL=emu.gateway_url,
    )


@dataclass
class Rig:
    emu: BenchDiscord
    providers: ProviderEmulator
    bot: BotProcess
    image: bytes
    channels: list[str]
    ended: int = 0  # jobs the bot has logged as delivered or failed so far

    def ended_now(self) -> int:
        return len(self.bot.matching(r"job \w+(: delivered| failed)"))

    async def wait_ended(self, total: int, timeout: float = 240.0) -> None:
        deadline = time.monotonic() + timeout
        while self.ended_now() < total:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{total} jobs not ended:\n{self.bot.tail()}")
            await asyncio.sleep(0.05)
        self.ended = total


# -- 1. acknowledgement ---------------------------------------------------------------------------


async def _burst(emu: BenchDiscord, n: int, window: float, channels: list[str]) -> list[float]:
    """n /imagine interactions spread evenly over `window` s; per interaction: seconds from the
    frame leaving the emulator to the deferral reaching it."""
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.05
    sent = []
    for i in range(n):
        await asyncio.sleep(max(0.0, start + i * window / n - loop.time()))
        channel = channels[i % len(channels)]
        sent.append(await emu.send_slash_command("imagine", {"prompt": PROMPT}, channel_id=channel))
    deadline = time.monotonic() + 30
    while not all(it.token in emu.acked for it in sent):
        if time.monotonic() > deadline:
            missing = sum(it.token not in emu.acked for it in sent)
            raise TimeoutError(f"{missing} of {n} interactions not deferred")
        await asyncio.sleep(0.01)
    late = [it for it in sent if it.response_type != 5]
    if late:
        raise RuntimeError(f"{len(late)} interactions not deferred with type 5: {late[:3]}")
    return [emu.acked[it.token] - it.created_at for it in sent]


async def reference_acks(n: int, channels: int) -> list[float]:
    """The same burst into bench.discord_echo, against an emulator of its own (the emulator has
    one gateway session; a second client would end the bot's)."""
    async with BenchDiscord() as emu:
        emu.register_commands([IMAGINE])
        extra = [emu.add_text_channel(f"bench-{i}")["id"] for i in range(channels - 1)]
        echo = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.discord_echo",
            emu.gateway_url,
            emu.api_base,
            emu.token,
            cwd=REPO,
            stdout=asyncio.subprocess.PIPE,
        )
        try:
            assert echo.stdout is not None
            await asyncio.wait_for(echo.stdout.readline(), 30)
            return await _burst(emu, n, 1.0, [TEXT_CHANNEL_ID, *extra])
        finally:
            echo.terminate()
            await echo.wait()


async def acknowledgement(rig: Rig, n: int = 500, rounds: int = 1) -> dict[str, Any]:
    rounds_out = []
    rig.providers.render = None  # small images: this part is about the ack, not the jobs
    for _ in range(rounds):
        reference = await reference_acks(n, len(rig.channels))
        rig.emu.reset()
        acks = await _burst(rig.emu, n, 1.0, rig.channels)
        await rig.wait_ended(rig.ended + n)  # the jobs the burst started end before anything else
        rounds_out.append(
            {
                "bot_p50_ms": percentile(acks, 50) * 1000,
                "bot_p99_ms": percentile(acks, 99) * 1000,
                "bot_max_ms": max(acks) * 1000,
                "ref_p50_ms": percentile(reference, 50) * 1000,
                "ref_p99_ms": percentile(reference, 99) * 1000,
                "failed_jobs": len(rig.bot.matching(r"job \w+ failed")),
            }
        )
    worst = max(rounds_out, key=lambda r: r["bot_p99_ms"])
    return {"n": n, "window_s": 1.0, "rounds": rounds_out, "worst": worst}


# -- 2. overhead against the provider limit --------------------------------------------------------


async def end_to_end(rig: Rig, n: int) -> dict[str, Any]:
    rig.emu.reset()
    rig.providers.files.clear()
    failed_before = len(rig.bot.matching(r"job \w+ failed"))
    before = proc_status(rig.bot.pid)["VmRSS"]
    counts = await probe(rig.bot, start=True)
    cpu = cpu_seconds(rig.bot.pid)
    t0 = time.monotonic()
    with RssSampler(rig.bot.pid) as sampler:
        sent = []
        for i in range(n):  # one gateway connection: the frames go out one after another anyway
            channel = rig.channels[i % len(rig.channels)]
            sent.append(
                await rig.emu.send_slash_command("imagine", {"prompt": f"{PROMPT} {i}"}, channel_id=channel)
            )
        deadline = time.monotonic() + 240
        while True:
            finished = sum(1 for it in sent if it.original_message_id in rig.emu.done)
            failed = len(rig.bot.matching(r"job \w+ failed")) - failed_before
            if finished + failed >= n:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"{n} jobs not finished: {finished} done\n{rig.bot.tail()}")
            await asyncio.sleep(0.02)
        wall = time.monotonic() - t0
        await rig.wait_ended(rig.ended + n)
    cpu = cpu_seconds(rig.bot.pid) - cpu
    counts = diff_counts(counts, await probe(rig.bot))
    after = proc_status(rig.bot.pid)["VmRSS"]
    latencies = [
        rig.emu.done[it.original_message_id] - it.created_at
        for it in sent
        if it.original_message_id in rig.emu.done
    ]
    uploads = [len(f[2]) for f in rig.emu.uploaded_files()]
    failures = [line.split(" failed: ", 1)[-1] for line in rig.bot.matching(r"job \w+ failed")]
    return {
        "latencies": latencies,
        "failed": failed,
        "failures": sorted(set(failures[failed_before:]))[:3],
        "wall": wall,
        "rss_before": before,
        "rss_peak": sampler.peak,
        "rss_after": after,
        "upload_bytes": sum(uploads) / len(uploads) if uploads else 0,
        "cpu_s": cpu,
        "images": len(latencies),
        **({"counts": counts} if counts else {}),
    }


async def overhead(rig: Rig, sizes: tuple[int, ...], pairs: int = PAIRS) -> dict[str, Any]:
    """Each N: alternating direct and bot runs, `pairs` of them for issue 17's range."""
    rig.providers.render = lambda w, h, fmt, i: unique_jpeg(rig.image)

    async def ref(n: int) -> dict[str, Any]:
        return await direct(rig, n)  # type: ignore[arg-type]  # needs only .providers

    async def bot(n: int) -> dict[str, Any]:
        return await end_to_end(rig, n)

    runs = [await paired(n, pairs if n in PAIRED_SIZES else 1, ref, bot, "discord") for n in sizes]
    return {"runs": runs}


async def run(
    sizes: tuple[int, ...] = (1, 10, 50, 100, 500),
    *,
    pairs: int = PAIRS,
    ack: bool = True,
    channels: int = 1,
    profile: Path | None = None,
    module: str = "bot",
    extra_env: dict[str, str] | None = None,
) -> dict[str, Any]:
    image = jpeg_2k()
    out: dict[str, Any] = {
        "image_bytes": len(image),
        "provider_latency_s": PROVIDER_LATENCY,
        "channels": channels,
    }
    with tempfile.TemporaryDirectory(prefix="seedbot-bench-") as tmp:
        async with BenchDiscord() as emu, ProviderEmulator() as providers:
            providers.novita.latency = PROVIDER_LATENCY
            chans = [TEXT_CHANNEL_ID] + [
                emu.add_text_channel(f"bench-{i}")["id"] for i in range(channels - 1)
            ]
            env = bot_env(emu, providers, Path(tmp) / "seedbot.db") | (extra_env or {})
            bot = BotProcess(env, profile=profile, platform="discord", module=module)
            bot.start()
            try:
                await bot.wait_ready(timeout=60)
                if emu.find_command("imagine") is None:
                    raise RuntimeError("the bot did not sync /imagine")
                rig = Rig(emu, providers, bot, image, chans)
                if ack:
                    print("discord: acknowledgement burst", flush=True)
                    out["ack"] = await acknowledgement(rig)
                print("discord: overhead against the provider", flush=True)
                out.update(await overhead(rig, sizes, pairs))
                out["bot_errors"] = bot.matching(r" (ERROR|CRITICAL) ")[:5]
                out["bot_unusable"] = bot.matching(r"unusable: ")[:5]
            finally:
                await bot.stop(timeout=30, check=False)
    return out

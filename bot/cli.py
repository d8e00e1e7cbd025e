"""`seedbot ...`: run the bot, generate from the shell, manage quotas, check the set-up."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path

from pydantic import ValidationError

from bot import messages
from bot.config import Settings, get_settings
from bot.engine import Delivery
from bot.errors import ProviderError, SeedbotError
from bot.images import load_reference
from bot.logs import configure_logging
from bot.models import GenerationRequest, GenerationResult, ImageInput, Requester
from bot.platform import Platform, load_factories
from bot.runtime import Runtime, open_runtime
from bot.seedream import MAX_OUTPUTS, MODELS, REFERENCE_MAX_BYTES

__all__ = ["main"]

log = logging.getLogger("bot.cli")

CLI_USER = Requester(platform="cli", user_id="local", display_name="local")

NOTHING_CONFIGURED = """\
seedbot has no chat platform configured, so there is nothing to run.

Set these in .env (see .env.example) or in the environment:
  Discord: DISCORD_TOKEN
  Slack:   SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (HTTP mode) or SLACK_APP_TOKEN (Socket Mode)
Provider keys (without one, seedbot runs on the offline demo provider):
  NOVITA_API_KEY, SEGMIND_API_KEY, APIFRAME_API_KEY, MODELLIX_API_KEY

Try it without any platform: seedbot generate "a red fox" --provider demo --out out/
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="seedbot", description="Seedream images for Discord and Slack.")
    parser.add_argument("--env-file", default=".env", help="settings file to read (default: .env)")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the bot on the configured platforms")
    run.add_argument("--discord", action="store_true", help="run only Discord (with --slack: both)")
    run.add_argument("--slack", action="store_true", help="run only Slack (with --discord: both)")

    gen = sub.add_parser("generate", help="generate images from the shell, as user cli:local")
    gen.add_argument("prompt")
    gen.add_argument("--image", action="append", default=[], metavar="PATH_OR_URL", help="reference image")
    gen.add_argument("--model", default=None, choices=sorted(MODELS))
    gen.add_argument("--provider", default=None, help="use only this provider")
    gen.add_argument("--resolution", default=None, help="2K, 3K, 4K or WxH")
    gen.add_argument("--aspect", default=None, help="W:H, e.g. 16:9")
    gen.add_argument("--count", type=int, default=1, help=f"images to make (1-{MAX_OUTPUTS})")
    gen.add_argument("--format", default="jpeg", choices=["png", "jpeg", "jpg"])
    gen.add_argument("--no-watermark", action="store_true", help="ask for no watermark (the default)")
    gen.add_argument("--watermark", action="store_true", help="ask for the provider's watermark")
    gen.add_argument("--out", default=".", help="directory to write the images to")

    quota = sub.add_parser("quota", help="show or change a user's quota")
    quota.add_argument("action", choices=["show", "set", "reset", "block", "unblock"])
    quota.add_argument("user", help="platform:id, e.g. discord:123 or slack:T1:U1")
    quota.add_argument("--daily", type=int, default=None, help="with set: images per day")
    quota.add_argument("--monthly", type=int, default=None, help="with set: images per month")

    sub.add_parser("doctor", help="check the configuration and say what is missing")
    return parser


def _request(
    args: argparse.Namespace, settings: Settings, images: tuple[ImageInput, ...]
) -> GenerationRequest:
    width = height = None
    resolution = args.resolution
    if resolution and "x" in resolution.lower():
        w, _, h = resolution.lower().partition("x")
        if w.isdigit() and h.isdigit():
            width, height, resolution = int(w), int(h), None
    return GenerationRequest(
        prompt=args.prompt,
        images=images,
        model=args.model or settings.model,
        resolution=resolution,
        width=width,
        height=height,
        aspect=args.aspect,
        count=args.count,
        output_format="jpeg" if args.format == "jpg" else args.format,
        watermark=bool(args.watermark and not args.no_watermark),
        provider=args.provider,
    )


async def _load_images(runtime: Runtime, sources: list[str]) -> tuple[ImageInput, ...]:
    images = []
    for source in sources:
        if source.startswith(("http://", "https://")):
            fetched = await runtime.fetcher.fetch(source, max_bytes=REFERENCE_MAX_BYTES, name=source)
            name = source.rsplit("/", 1)[-1].split("?", 1)[0] or "image"
            # A public URL can be handed to URL-only providers as is.
            images.append(load_reference(fetched.data, name, url=source))
        else:
            path = Path(source)
            if not path.is_file():
                raise SeedbotError(f"There is no file at {source}.")
            if path.stat().st_size > REFERENCE_MAX_BYTES:
                raise SeedbotError(
                    messages.image_too_large(path.name, path.stat().st_size, REFERENCE_MAX_BYTES)
                )
            images.append(load_reference(path.read_bytes(), path.name))
    return tuple(images)


async def _generate(args: argparse.Namespace, settings: Settings) -> int:
    if args.provider:
        settings = settings.model_copy(update={"providers": [args.provider.lower()]})
    out = Path(args.out)
    async with open_runtime(settings) as runtime:
        images = await _load_images(runtime, args.image)
        request = _request(args, settings, images)
        written: list[Path] = []

        async def deliver(result: GenerationResult) -> Delivery:
            out.mkdir(parents=True, exist_ok=True)
            for i, image in enumerate(result.images, start=1):
                path = out / f"seedbot-{result.job_id}-{i}.{image.extension}"
                path.write_bytes(image.data)
                written.append(path)
            return Delivery(delivered=len(written))

        result, _ = await runtime.engine.generate(request, CLI_USER, deliver=deliver)
        for path in written:
            print(path)
        notes = []
        if result.demo:
            notes.append(messages.DEMO_NOTICE)
        if result.missing:
            notes.append(messages.partial_delivery(len(result.images), result.requested))
        for note in notes:
            print(note, file=sys.stderr)
    return 0


async def _quota(args: argparse.Namespace, settings: Settings) -> int:
    from bot.ledger import open_ledger

    ledger = await open_ledger(settings)
    try:
        user = args.user
        if args.action == "set":
            if args.daily is None and args.monthly is None:
                print("quota set needs --daily and/or --monthly", file=sys.stderr)
                return 2
            current = await ledger.quota(user)
            await ledger.set_limits(
                user,
                daily=args.daily if args.daily is not None else current.day_limit,
                monthly=args.monthly if args.monthly is not None else current.month_limit,
            )
        elif args.action == "reset":
            await ledger.reset_usage(user)
        elif args.action in ("block", "unblock"):
            await ledger.set_blocked(user, args.action == "block")
        status = await ledger.quota(user, unlimited=settings.is_admin(user))
        print(f"{user}{' (blocked)' if status.blocked else ''}")
        print(
            messages.usage_summary(
                unlimited=status.unlimited,
                day_used=status.day_used,
                day_limit=status.day_limit,
                month_used=status.month_used,
                month_limit=status.month_limit,
                day_resets=status.day_resets,
                month_resets=status.month_resets,
            )
        )
    finally:
        await ledger.close()
    return 0


def _doctor(settings: Settings) -> int:
    problems = 0
    print(f"database: {settings.database}")
    names = settings.provider_names
    if settings.demo_only:
        print(
            "providers: none configured -> offline demo provider (set NOVITA_API_KEY, SEGMIND_API_KEY, ...)"
        )
    else:
        print(f"providers (routing order): {', '.join(names)}")
    if settings.providers:
        missing = [p for p in settings.providers if p != "demo" and not settings.provider_key(p)]
        for name in missing:
            problems += 1
            print(f"  ! {name} is listed in SEEDBOT_PROVIDERS but {name.upper()}_API_KEY is not set")
    print(f"discord: {'configured' if settings.discord_enabled else 'not configured (DISCORD_TOKEN)'}")
    if settings.slack_bot_token and not settings.slack_enabled:
        problems += 1
        print("slack: ! SLACK_BOT_TOKEN is set but neither SLACK_SIGNING_SECRET nor SLACK_APP_TOKEN is")
    else:
        mode = "Socket Mode" if settings.slack_app_token else f"HTTP on port {settings.slack_port}"
        print(f"slack: {mode if settings.slack_enabled else 'not configured (SLACK_BOT_TOKEN + secret)'}")
    if not (settings.discord_enabled or settings.slack_enabled):
        problems += 1
        print("  ! no chat platform is configured: `seedbot run` has nothing to serve")
    print("ok" if problems == 0 else f"{problems} problem(s) found")
    return 0 if problems == 0 else 1


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    if not (settings.discord_enabled or settings.slack_enabled):
        print(NOTHING_CONFIGURED, file=sys.stderr)
        return 2
    factories = load_factories()
    wanted = [name for name, flag in (("discord", args.discord), ("slack", args.slack)) if flag] or list(
        factories
    )
    async with open_runtime(settings) as runtime:
        platforms: list[Platform] = []
        for name in wanted:
            factory = factories.get(name)
            platform = factory(runtime) if factory else None
            if platform is not None:
                platforms.append(platform)
        if not platforms:
            print(NOTHING_CONFIGURED, file=sys.stderr)
            return 2
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        try:
            for platform in platforms:
                await platform.start()
                log.info("%s connected", platform.name)
            resumed = await runtime.engine.recover()
            if resumed:
                log.info("resuming %d job(s) left running by the last run", len(resumed))
            await stop.wait()
            log.info("shutting down")
        finally:
            for platform in reversed(platforms):
                with contextlib.suppress(Exception):
                    await platform.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = get_settings(env_file=args.env_file)
    except ValidationError as exc:
        print("seedbot: the configuration is not valid:", file=sys.stderr)
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"]) or "settings"
            print(f"  {where}: {error['msg']}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.secrets())
    try:
        if args.command == "generate":
            return asyncio.run(_generate(args, settings))
        if args.command == "quota":
            return asyncio.run(_quota(args, settings))
        if args.command == "doctor":
            return _doctor(settings)
        return asyncio.run(_run(args, settings))
    except ProviderError as exc:
        # Operators get the kind and status; the key is never part of a ProviderError.
        print(f"seedbot: {exc.user_text} [{exc.provider}: {exc.kind}, status {exc.status}]", file=sys.stderr)
        return 1
    except SeedbotError as exc:
        print(f"seedbot: {exc.user_text}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

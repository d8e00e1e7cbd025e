"""`seedbot generate`: one job through the engine as user cli:local, the images written to
--out and their paths printed on stdout (one a line, for scripts); progress and notes on stderr."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from bot import messages
from bot.app.cli.progress import GenerateProgress
from bot.app.runtime import Runtime, open_runtime
from bot.config import Settings
from bot.engine.pipeline import Delivery
from bot.errors import SeedbotError
from bot.media.images import load_reference
from bot.numbers import whole_number
from bot.providers.registry import keyed_providers
from bot.request.models import GenerationRequest, GenerationResult, ImageInput, Requester
from bot.request.validation import REFERENCE_MAX_BYTES

__all__ = ["CLI_USER", "check_out_dir", "generate"]

CLI_USER = Requester(platform="cli", user_id="local", display_name="local")


# After demo images when some provider has a key (demo was chosen): nothing about keys.
DEMO_RESULT = "Demo mode: these are placeholder images from the offline demo provider."


def _request(
    args: argparse.Namespace, settings: Settings, images: tuple[ImageInput, ...]
) -> GenerationRequest:
    width = height = None
    resolution = args.resolution
    if resolution and "x" in resolution.lower():
        w, _, h = resolution.lower().partition("x")
        w_number, h_number = whole_number(w), whole_number(h)
        if w_number is not None and h_number is not None:
            width, height, resolution = w_number, h_number, None
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
        watermark=bool(args.watermark),
        provider=args.provider,
    )


def read_reference(source: str) -> ImageInput:
    path = Path(source)
    if path.is_dir():
        raise SeedbotError(f"{source} is a directory: --image takes an image file or an http(s) URL.")
    if not path.exists():
        if "://" in source:  # ftp://, file://...: a URL, but not one seedbot fetches
            raise SeedbotError(
                f"{source} is not an http(s) URL: --image takes an image file or an http(s) URL."
            )
        raise SeedbotError(f"There is no file at {source}.")
    try:
        size = path.stat().st_size
        if size > REFERENCE_MAX_BYTES:
            raise SeedbotError(messages.image_too_large(path.name, size, REFERENCE_MAX_BYTES))
        data = path.read_bytes()
    except OSError as exc:
        raise SeedbotError(f"could not read {source}: {exc.strerror or exc}") from exc
    return load_reference(data, path.name)


async def _load_images(runtime: Runtime, sources: list[str]) -> tuple[ImageInput, ...]:
    images = []
    for source in sources:
        if source.startswith(("http://", "https://")):
            fetched = await runtime.fetcher.fetch(source, max_bytes=REFERENCE_MAX_BYTES, name=source)
            name = source.rsplit("/", 1)[-1].split("?", 1)[0] or "image"
            # A public URL can be handed to URL-only providers as is.
            images.append(load_reference(fetched.data, name, url=source))
        else:
            images.append(read_reference(source))
    return tuple(images)


def check_out_dir(out: Path) -> None:
    """Refuse an --out that surely can't be written, before anything is generated (and paid
    for). Creating it waits until the images exist, so a refused request leaves nothing."""
    if out.exists() and not out.is_dir():
        raise SeedbotError(f"--out {out} is a file, not a directory.")
    existing = out
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise SeedbotError(f"--out {out}: {existing} is a file, not a directory.")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise SeedbotError(f"--out {out}: {existing} is not writable (Permission denied).")


async def generate(args: argparse.Namespace, settings: Settings) -> int:
    if args.provider:
        settings = settings.model_copy(update={"providers": [args.provider.lower()]})
    out = Path(args.out)
    check_out_dir(out)
    async with open_runtime(settings, warn_demo=False) as runtime:  # the note below says it
        images = await _load_images(runtime, args.image)
        request = _request(args, settings, images)
        written: list[Path] = []

        async def deliver(result: GenerationResult) -> Delivery:
            try:
                out.mkdir(parents=True, exist_ok=True)
                for i, image in enumerate(result.images, start=1):
                    path = out / image.filename(result.job_id, i)
                    path.write_bytes(image.data)
                    written.append(path)
            except OSError as exc:
                where = exc.filename or out
                raise SeedbotError(
                    f"The images were made but could not be written to {where}: {exc.strerror or exc}. "
                    "You were not charged."
                ) from exc
            return Delivery(delivered=len(written))

        try:  # on a shared database the job is leased to this process while it runs
            with GenerateProgress(quiet=args.quiet) as progress:
                result, _ = await runtime.engine.generate(
                    request, CLI_USER, deliver=deliver, progress=progress
                )
        finally:
            await runtime.engine.close()
        for path in written:
            print(path)
        notes = []
        if result.demo:
            # Say why only when it is so: demo may be chosen (--provider demo) with keys set.
            notes.append(DEMO_RESULT if keyed_providers(settings) else messages.DEMO_NOTICE)
        if result.missing:
            notes.append(messages.partial_delivery(len(result.images), result.requested))
        for note in notes:
            print(note, file=sys.stderr)
    return 0

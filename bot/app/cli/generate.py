"""`seedbot generate`: one request through the conversation as user cli:local (the shell is a
surface like the chats: flags typed in the prompt, `--style`, `--ref` and the quota work as
there), the images written to --out and their paths printed on stdout (one a line, for
scripts); progress and notes on stderr."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from bot import messages
from bot.app.cli.progress import GenerateProgress
from bot.app.runtime import Runtime, open_runtime
from bot.config import Settings
from bot.conversation.surface import Arrived, Delivery, EditForm, Progress, Shown
from bot.conversation.turns import Ask, Options, Turn
from bot.errors import SeedbotError
from bot.media.images import load_reference
from bot.providers.registry import keyed_providers
from bot.request.models import GenerationResult, ImageInput, Job, PostTarget, Requester
from bot.request.validation import REFERENCE_MAX_BYTES

__all__ = ["CLI_USER", "References", "Terminal", "check_out_dir", "generate"]

CLI_USER = Requester(platform="cli", user_id="local", display_name="local")


# After demo images when some provider has a key (demo was chosen): nothing about keys.
DEMO_RESULT = "Demo mode: these are placeholder images from the offline demo provider."


def _options(args: argparse.Namespace) -> Options:
    """The command's options as a form's: flags typed in the prompt win over them, as in chat."""
    return Options(
        aspect=args.aspect,
        resolution=args.resolution,
        count=args.count,
        model=args.model,
        output_format=args.format,
        watermark=args.watermark,
        provider=args.provider,
        style=args.style,
        refs=tuple(args.ref),
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


class References:
    """--image files and URLs, read only when the conversation asks: after the prompt's flags
    and the quota are known to be good."""

    def __init__(self, runtime: Runtime, sources: list[str]) -> None:
        self.runtime = runtime
        self.sources = sources

    def __len__(self) -> int:
        return len(self.sources)

    async def load(self, *, alongside: int = 0) -> list[ImageInput]:
        images = []
        for source in self.sources:
            if source.startswith(("http://", "https://")):
                fetched = await self.runtime.fetcher.fetch(source, max_bytes=REFERENCE_MAX_BYTES, name=source)
                name = source.rsplit("/", 1)[-1].split("?", 1)[0] or "image"
                # A public URL can be handed to URL-only providers as is.
                images.append(load_reference(fetched.data, name, url=source))
            else:
                images.append(read_reference(source))
        return images


class Terminal:
    """The conversation's Reply in the shell: progress on stderr, the images written to --out,
    a refusal kept for the command to report."""

    def __init__(self, out: Path, progress: GenerateProgress) -> None:
        self.out = out
        self.status = progress
        self.written: list[Path] = []
        self.made: GenerationResult | None = None
        self.refusal: str | None = None
        self.said: list[str] = []

    def target(self) -> PostTarget:
        return PostTarget()

    async def accepted(self, text: str) -> None:
        return None  # the status line is up already

    def working(self, job_id: str) -> None:
        return None  # Ctrl-C cancels

    async def progress(self, progress: Progress) -> None:
        self.status.show(progress)

    async def image(self, arrived: Arrived) -> bool:
        return False  # written together, once the batch is complete

    async def result(self, shown: Shown) -> Delivery:
        result = shown.result
        self.status.done(result.elapsed, result.provider)
        try:
            self.out.mkdir(parents=True, exist_ok=True)
            for i, image in enumerate(result.images, start=1):
                path = self.out / image.filename(result.job_id, i)
                path.write_bytes(image.data)
                self.written.append(path)
        except OSError as exc:
            where = exc.filename or self.out
            raise SeedbotError(
                f"The images were made but could not be written to {where}: {exc.strerror or exc}."
            ) from exc
        self.made = result
        return Delivery(delivered=len(self.written))

    async def refuse(self, text: str) -> None:
        self.refusal = text

    async def say(self, text: str) -> None:
        self.said.append(text)

    async def delete(self, job: Job) -> None:
        raise RuntimeError("the shell shows no results to delete")

    async def edit_form(self, form: EditForm) -> None:
        raise RuntimeError("the shell asks for no edits")

    async def interrupted(self, text: str, *, resumes: bool) -> None:
        self.refusal = text


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
        prompt = sys.stdin.read() if args.prompt == "-" else args.prompt  # a long one, from a file
        ask = Ask(prompt, options=_options(args), attachments=References(runtime, args.image))
        try:  # on a shared database the job is leased to this process while it runs
            with GenerateProgress(quiet=args.quiet) as progress:
                terminal = Terminal(out, progress)
                await runtime.conversation.handle(Turn(CLI_USER, ask, "generate"), terminal)
        finally:
            await runtime.engine.close()
        for path in terminal.written:
            print(path)
        if terminal.refusal is not None or terminal.made is None:
            raise SeedbotError(terminal.refusal or " ".join(terminal.said) or messages.UNEXPECTED)
        result = terminal.made
        notes = []
        if result.demo:
            # Say why only when it is so: demo may be chosen (--provider demo) with keys set.
            notes.append(DEMO_RESULT if keyed_providers(settings) else messages.DEMO_NOTICE)
        if result.missing:
            notes.append(messages.partial_delivery(len(result.images), result.requested))
        for note in notes:
            print(note, file=sys.stderr)
    return 0

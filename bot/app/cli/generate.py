"""`seedbot generate`: one request through the conversation as user cli:local (the shell is a
surface like the chats: flags typed in the prompt, `--style`, `--ref` and the quota work as
there), the images written to --out and their paths printed on stdout (one a line, for
scripts); progress and notes on stderr."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from pathlib import Path

from bot import messages
from bot.app.cli.progress import GenerateProgress
from bot.app.runtime import Runtime, open_runtime
from bot.config import Settings
from bot.conversation.attachments import AttachedFiles, Declared, reference
from bot.conversation.surface import Arrived, Delivery, EditForm, Progress, Shown
from bot.conversation.turns import Ask, Options, Turn
from bot.errors import DeliveryError, SeedbotError
from bot.providers.registry import keyed_providers
from bot.request.models import UNMARKED, GenerationResult, ImageInput, Job, PostTarget, Requester
from bot.request.validation import UPLOAD_MAX_BYTES, check_declared

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


def _is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def _declare(source: str) -> Declared[str]:
    """An --image as declared: a URL's name, or a file that exists, with its size."""
    if _is_url(source):
        return Declared(source.rsplit("/", 1)[-1].split("?", 1)[0] or "image", None, None, source)
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
        return Declared(path.name, None, path.stat().st_size, source)
    except OSError as exc:
        raise SeedbotError(f"could not read {source}: {exc.strerror or exc}") from exc


def _read(source: str) -> bytes:
    try:
        return Path(source).read_bytes()
    except OSError as exc:
        raise SeedbotError(f"could not read {source}: {exc.strerror or exc}") from exc


def read_reference(source: str) -> ImageInput:
    """One image file, checked as an attachment is (`seedbot cast save --image`)."""
    if _is_url(source):
        raise SeedbotError(f"{source} is a URL: --image takes an image file here.")
    declared = _declare(source)
    check_declared(declared.name, None, declared.size)
    return reference(_read(source), declared.name)


class References(AttachedFiles[str]):
    """--image files and http(s) URLs, checked like any surface's attachments (count, size,
    then the bytes) and read only when the conversation asks, once the prompt's flags are known
    to be good. A URL is public: URL-only hosts get it as it is."""

    def __init__(self, runtime: Runtime, sources: list[str]) -> None:
        super().__init__(sources)
        self.runtime = runtime

    async def declared(self) -> list[Declared[str]]:
        return [_declare(source) for source in self.items]

    async def fetch(self, item: Declared[str]) -> bytes:
        if _is_url(item.source):
            fetched = await self.runtime.fetcher.fetch(
                item.source, max_bytes=UPLOAD_MAX_BYTES, name=item.source
            )
            return fetched.data
        return _read(item.source)

    def public_url(self, item: Declared[str]) -> str | None:
        return item.source if _is_url(item.source) else None


class Terminal:
    """The conversation's Reply in the shell: progress on stderr, the images written to --out,
    a refusal kept for the command to report."""

    def __init__(self, out: Path, progress: GenerateProgress) -> None:
        self.out = out
        self.status = progress
        self.written: list[Path] = []
        self.made: GenerationResult | None = None
        self.refusal: str | None = None
        self.cut_short = False  # Ctrl-C stopped the job before it was done
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
                # Under a name of its own until whole: a full disk never leaves a cut image
                # under the name a script would take.
                part = path.with_name(f".{path.name}.part")
                try:
                    part.write_bytes(image.data)
                    part.replace(path)
                except OSError as exc:
                    with contextlib.suppress(OSError):
                        part.unlink(missing_ok=True)
                    exc.filename = path
                    raise
                self.written.append(path)
        except OSError as exc:
            # The job is refunded: the images written before this one go too.
            for path in self.written:
                with contextlib.suppress(OSError):
                    path.unlink()
            self.written.clear()
            where = exc.filename or self.out
            # A delivery failure (its kind in `seedbot stats`), in the shell's words.
            failed = DeliveryError(f"could not write {where}: {exc.strerror or exc}")
            failed.user_text = (
                f"The images were made but could not be written to {where}: {exc.strerror or exc}."
            )
            raise failed from exc
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
        # The conversation's words are for a chat whose bot restarts; the shell says its own.
        self.cut_short = True


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
        progress = GenerateProgress(quiet=args.quiet)
        terminal = Terminal(out, progress)
        try:  # on a shared database the job is leased to this process while it runs
            with progress:
                await runtime.conversation.handle(Turn(CLI_USER, ask, "generate"), terminal)
        except asyncio.CancelledError:  # Ctrl-C: the conversation cancelled the job
            if terminal.cut_short:  # said once the status line is gone
                print("seedbot: interrupted: the job was cancelled, nothing was charged", file=sys.stderr)
            raise
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
        if result.usage.get(UNMARKED):  # --watermark, and the host that made them has none
            notes.append(messages.no_watermark(result.provider))
        for note in notes:
            print(note, file=sys.stderr)
    return 0

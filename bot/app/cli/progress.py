"""What `seedbot generate` shows on stderr while the job works: the conversation's progress
(`show`), then `done` when the images are in.

On a terminal: a rich status line (spinner, stage, a bar once the provider reports a percentage,
elapsed time) that disappears when the job ends. Not on a terminal (a log, a pipe, CI): plain
lines, one per stage and at most one every PLAIN_EVERY seconds. Nothing with `-q`. stdout
stays the list of files written, for scripts.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from bot.conversation.surface import Progress as Status

__all__ = ["PLAIN_EVERY", "GenerateProgress"]

PLAIN_EVERY = 10.0  # seconds between plain "generating" lines


class GenerateProgress:
    def __init__(
        self, *, quiet: bool = False, stream: TextIO | None = None, terminal: bool | None = None
    ) -> None:
        self.console = Console(file=stream or sys.stderr, force_terminal=terminal, highlight=False)
        self.quiet = quiet
        self.live = not quiet and self.console.is_terminal
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._last_stage = ""
        self._last_elapsed = 0.0

    def __enter__(self) -> GenerateProgress:
        if self.live:
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(bar_width=24),
                TextColumn("{task.fields[percent]}"),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self._task = self._progress.add_task("Starting", total=None, percent="")
            self._progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def show(self, status: Status) -> None:
        """The job's status: queued, or generating (with a percent when the host reports one)."""
        if self.quiet or status.stage not in ("queued", "running"):
            return
        self._update(status)

    def done(self, elapsed: float, provider: str) -> None:
        """The images are in: the last word before they are written."""
        if not self.quiet:
            self._update(Status("", "", stage="done", elapsed=elapsed, provider=provider))

    def _update(self, status: Status) -> None:
        if self._progress is not None and self._task is not None:
            self._show(self._progress, self._task, status)
        else:
            self._plain(status)

    @staticmethod
    def _describe(status: Status) -> str:
        provider = status.provider
        if status.stage == "queued":
            return f"Queued: #{status.position or 1} in line"
        if status.stage == "running":
            return f"Generating with {provider}" if provider else "Generating"
        return f"Saving ({provider})" if provider else "Saving"

    def _show(self, progress: Progress, task: TaskID, status: Status) -> None:
        percent = 100.0 if status.stage == "done" else status.percent
        progress.update(
            task,
            description=self._describe(status),
            total=100 if percent is not None else None,
            completed=percent or 0,
            percent=f"{percent:3.0f}%" if percent is not None else "",
        )

    def _plain(self, status: Status) -> None:
        # A line per stage; while generating, one every PLAIN_EVERY seconds of the job.
        stage, elapsed = status.stage, status.elapsed
        if stage == self._last_stage == "running" and elapsed - self._last_elapsed < PLAIN_EVERY:
            return
        if stage == "queued":
            line = f"queued: #{status.position or 1} in line"
        elif stage == "running":
            percent = f", {status.percent:.0f}%" if status.percent is not None else ""
            line = f"generating: {elapsed:.0f} s{percent}"
        else:
            line = f"done in {elapsed:.0f} s" + (f" ({status.provider})" if status.provider else "")
        self._last_stage, self._last_elapsed = stage, elapsed
        self.console.print(line, markup=False, highlight=False, soft_wrap=True)

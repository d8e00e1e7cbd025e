"""What `seedbot generate` shows on stderr while the engine works (its `progress` callback).

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

from bot.engine.pipeline import ProgressEvent

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

    async def __call__(self, event: ProgressEvent) -> None:
        if self.quiet:
            return
        if self._progress is not None and self._task is not None:
            self._show(self._progress, self._task, event)
        else:
            self._plain(event)

    @staticmethod
    def _describe(event: ProgressEvent) -> str:
        if event.stage == "queued":
            return f"Queued: #{event.position or 1} in line"
        if event.stage == "running":
            return f"Generating with {event.provider}" if event.provider else "Generating"
        return f"Saving ({event.provider})" if event.provider else "Saving"

    def _show(self, progress: Progress, task: TaskID, event: ProgressEvent) -> None:
        percent = 100.0 if event.stage == "done" else event.percent
        progress.update(
            task,
            description=self._describe(event),
            total=100 if percent is not None else None,
            completed=percent or 0,
            percent=f"{percent:3.0f}%" if percent is not None else "",
        )

    def _plain(self, event: ProgressEvent) -> None:
        # A line per stage; while generating, one every PLAIN_EVERY seconds of the job.
        if event.stage == self._last_stage == "running" and event.elapsed - self._last_elapsed < PLAIN_EVERY:
            return
        if event.stage == "queued":
            line = f"queued: #{event.position or 1} in line"
        elif event.stage == "running":
            percent = f", {event.percent:.0f}%" if event.percent is not None else ""
            line = f"generating: {event.elapsed:.0f} s{percent}"
        else:
            line = f"done in {event.elapsed:.0f} s" + (f" ({event.provider})" if event.provider else "")
        self._last_stage, self._last_elapsed = event.stage, event.elapsed
        self.console.print(line, markup=False, highlight=False, soft_wrap=True)

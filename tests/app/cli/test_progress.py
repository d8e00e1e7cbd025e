"""generate's progress display (bot/app/cli/progress.py): plain lines off a terminal, a live
line on one, rich progress on a real terminal."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from pathlib import Path

from bot.app.cli.progress import GenerateProgress
from bot.conversation.surface import Progress
from bot.engine.pipeline import ProgressEvent
from tests.app.helpers import clean_env


def _status(event: ProgressEvent) -> Progress:
    """What the conversation hands the shell's reply for an engine event."""
    return Progress.of(event)


def _feed(progress: GenerateProgress) -> None:
    progress.show(_status(ProgressEvent("queued", position=2)))
    progress.show(_status(ProgressEvent("running", elapsed=1.0)))
    progress.show(_status(ProgressEvent("running", elapsed=2.0, percent=40.0, provider="novita")))
    progress.show(_status(ProgressEvent("running", elapsed=12.0, percent=80.0, provider="novita")))
    progress.done(13.0, "novita")


def test_progress_off_a_terminal_is_plain_lines_at_most_every_ten_seconds() -> None:
    stream = io.StringIO()
    with GenerateProgress(stream=stream, terminal=False) as progress:
        _feed(progress)
    assert stream.getvalue().splitlines() == [
        "queued: #2 in line",
        "generating: 1 s",
        "generating: 12 s, 80%",
        "done in 13 s (novita)",
    ]
    quiet = io.StringIO()
    with GenerateProgress(stream=quiet, terminal=False, quiet=True) as progress:
        _feed(progress)
    assert quiet.getvalue() == ""


def test_progress_on_a_terminal_is_a_live_line_that_goes_away() -> None:
    stream = io.StringIO()
    with GenerateProgress(stream=stream, terminal=True) as progress:
        assert progress.live and progress._progress is not None

        def show(event: ProgressEvent) -> str:
            if event.stage == "done":
                progress.done(event.elapsed, event.provider or "")
            else:
                progress.show(_status(event))
            assert progress._progress is not None
            progress._progress.refresh()
            return stream.getvalue().rsplit("\r", 1)[-1]  # the line as it is now

        assert "Queued: #2 in line" in (show(ProgressEvent("queued", position=2)))
        line = show(ProgressEvent("running", elapsed=2.0, percent=40.0, provider="novita"))
        assert "Generating with novita" in line and " 40%" in line
        assert "Saving (novita)" in (show(ProgressEvent("done", elapsed=3.0, provider="novita")))
    assert stream.getvalue().endswith("\x1b[2K")  # transient: erased when done
    assert "generating:" not in stream.getvalue()


def test_generate_on_a_real_terminal_shows_rich_progress(tmp_path: Path) -> None:
    main, child = pty.openpty()
    env = clean_env(TERM="xterm-256color")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "generate", "a red fox", "--out", "o"],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=child,
    )
    os.close(child)
    chunks = []
    while True:
        try:
            data = os.read(main, 4096)
        except OSError:  # EIO: the child side closed
            break
        if not data:
            break
        chunks.append(data)
    os.close(main)
    out, _ = proc.communicate(timeout=60)
    screen = b"".join(chunks).decode(errors="replace")
    assert proc.returncode == 0, screen
    assert "\x1b[" in screen and ("Starting" in screen or "Generating" in screen or "Saving" in screen)
    assert "generating:" not in screen  # not the plain lines
    assert len(out.split()) == 1 and (tmp_path / out.decode().strip()).is_file()

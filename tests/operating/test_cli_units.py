"""The CLI's parts in process: the platform plug-ins it loops over (nothing in bot/ names a
platform), the key shapes it accepts, the run hint, and generate's progress display."""

from __future__ import annotations

import asyncio
import io
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.app.cli import run as run_command
from bot.app.cli.keys import check_key, key_shapes
from bot.app.cli.progress import GenerateProgress
from bot.app.platform import KeyForm, load_plugins
from bot.engine.pipeline import ProgressEvent
from tests.operating.helpers import REPO, clean_env

PLATFORM_WORDS = re.compile(r"DISCORD_|SLACK_|discord\.com|slack\.com")


def test_bot_names_no_platform_setting_or_address() -> None:
    offenders = [
        f"{path.relative_to(REPO)}:{n}"
        for path in sorted((REPO / "bot").rglob("*"))
        if path.is_file() and path.suffix in (".py", ".sql", ".txt", ".md")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if PLATFORM_WORDS.search(line)
    ]
    assert offenders == []


def test_the_plugins_describe_themselves() -> None:
    plugins = load_plugins()
    assert list(plugins) == ["discord", "slack", "web"]
    assert [p.name for p in plugins.values() if p.playground] == ["web"]
    for name, plugin in plugins.items():
        assert plugin.name == name and plugin.title
        settings = plugin.load_settings(None)
        assert settings.enabled is False and settings.secrets() == []
    assert plugins["discord"].setup_hint() == "DISCORD_TOKEN"
    assert "SLACK_BOT_TOKEN" in plugins["slack"].setup_hint()


def test_plugin_settings_read_the_same_env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("DISCORD_", "SLACK_")):
            monkeypatch.delenv(name)
    env = tmp_path / "bot.env"
    env.write_text(
        "DISCORD_TOKEN=MTMw.a.b\nDISCORD_GUILD_ID=42\nSLACK_BOT_TOKEN=xoxb-1\nSLACK_APP_TOKEN=xapp-1\n"
    )
    plugins = load_plugins()
    discord, slack = (plugins[name].load_settings(str(env)) for name in ("discord", "slack"))
    assert discord.enabled and slack.enabled
    assert discord.secrets() == ["MTMw.a.b"] and sorted(slack.secrets()) == ["xapp-1", "xoxb-1"]
    assert discord.discord_guild_id == 42  # type: ignore[attr-defined]


KEYS = [
    ("discord:80351110224678912", "user", True),
    ("discord:8035111022467891x", "user", False),
    ("slack:T0ABC:U0DEF", "user", True),
    ("slack:T0ABC", "user", False),
    ("slack:t0abc:u0def", "user", False),
    ("cli:local", "user", True),
    ("web:local", "user", True),
    ("cli:bob", "user", False),
    ("bob", "user", False),
    ("discord:123", "workspace", True),
    ("slack:T0ABC", "workspace", True),
    ("cli:local", "workspace", False),
    ("slack:T0ABC:U0DEF", "workspace", False),
    ("slack:T0ABC:U0DEF", "target", True),
    ("discord:123", "target", True),
    ("irc:123", "target", False),
]


@pytest.mark.parametrize(("key", "kind", "ok"), KEYS)
def test_key_shapes(key: str, kind: str, ok: bool) -> None:
    problem = check_key(key, kind, load_plugins())  # type: ignore[arg-type]
    assert (problem is None) == ok, problem


def test_key_shapes_come_from_the_plugins() -> None:
    plugins = load_plugins()
    assert key_shapes("workspace", plugins) == "discord:<numeric server id>, slack:<TEAM ID> or web:local"
    assert KeyForm(r"\d+", "x:<n>").matches("12") and not KeyForm(r"\d+", "x:<n>").matches("12a")


def test_the_run_hint_names_the_script_that_was_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = tmp_path / ".venv" / "bin" / "seedbot"
    script.parent.mkdir(parents=True)
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [str(script), "run"])
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # a fresh shell: the venv is not on PATH
    assert run_command.invocation() == ".venv/bin/seedbot"
    monkeypatch.setenv("PATH", f"{script.parent}:/usr/bin")  # an activated venv, or the image
    assert run_command.invocation() == "seedbot"
    monkeypatch.chdir(script.parent)
    monkeypatch.setenv("PATH", "/usr/bin")
    assert run_command.invocation() == "./seedbot"  # a shell runs it by path only
    monkeypatch.chdir("/")
    assert run_command.invocation() == str(script)


def test_nothing_configured_lists_what_each_platform_says(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_command.nothing_configured(load_plugins()) == 2
    err = capsys.readouterr().err
    assert "  Discord: DISCORD_TOKEN\n" in err
    assert "  Slack:   SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET" in err
    assert "NOVITA_API_KEY, SEGMIND_API_KEY, APIFRAME_API_KEY, MODELLIX_API_KEY" in err


async def _feed(progress: GenerateProgress) -> None:
    await progress(ProgressEvent("queued", position=2))
    await progress(ProgressEvent("running", elapsed=1.0))
    await progress(ProgressEvent("running", elapsed=2.0, percent=40.0, provider="novita"))
    await progress(ProgressEvent("running", elapsed=12.0, percent=80.0, provider="novita"))
    await progress(ProgressEvent("done", elapsed=13.0, provider="novita"))


def test_progress_off_a_terminal_is_plain_lines_at_most_every_ten_seconds() -> None:
    stream = io.StringIO()
    with GenerateProgress(stream=stream, terminal=False) as progress:
        asyncio.run(_feed(progress))
    assert stream.getvalue().splitlines() == [
        "queued: #2 in line",
        "generating: 1 s",
        "generating: 12 s, 80%",
        "done in 13 s (novita)",
    ]
    quiet = io.StringIO()
    with GenerateProgress(stream=quiet, terminal=False, quiet=True) as progress:
        asyncio.run(_feed(progress))
    assert quiet.getvalue() == ""


def test_progress_on_a_terminal_is_a_live_line_that_goes_away() -> None:
    stream = io.StringIO()
    with GenerateProgress(stream=stream, terminal=True) as progress:
        assert progress.live and progress._progress is not None

        async def show(event: ProgressEvent) -> str:
            await progress(event)
            assert progress._progress is not None
            progress._progress.refresh()
            return stream.getvalue().rsplit("\r", 1)[-1]  # the line as it is now

        assert "Queued: #2 in line" in asyncio.run(show(ProgressEvent("queued", position=2)))
        line = asyncio.run(show(ProgressEvent("running", elapsed=2.0, percent=40.0, provider="novita")))
        assert "Generating with novita" in line and " 40%" in line
        assert "Saving (novita)" in asyncio.run(show(ProgressEvent("done", elapsed=3.0, provider="novita")))
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

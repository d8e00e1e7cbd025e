"""`seedbot run` when a platform can't start: a refused token, an unreachable service, a refused
app token, a port in use. One line that says what to do, exit 1, no traceback (it goes to the
debug log), and no warning about voice support seedbot doesn't use. In process, `start()`
raises `PlatformUnavailable` with that line. And with nothing configured, the hint names what
each platform needs and the way this script was run."""

from __future__ import annotations

import asyncio
import logging
import socket
import sys
from pathlib import Path

import aiohttp
import discord
import pytest
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk.web.async_client import AsyncWebClient

from adapters.discord_adapter.invite import REFUSED_LOGIN
from adapters.discord_adapter.platform import DiscordPlatform, quiet_discord_logs
from adapters.discord_adapter.settings import DiscordSettings
from adapters.slack_adapter.app import SlackPlatform, quiet_slack_logs
from adapters.slack_adapter.settings import SlackSettings
from bot.app.cli import run as run_command
from bot.app.platform import load_plugins
from bot.app.runtime import open_runtime
from bot.errors import PlatformUnavailable, SeedbotError
from tests.app.helpers import bot_command, clean_env, settings
from tests.emulators.discord import DiscordEmulator
from tests.emulators.slack import SlackEmulator

UNREACHABLE = "http://127.0.0.1:9/api/"  # the discard port: nothing listens


async def run(cwd: Path, *flags: str, **env: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        *bot_command("run", *flags),
        cwd=cwd,
        env=clean_env(SEEDBOT_DATABASE=str(cwd / "seedbot.db"), **env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 90)
    assert proc.returncode is not None
    return proc.returncode, (out + err).decode()


def one_line(code: int, output: str) -> str:
    """The operator's answer: exit 1, no traceback, no voice warnings, one `seedbot:` line."""
    assert code == 1, output
    assert "Traceback" not in output, output
    assert "voice will NOT be supported" not in output and "PyNaCl" not in output, output
    (line,) = [line for line in output.splitlines() if line.startswith("seedbot:")]
    return line


async def test_a_refused_discord_token_is_one_line(tmp_path: Path) -> None:
    async with DiscordEmulator(token="MTMwMDAw.right.token") as emu:
        code, output = await run(
            tmp_path,
            "--discord",
            DISCORD_TOKEN="MTMwMDAw.wrong.token",
            DISCORD_API_BASE_URL=emu.api_base,
            DISCORD_GATEWAY_URL=emu.gateway_url,
        )
    assert one_line(code, output) == f"seedbot: {REFUSED_LOGIN}"
    assert "MTMwMDAw.wrong.token" not in output


async def test_an_unreachable_discord_is_one_line(tmp_path: Path) -> None:
    code, output = await run(tmp_path, DISCORD_TOKEN="MTMwMDAw.some.token", DISCORD_API_BASE_URL=UNREACHABLE)
    line = one_line(code, output)
    assert line.startswith(f"seedbot: could not reach Discord at {UNREACHABLE.rstrip('/')} (Client")
    assert line.endswith("check the network connection, or DISCORD_API_BASE_URL")


async def test_a_refused_slack_token_and_an_unreachable_slack_are_one_line(tmp_path: Path) -> None:
    async with SlackEmulator(bot_token="xoxb-right") as emu:
        code, output = await run(
            tmp_path,
            "--slack",
            SLACK_BOT_TOKEN="xoxb-wrong",
            SLACK_SIGNING_SECRET="secret",
            SLACK_API_URL=emu.api_url,
            SLACK_PORT="0",
        )
    line = one_line(code, output)
    assert line == "seedbot: Slack refused SLACK_BOT_TOKEN: invalid_auth (the token is not valid)"

    code, output = await run(
        tmp_path, SLACK_BOT_TOKEN="xoxb-any", SLACK_SIGNING_SECRET="secret", SLACK_API_URL=UNREACHABLE
    )
    line = one_line(code, output)
    assert line.startswith(f"seedbot: could not reach Slack at {UNREACHABLE} (")
    assert line.endswith("check the network connection, or SLACK_API_URL")


async def test_a_refused_app_token_and_a_port_in_use_are_one_line(tmp_path: Path) -> None:
    async with SlackEmulator(bot_token="xoxb-right", app_token="xapp-right") as emu:
        code, output = await run(
            tmp_path, SLACK_BOT_TOKEN="xoxb-right", SLACK_APP_TOKEN="xapp-wrong", SLACK_API_URL=emu.api_url
        )
        line = one_line(code, output)
        assert line == "seedbot: Slack refused SLACK_APP_TOKEN: invalid_auth (the token is not valid)"

        with socket.socket() as taken:
            taken.bind(("0.0.0.0", 0))  # noqa: S104 - the address the Slack server binds
            taken.listen()
            port = taken.getsockname()[1]
            code, output = await run(
                tmp_path,
                SLACK_BOT_TOKEN="xoxb-right",
                SLACK_SIGNING_SECRET="secret",
                SLACK_API_URL=emu.api_url,
                SLACK_PORT=str(port),
            )
    line = one_line(code, output)
    assert (
        line
        == f"seedbot: could not listen on port {port} (SLACK_PORT): Address already in use: set SLACK_PORT to another port"
    )


async def test_a_health_port_in_use_is_one_line(tmp_path: Path) -> None:
    """SEEDBOT_HTTP_PORT taken (a second seedbot, an old container) was a 32-line traceback."""
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))  # noqa: S104 - the address the health server binds
        taken.listen()
        port = taken.getsockname()[1]
        code, output = await run(tmp_path, SEEDBOT_HTTP_PORT=str(port), SEEDBOT_WEB_PORT="0")
    assert one_line(code, output) == (
        f"seedbot: could not listen on port {port} (SEEDBOT_HTTP_PORT): Address already in use: "
        "set SEEDBOT_HTTP_PORT to another port"
    )


async def test_start_raises_platform_unavailable_in_process(tmp_path: Path) -> None:
    async with DiscordEmulator() as emu, open_runtime(settings(tmp_path)) as runtime:
        refused = DiscordPlatform(
            runtime,
            DiscordSettings(  # type: ignore[call-arg]
                _env_file=None, discord_token="MTMwMDAw.not.it", discord_api_base_url=emu.api_base
            ),
        )
        with pytest.raises(PlatformUnavailable) as caught:
            await refused.start()
        await refused.close()
        assert caught.value.user_text == REFUSED_LOGIN and caught.value.platform == "discord"
        assert isinstance(caught.value, SeedbotError) and isinstance(
            caught.value.__cause__, discord.LoginFailure
        )

        slack = SlackPlatform(
            runtime,
            SlackSettings(  # type: ignore[call-arg]
                _env_file=None, slack_bot_token="xoxb-x", slack_signing_secret="s", slack_api_url=UNREACHABLE
            ),
        )
        with pytest.raises(PlatformUnavailable, match="could not reach Slack"):
            await slack.start()
        await slack.close()


def test_discord_voice_warnings_are_silenced(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from discord.voice_client import VoiceClient

    monkeypatch.setattr(VoiceClient, "warn_nacl", True)  # as in a fresh process without PyNaCl
    monkeypatch.setattr(VoiceClient, "warn_dave", True)
    quiet_discord_logs()
    caplog.set_level(logging.DEBUG)
    discord.Client(intents=discord.Intents.none())
    assert not VoiceClient.warn_nacl  # the warnings were raised, and filtered
    assert not [r for r in caplog.records if "voice" in r.getMessage()]
    assert logging.getLogger("discord.http").getEffectiveLevel() >= logging.WARNING


def test_a_discord_reconnect_is_one_warning_line(caplog: pytest.LogCaptureFixture) -> None:
    quiet_discord_logs()
    caplog.set_level(logging.DEBUG)
    try:
        raise OSError("Network is unreachable")
    except OSError:
        logging.getLogger("discord.client").exception("Attempting a reconnect in %.2fs", 1.5)
    shown = [r for r in caplog.records if r.name == "discord.client"]
    assert [(r.levelname, r.getMessage(), r.exc_info) for r in shown] == [
        ("WARNING", "discord: Attempting a reconnect in 1.50s (OSError: Network is unreachable)", None)
    ]
    # The traceback is still there for whoever turns DEBUG on.
    assert any(r.levelname == "DEBUG" and r.exc_info for r in caplog.records)


def test_a_slack_socket_reconnect_is_one_warning_line(caplog: pytest.LogCaptureFixture) -> None:
    quiet_slack_logs()
    caplog.set_level(logging.DEBUG)
    bolt = logging.getLogger("slack_bolt.AsyncApp")
    try:
        raise ConnectionResetError("Connection reset by peer")
    except ConnectionResetError as exc:
        bolt.exception(f"Failed to connect (error: {exc}); Retrying...")
    bolt.warning(warning_client_prioritized_and_token_skipped())
    shown = [(r.levelname, r.getMessage(), r.exc_info) for r in caplog.records if r.name == bolt.name]
    assert shown == [
        ("WARNING", "slack: Failed to connect (error: Connection reset by peer); Retrying...", None)
    ]
    assert logging.getLogger("slack_sdk").getEffectiveLevel() >= logging.WARNING


def test_the_slack_web_client_does_not_format_debug_text_it_drops() -> None:
    # slack_sdk builds its DEBUG lines (request, headers, whole response) whenever its logger's
    # own level is at most DEBUG, which an unset level is, then logging drops them.
    quiet_slack_logs()
    assert AsyncWebClient(token="xoxb-test").logger.level >= logging.WARNING


class _Socket:
    close_code = None


class _Response:
    status = 500
    reason = "Internal Server Error"


class _Key:
    host, port, ssl = "discord.com", 443, True


START_FAILURES = [
    (discord.LoginFailure("Improper token has been passed."), REFUSED_LOGIN),
    (discord.ConnectionClosed(_Socket(), shard_id=None, code=4004), REFUSED_LOGIN),  # type: ignore[arg-type]
    (
        discord.ConnectionClosed(_Socket(), shard_id=0, code=4010),
        "check DISCORD_SHARD_COUNT and DISCORD_SHARD_IDS",
    ),  # type: ignore[arg-type]
    (discord.ConnectionClosed(_Socket(), shard_id=None, code=4999), "closed the connection (code 4999)"),  # type: ignore[arg-type]
    (discord.PrivilegedIntentsRequired(None), "Privileged Gateway Intents"),
    (discord.HTTPException(_Response(), "oops"), "Discord answered HTTP 500 at start-up"),  # type: ignore[arg-type]
    (
        aiohttp.ClientConnectorDNSError(_Key(), OSError(-3, "Temporary failure in name resolution")),
        "(ClientConnectorDNSError): check the network",
    ),  # type: ignore[arg-type]
    (TimeoutError(), "did not finish connecting within 60 s"),
    (ValueError("a bug"), None),  # not the operator's to fix: the traceback stays
]


@pytest.mark.parametrize(("exc", "says"), START_FAILURES)
def test_discord_start_failures_map_to_one_line(exc: Exception, says: str | None) -> None:
    settings = DiscordSettings(_env_file=None, discord_token="MTMw.a.b")  # type: ignore[call-arg]
    platform = DiscordPlatform(None, settings)  # type: ignore[arg-type]  # runtime unused here
    line = platform._unavailable(exc)
    if says is None:
        assert line is None
    else:
        assert line is not None and says in line and "\n" not in line, line


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
    # Each host's own variable name (fal's and Replicate's are not *_API_KEY).
    assert (
        "NOVITA_API_KEY, SEGMIND_API_KEY, APIFRAME_API_KEY, MODELLIX_API_KEY, ARK_API_KEY, FAL_KEY, "
        "REPLICATE_API_TOKEN\n" in err
    )

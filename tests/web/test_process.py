"""`seedbot run` and the playground as a process: what `make run` prints, Ctrl-C, and the
settings that keep it from being exposed."""

from __future__ import annotations

import json
import re
import signal
import socket
from pathlib import Path

import pytest

from adapters.web_adapter import platform as web_platform
from adapters.web_adapter.platform import PLAYGROUND_CONNECT, WebPlatform, create
from adapters.web_adapter.settings import PLAYGROUND_PORT, load_settings
from bot import messages
from bot.app.cli.run import PLAYGROUND_DEMO_LATENCY, playground_for
from bot.app.platform import load_plugins
from bot.app.runtime import open_runtime
from bot.config import Settings
from bot.errors import SeedbotError
from tests.web.process import WebProcess, fetch, web_env

TOKEN = "a-long-random-playground-token"
ANYWHERE = "0.0.0.0"  # noqa: S104 - the address the playground must refuse without a token


def test_run_with_nothing_configured_serves_the_playground_until_ctrl_c(tmp_path: Path) -> None:
    bot = WebProcess(web_env(tmp_path / "seedbot.db"), tmp_path).start()
    try:
        url = bot.ready()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
        assert bot.wait("seedbot playground", stdout=True) == messages.playground_ready(url)
        assert bot.wait("Discord or Slack", stdout=True) == PLAYGROUND_CONNECT
        status, headers, body = fetch(url + "/")
        assert status == 200 and "seedbot playground" in body.decode()
        session = headers["Set-Cookie"].split(";", 1)[0]
        status, _, body = fetch(url + "/api/usage", headers={"Cookie": session})
        assert status == 200 and "Images left today: 20 of 20" in json.loads(body)["text"]
    finally:
        code = bot.stop(signal.SIGINT)
    assert code == 0, bot.log
    assert "shut down cleanly" in bot.log and "Traceback" not in bot.log
    assert len([line for line in bot.out if line.strip()]) == 2  # the URL and how to connect


def test_run_web_alone_is_the_playground_and_beside_a_bot_needs_its_port(tmp_path: Path) -> None:
    """`run --web` said "Web playground is not configured" where plain `run` serves it."""
    env = web_env(tmp_path / "seedbot.db")
    del env["SEEDBOT_WEB_PORT"]  # the default, 8080, or the next free port
    bot = WebProcess(env, tmp_path, ("run", "--web")).start()
    try:
        assert bot.wait("seedbot playground", stdout=True).startswith(
            "seedbot playground: open http://127.0.0.1:"
        )
    finally:
        assert bot.stop(signal.SIGINT) == 0, bot.log
    beside = WebProcess(
        {**env, "DISCORD_TOKEN": "MTMwMDAw.discord.token"}, tmp_path, ("run", "--web", "--discord")
    ).start()
    assert beside.finish() == 2
    assert "seedbot: Web playground is not configured: set SEEDBOT_WEB_PORT" in beside.log


def test_an_exposed_address_without_a_token_refuses_to_start(tmp_path: Path) -> None:
    """Refused before the database is opened: it was created and migrated first (on PostgreSQL,
    a production database) for settings doctor refuses offline, and 9 log lines came before."""
    playground = web_env(tmp_path / "seedbot.db", SEEDBOT_WEB_HOST=ANYWHERE)
    del playground["SEEDBOT_WEB_PORT"]  # what plain `run` serves with nothing configured
    beside = web_env(tmp_path / "seedbot.db", SEEDBOT_WEB_TOKEN="x7Kp2")  # with its port
    for env, says in (
        (playground, messages.web_needs_token(ANYWHERE)),
        (beside, messages.web_token_too_short(16)),
    ):
        bot = WebProcess(env, tmp_path).start()
        code = bot.finish()
        assert code == 2, bot.log  # a configuration error
        assert bot.err == [f"seedbot: {says}"] and bot.out == [], bot.log  # one line, nothing else
        assert not (tmp_path / "seedbot.db").exists()  # nothing created, nothing migrated


def test_with_a_token_a_request_without_a_session_gets_401(tmp_path: Path) -> None:
    env = web_env(tmp_path / "seedbot.db", SEEDBOT_WEB_HOST=ANYWHERE, SEEDBOT_WEB_TOKEN=TOKEN)
    bot = WebProcess(env, tmp_path).start()
    try:
        port = bot.ready().rsplit(":", 1)[1]
        local = f"http://127.0.0.1:{port}"
        for path in ("/api/timeline", "/api/events", "/api/usage", "/api/history"):
            status, _, body = fetch(local + path)
            assert status == 401, path
            assert json.loads(body)["error"] == messages.WEB_SESSION_NEEDED
        status, headers, _ = fetch(local + "/")
        assert status == 303 and headers["Location"] == "/login"
        assert TOKEN not in bot.log
    finally:
        assert bot.stop() == 0, bot.log


def test_a_port_in_use_is_one_line(tmp_path: Path) -> None:
    first = WebProcess(web_env(tmp_path / "one.db"), tmp_path).start()
    try:
        port = first.ready().rsplit(":", 1)[1]
        second = WebProcess(web_env(tmp_path / "two.db", SEEDBOT_WEB_PORT=port), tmp_path).start()
        assert second.finish() == 1
        refusal = [line for line in second.err if line.startswith("seedbot:")]
        assert len(refusal) == 1 and "SEEDBOT_WEB_PORT" in refusal[0], second.log
        assert "Traceback" not in second.log
    finally:
        first.stop()


def test_an_address_not_of_this_machine_names_the_host_setting(tmp_path: Path) -> None:
    """A typo in SEEDBOT_WEB_HOST was told to change the port."""
    token = "t" * 40
    for host in ("999.1.1.1", "192.0.2.1"):  # not an address; TEST-NET-1, on no machine here
        env = web_env(tmp_path / "w.db", SEEDBOT_WEB_HOST=host, SEEDBOT_WEB_TOKEN=token)
        proc = WebProcess(env, tmp_path).start()
        assert proc.finish() == 1
        refusal = [line for line in proc.err if line.startswith("seedbot:")]
        assert len(refusal) == 1, proc.log
        assert "set SEEDBOT_WEB_HOST to an address of this machine" in refusal[0], proc.log
        assert "Traceback" not in proc.log and token not in proc.log


# -- when the playground runs (in process) ---------------------------------------------------


def test_playground_mode_is_chosen_only_when_nothing_else_is_configured() -> None:
    plugins = load_plugins()
    bare = Settings(_env_file=None)  # type: ignore[call-arg]
    chosen = playground_for([], plugins, bare)
    assert chosen is not None and chosen[0] == "web" and chosen[1].demo_latency == PLAYGROUND_DEMO_LATENCY
    slower = playground_for([], plugins, Settings(_env_file=None, demo_latency=0.5))  # type: ignore[call-arg]
    assert slower is not None and slower[1].demo_latency == 0.5
    # Asked for (or configured) Discord or Slack: they run, no playground instead.
    assert playground_for(["discord"], plugins, bare) is None
    assert playground_for(["slack"], plugins, bare) is None


async def test_the_web_plug_in_runs_in_the_playground_or_when_its_port_is_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with open_runtime(Settings(database=str(tmp_path / "seedbot.db"))) as runtime:
        assert create(runtime, load_settings(None)) is None  # the bots run as before
        runtime.playground = True
        platform = create(runtime, load_settings(None))
        assert isinstance(platform, WebPlatform) and platform.requested_port == PLAYGROUND_PORT
        runtime.settings = runtime.settings.model_copy(update={"http_port": PLAYGROUND_PORT})
        health_beside = create(runtime, load_settings(None))  # /healthz holds 8080 (the Docker image)
        assert isinstance(health_beside, WebPlatform) and health_beside.requested_port == PLAYGROUND_PORT + 1
        runtime.playground = False
        monkeypatch.setenv("SEEDBOT_WEB_PORT", "0")
        beside = create(runtime, load_settings(None))
        assert isinstance(beside, WebPlatform) and beside.requested_port == 0
        monkeypatch.setenv("SEEDBOT_WEB_HOST", ANYWHERE)
        with pytest.raises(SeedbotError):
            create(runtime, load_settings(None))


async def test_a_taken_default_port_moves_the_playground_to_the_next_free_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another dev server on 8080 stopped `make run`; a port the user set is still never swapped."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        taken = held.getsockname()[1]
        monkeypatch.setattr(web_platform, "PLAYGROUND_PORT", taken)
        async with open_runtime(Settings(database=str(tmp_path / "seedbot.db"))) as runtime:
            runtime.playground = True
            platform = create(runtime, load_settings(None))
            assert isinstance(platform, WebPlatform)
            try:
                await platform.start()
                assert platform.port is not None and taken < platform.port <= taken + web_platform.SPARE_PORTS
                assert platform.url.endswith(f":{platform.port}")
            finally:
                await platform.close()
            monkeypatch.setenv("SEEDBOT_WEB_PORT", str(taken))
            chosen = create(runtime, load_settings(None))
            assert isinstance(chosen, WebPlatform)
            with pytest.raises(SeedbotError) as refused:
                await chosen.start()
            assert f":{taken} " in refused.value.user_text and "SEEDBOT_WEB_PORT" in refused.value.user_text
            await chosen.close()

"""The Slack platform's `ready` (what /healthz reports): true while the HTTP server listens
or the Socket Mode socket is connected, false after close."""

from __future__ import annotations

from pathlib import Path

from adapters.slack_adapter.app import create
from adapters.slack_adapter.settings import SlackSettings
from bot.app.runtime import open_runtime
from bot.config import Settings
from tests.emulators.slack import SlackEmulator


async def test_ready_in_http_and_socket_mode(tmp_path: Path) -> None:
    async with SlackEmulator(bot_token="xoxb-ready", signing_secret="s3cret", app_token="xapp-ready") as emu:
        for mode in ({"slack_signing_secret": "s3cret"}, {"slack_app_token": "xapp-ready"}):
            settings = Settings(  # type: ignore[call-arg]
                _env_file=None, database=str(tmp_path / "seedbot.db"), allow_private_network=True
            )
            slack = SlackSettings(  # type: ignore[call-arg]
                _env_file=None, slack_bot_token="xoxb-ready", slack_api_url=emu.api_url, slack_port=0, **mode
            )
            async with open_runtime(settings) as runtime:
                platform = create(runtime, slack)
                assert platform is not None
                assert not platform.ready
                await platform.start()
                assert platform.ready
                await platform.close()
                assert not platform.ready

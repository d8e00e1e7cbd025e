"""The playground's `seedbot.platforms` plug-in (bot.app.platform.PlatformPlugin).

It is the plug-in `seedbot run` falls back on when no chat platform is configured
(`playground = True`); with SEEDBOT_WEB_PORT set it also runs beside Discord and Slack.
aiohttp.web and the pages load only in `create`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from adapters.web_adapter.settings import WebSettings, load_settings
from bot.app.platform import KeyForm, PlatformSettings
from bot.errors import SettingsRefused

if TYPE_CHECKING:
    import httpx

    from adapters.web_adapter.platform import WebPlatform
    from bot.app.checkup import Checkup
    from bot.app.runtime import Runtime

__all__ = ["WebPlugin", "plugin"]


class WebPlugin:
    name = "web"
    title = "Web playground"
    place = "workspace"
    playground = True
    # The playground has one person and one workspace: "web:local".
    user_key = KeyForm(r"local", "web:local")
    workspace_key = KeyForm(r"local", "web:local")
    channel_key = KeyForm(r"playground", "playground (its one channel)")

    def load_settings(self, env_file: str | None) -> WebSettings:
        return load_settings(env_file)

    def setup_hint(self) -> str:
        return "SEEDBOT_WEB_PORT (and SEEDBOT_WEB_TOKEN to listen beyond this machine)"

    def create(self, runtime: Runtime, settings: PlatformSettings) -> WebPlatform | None:
        from adapters.web_adapter.platform import create

        assert isinstance(settings, WebSettings)
        return create(runtime, settings)

    async def doctor(self, settings: PlatformSettings, checkup: Checkup, http: httpx.AsyncClient) -> None:
        assert isinstance(settings, WebSettings)
        if settings.port is None:
            checkup.say("web playground: runs with `seedbot run` when no chat platform is configured")
        else:
            checkup.say(f"web playground: http://{settings.host}:{settings.port}")
        # Checked without a port too: `run` then serves it when nothing else is set (and `run --web`
        # always), and refuses these settings.
        try:
            settings.check()
        except SettingsRefused as exc:
            checkup.problem(exc.user_text)
        else:
            checkup.ok("sign-in required" if settings.token_value else "this machine only (127.0.0.1)")


plugin = WebPlugin()

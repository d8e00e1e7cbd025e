"""Slack's `seedbot.platforms` plug-in (bot.app.platform.PlatformPlugin): settings, set-up hint,
key shapes and doctor checks import cheaply; slack_bolt is imported only by `create`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from adapters.slack_adapter.settings import SlackSettings
from bot.app.platform import KeyForm, PlatformSettings

if TYPE_CHECKING:
    import httpx

    from adapters.slack_adapter.app import SlackPlatform
    from bot.app.checkup import Checkup
    from bot.app.runtime import Runtime

__all__ = ["SlackPlugin", "plugin"]


class SlackPlugin:
    name = "slack"
    playground = False
    title = "Slack"
    place = "workspace"
    # A person is "<team id>:<user id>" (user ids are only unique within a workspace).
    user_key = KeyForm(r"[A-Z0-9]+:[A-Z0-9]+", "slack:<TEAM ID>:<USER ID>")
    workspace_key = KeyForm(r"[A-Z0-9]+", "slack:<TEAM ID>")
    channel_key = KeyForm(r"[CG][A-Z0-9]+", "a channel ID like C0123ABCD (at the bottom of its details)")

    def load_settings(self, env_file: str | None) -> SlackSettings:
        return SlackSettings(_env_file=env_file)

    def setup_hint(self) -> str:
        return "SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (HTTP mode) or SLACK_APP_TOKEN (Socket Mode)"

    def create(self, runtime: Runtime, settings: PlatformSettings) -> SlackPlatform | None:
        from adapters.slack_adapter.app import create

        assert isinstance(settings, SlackSettings)
        return create(runtime, settings)

    async def doctor(self, settings: PlatformSettings, checkup: Checkup, http: httpx.AsyncClient) -> None:
        from adapters.slack_adapter.doctor import check_slack

        assert isinstance(settings, SlackSettings)
        await check_slack(settings, checkup, http)


plugin = SlackPlugin()

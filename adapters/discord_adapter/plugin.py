"""Discord's `seedbot.platforms` plug-in (bot.app.platform.PlatformPlugin): settings, set-up
hint, key shapes and doctor checks import cheaply; discord.py is imported only by `create`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from adapters.discord_adapter.settings import DiscordSettings
from bot.app.platform import KeyForm, PlatformSettings

if TYPE_CHECKING:
    import httpx

    from adapters.discord_adapter.platform import DiscordPlatform
    from bot.app.checkup import Checkup
    from bot.app.runtime import Runtime

__all__ = ["DiscordPlugin", "plugin"]

_SNOWFLAKE = r"[0-9]{1,20}"  # Discord ids are 64-bit integers written in decimal


class DiscordPlugin:
    name = "discord"
    playground = False
    title = "Discord"
    place = "server"
    user_key = KeyForm(_SNOWFLAKE, "discord:<numeric user id>")
    workspace_key = KeyForm(_SNOWFLAKE, "discord:<numeric server id>")
    channel_key = KeyForm(
        _SNOWFLAKE, "a numeric channel id (Developer Mode: right-click it, Copy Channel ID)"
    )

    def load_settings(self, env_file: str | None) -> DiscordSettings:
        return DiscordSettings(_env_file=env_file)

    def setup_hint(self) -> str:
        return "DISCORD_TOKEN"

    def create(self, runtime: Runtime, settings: PlatformSettings) -> DiscordPlatform | None:
        from adapters.discord_adapter.platform import create

        assert isinstance(settings, DiscordSettings)
        return create(runtime, settings)

    async def doctor(self, settings: PlatformSettings, checkup: Checkup, http: httpx.AsyncClient) -> None:
        from adapters.discord_adapter.doctor import check_discord

        assert isinstance(settings, DiscordSettings)
        await check_discord(settings, checkup, http)


plugin = DiscordPlugin()

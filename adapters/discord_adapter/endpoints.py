"""Pointing discord.py at the configured REST API and gateway (DISCORD_API_BASE_URL and
DISCORD_GATEWAY_URL), for a loopback emulator in tests or a proxy in production.

discord.py has no base-URL argument: every REST route (interaction callbacks and webhook
followups included) is built from the class attribute `discord.http.Route.BASE`, and a
single-shard client connects to `DiscordWebSocket.DEFAULT_GATEWAY` (reconnects then use the
`resume_gateway_url` the gateway hands out). So the two class attributes are patched, and only
when a setting differs from Discord's own address; `restore()` puts them back. They are
process-wide: one process talks to one Discord.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import discord.gateway
import discord.http
import yarl

from adapters.discord_adapter.settings import DEFAULT_API_BASE, DEFAULT_GATEWAY, DiscordSettings

__all__ = ["DEFAULT_API_BASE", "DEFAULT_GATEWAY", "Endpoints"]

log = logging.getLogger(__name__)


def _same(a: str, b: str) -> bool:
    return a.rstrip("/") == b.rstrip("/")


@dataclass
class Endpoints:
    api_base: str
    gateway: str
    _saved: tuple[str, yarl.URL] | None = None

    @classmethod
    def from_settings(cls, settings: DiscordSettings) -> Endpoints:
        return cls(settings.discord_api_base_url, settings.discord_gateway_url)

    @property
    def custom(self) -> bool:
        return not (_same(self.api_base, DEFAULT_API_BASE) and _same(self.gateway, DEFAULT_GATEWAY))

    def apply(self) -> None:
        if not self.custom or self._saved is not None:
            return
        self._saved = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
        discord.http.Route.BASE = self.api_base.rstrip("/")
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway)
        log.info("discord: using API %s and gateway %s", discord.http.Route.BASE, self.gateway)

    def restore(self) -> None:
        if self._saved is None:
            return
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = self._saved
        self._saved = None

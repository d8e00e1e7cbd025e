"""Provider names -> classes, and building the configured ones in routing order."""

from __future__ import annotations

import httpx

from bot.config import Settings
from bot.fetch import SafeFetcher
from bot.providers.base import Provider
from bot.providers.demo import DemoProvider

__all__ = ["PROVIDER_CLASSES", "build_providers"]

PROVIDER_CLASSES: dict[str, type[Provider]] = {
    "demo": DemoProvider,
}


def build_providers(settings: Settings, client: httpx.AsyncClient, fetcher: SafeFetcher) -> list[Provider]:
    return [PROVIDER_CLASSES[name](settings, client, fetcher) for name in settings.provider_names]

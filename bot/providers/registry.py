"""Provider names -> classes, and building the configured ones in routing order."""

from __future__ import annotations

import httpx

from bot.app.config import Settings
from bot.media.fetch import SafeFetcher
from bot.providers.apiframe import ApiframeProvider
from bot.providers.ark import ArkProvider
from bot.providers.base import Provider
from bot.providers.demo import DemoProvider
from bot.providers.fal import FalProvider
from bot.providers.modellix import ModellixProvider
from bot.providers.novita import NovitaProvider
from bot.providers.replicate import ReplicateProvider
from bot.providers.segmind import SegmindProvider

__all__ = ["PROVIDER_CLASSES", "build_providers"]

PROVIDER_CLASSES: dict[str, type[Provider]] = {
    "novita": NovitaProvider,
    "segmind": SegmindProvider,
    "apiframe": ApiframeProvider,
    "modellix": ModellixProvider,
    "ark": ArkProvider,
    "fal": FalProvider,
    "replicate": ReplicateProvider,
    "demo": DemoProvider,
}


def build_providers(settings: Settings, client: httpx.AsyncClient, fetcher: SafeFetcher) -> list[Provider]:
    return [PROVIDER_CLASSES[name](settings, client, fetcher) for name in settings.provider_names]

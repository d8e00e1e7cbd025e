"""Provider names -> classes, and building the configured ones in routing order."""

from __future__ import annotations

import httpx

from bot.config import PROVIDER_ORDER, Settings
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

__all__ = ["PROVIDER_CLASSES", "absent_providers", "build_providers", "keyed_providers"]

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


def keyed_providers(settings: Settings) -> list[str]:
    """The paid providers that have an API key, routed to or not."""
    return [name for name in PROVIDER_ORDER if settings.provider_key(name)]


def absent_providers(settings: Settings) -> dict[str, str]:
    """Known providers that are not routed to, each with what would bring it in."""
    routed = set(settings.provider_names)
    keyed = set(keyed_providers(settings))
    return {
        name: "add it to SEEDBOT_PROVIDERS"
        if name in keyed or name == "demo"
        else f"set {settings.provider_key_env(name)}"  # fal's is FAL_KEY, Replicate's REPLICATE_API_TOKEN
        for name in PROVIDER_CLASSES
        if name not in routed
    }

"""Fixtures for the provider tests: the loopback emulators, settings pointing at them, a real
httpx client and safe fetcher, provider factories and request builders."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot.config import Settings
from bot.media.fetch import SafeFetcher
from bot.media.images import load_reference
from bot.providers.base import Provider
from bot.providers.registry import PROVIDER_CLASSES
from bot.request.models import ImageInput
from tests.emulators.providers import ProviderEmulator
from tests.providers.helpers import png


@pytest.fixture
async def emu() -> AsyncIterator[ProviderEmulator]:
    async with ProviderEmulator() as emulator:
        yield emulator


@pytest.fixture
def settings(emu: ProviderEmulator) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        **emu.settings_kwargs(),
        poll_interval=0.05,
        allow_private_network=True,
    )


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=httpx.Timeout(10.0)) as http:
        yield http


@pytest.fixture
def fetcher(client: httpx.AsyncClient) -> SafeFetcher:
    return SafeFetcher(client, allow_private=True)


MakeProvider = Callable[..., Provider]


@pytest.fixture
def make(settings: Settings, client: httpx.AsyncClient, fetcher: SafeFetcher) -> MakeProvider:
    """make("novita") -> a provider on the emulator; keyword overrides change its Settings."""

    def _make(name: str, **overrides: Any) -> Provider:
        # model_copy does not validate: wrap keys the way Settings would.
        update = {
            k: SecretStr(v) if k.endswith("_api_key") and isinstance(v, str) else v
            for k, v in overrides.items()
        }
        own = settings.model_copy(update=update) if update else settings
        return PROVIDER_CLASSES[name](own, client, fetcher)

    return _make


@pytest.fixture
def reference(emu: ProviderEmulator) -> Callable[..., ImageInput]:
    """reference(public=True) -> an ImageInput; with a URL on the emulator when public."""
    counter = iter(range(1, 1000))

    def _ref(*, public: bool = True, color: tuple[int, int, int] | None = None) -> ImageInput:
        n = next(counter)
        data = png(32 + n, 24, color or (10 * n % 256, 80, 160))
        url = emu.host_file(data, "image/png") if public else None
        return load_reference(data, f"ref{n}.png", url=url)

    return _ref

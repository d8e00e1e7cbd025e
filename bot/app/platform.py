"""How chat platforms plug into `seedbot run` without the engine importing them.

Each adapter package declares an entry point in the `seedbot.platforms` group (see
pyproject.toml) naming a factory `create(runtime) -> Platform | None` (None when the
platform is not configured). The engine never imports adapters.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Protocol

from bot.app.runtime import Runtime

log = logging.getLogger(__name__)

__all__ = ["ENTRY_POINT_GROUP", "Platform", "PlatformFactory", "load_factories"]

ENTRY_POINT_GROUP = "seedbot.platforms"


class Platform(Protocol):
    name: str

    async def start(self) -> None:
        """Connect and start serving; returns once connected (serving goes on in tasks)."""
        ...

    async def close(self) -> None: ...

    @property
    def ready(self) -> bool:
        """Connected and serving (what /healthz reports for this platform)."""
        ...


PlatformFactory = Callable[[Runtime], Platform | None]


def load_factories() -> dict[str, PlatformFactory]:
    factories: dict[str, PlatformFactory] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            factories[ep.name] = ep.load()
        except Exception:
            # A platform that cannot even load is skipped, not fatal to the others.
            log.exception("platform %s could not be loaded", ep.name)
    return factories

"""How chat platforms plug into seedbot without bot/ knowing any of them.

Each adapter package declares an entry point in the `seedbot.platforms` group (pyproject.toml)
naming a `PlatformPlugin` object. The CLI loops over the plug-ins for everything
platform-specific: their settings (read from the same environment and `.env` file as the
core's), what to set when nothing is configured, `seedbot doctor`'s checks, the `run --NAME`
flags, the shapes of user and workspace keys, and finally the `Platform` that `seedbot run`
starts. The engine never imports adapters.

A plug-in module should import cheaply (no discord.py or slack_bolt at import time): every
CLI command loads the plug-ins, and only `run` needs the platform itself.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import httpx

    from bot.app.checkup import Checkup
    from bot.app.runtime import Runtime

log = logging.getLogger(__name__)

__all__ = ["ENTRY_POINT_GROUP", "KeyForm", "Platform", "PlatformPlugin", "PlatformSettings", "load_plugins"]

ENTRY_POINT_GROUP = "seedbot.platforms"


class Platform(Protocol):
    """One running chat platform, made by `PlatformPlugin.create` for `seedbot run`."""

    name: str

    async def start(self) -> None:
        """Connect and start serving; returns once connected (serving goes on in tasks).

        Raises `bot.errors.PlatformUnavailable` (one line saying what to do) when the platform
        refuses the credentials or can't be reached: `seedbot run` prints that line, not a
        traceback (which goes to the debug log)."""
        ...

    async def close(self) -> None:
        """Stop serving; safe after a failed or no `start()`."""
        ...

    @property
    def ready(self) -> bool:
        """Connected and serving (what /healthz reports for this platform)."""
        ...


class PlatformSettings(Protocol):
    """A platform's own settings (a pydantic-settings class in its adapter)."""

    @property
    def enabled(self) -> bool:
        """Configured enough to start: `seedbot run` starts the platform only then."""
        ...

    @property
    def incomplete(self) -> str | None:
        """Set up in part (a token without what it needs to connect): one line naming what to
        set. `seedbot run` refuses to start on it rather than quietly leave the platform out."""
        ...

    def secrets(self) -> list[str]:
        """Every configured secret value, redacted from logs and doctor's output."""
        ...

    def check(self) -> None:
        """Raise `bot.errors.SettingsRefused` (one line) for settings the platform must not start
        on. `seedbot run` calls it for each platform it is about to start, before the database
        is opened, so a refusal creates and migrates nothing."""
        ...


@dataclass(frozen=True)
class KeyForm:
    """The shape of the part after "<platform>:" in a user or workspace key ("discord:123")."""

    pattern: str  # a regular expression the whole part must match
    shape: str  # what to show a person, e.g. "discord:<user id>"

    def matches(self, rest: str) -> bool:
        return re.fullmatch(self.pattern, rest) is not None


class PlatformPlugin(Protocol):
    """What the `seedbot.platforms` entry point names (one object per platform)."""

    name: str  # "discord": the `run --discord` flag and the prefix of the platform's keys
    title: str  # "Discord", for people
    # What the platform calls a community, in seedbot's sentences there (bot.i18n.PLACES).
    place: str
    # True for the one plug-in `seedbot run` serves when nothing is configured (the playground).
    playground: bool
    user_key: KeyForm
    workspace_key: KeyForm
    # A channel's id there, for `seedbot settings WORKSPACE channels ...` (shape: how to find one).
    channel_key: KeyForm

    def load_settings(self, env_file: str | None) -> PlatformSettings:
        """Read this platform's settings from the environment and `env_file` (None: the
        environment only). Raises pydantic's ValidationError when they are not valid."""
        ...

    def setup_hint(self) -> str:
        """The settings to set to enable the platform (its token names): `seedbot run` with
        nothing configured lists one line per platform, "<title>: <hint>"."""
        ...

    def create(self, runtime: Runtime, settings: PlatformSettings) -> Platform | None:
        """The platform for `seedbot run`, or None when `settings` do not enable it."""
        ...

    async def doctor(self, settings: PlatformSettings, checkup: Checkup, http: httpx.AsyncClient) -> None:
        """`seedbot doctor`'s section for this platform: what is configured, the offline checks
        (token shapes), then a free call per credential through `http`, reported on `checkup`
        ("not verified" when the service can't be reached)."""
        ...


def load_plugins() -> dict[str, PlatformPlugin]:
    """Every installed platform plug-in by name, in name order (stable output)."""
    plugins: dict[str, PlatformPlugin] = {}
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name):
        try:
            plugins[ep.name] = ep.load()
        except Exception as exc:
            # A platform that cannot even load is skipped, not fatal to the others.
            log.warning("platform %s could not be loaded (%s: %s)", ep.name, type(exc).__name__, exc)
            log.debug("loading platform %s", ep.name, exc_info=True)
    return plugins

"""User and workspace keys the admin commands accept: "<platform>:<id>" in the shapes each
platform plug-in declares, plus seedbot's own users. Anything else is refused with the
expected shapes, before it reaches the ledger or the audit trail."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from bot.app.platform import KeyForm, PlatformPlugin

__all__ = ["BUILTIN_USERS", "check_channels", "check_key", "key_shapes"]

Kind = Literal["user", "workspace", "target"]

# The user that is on no platform: the shell (`seedbot generate`). The playground's web:local is
# the web plug-in's to declare, like every surface's keys.
BUILTIN_USERS = {"cli": KeyForm("local", "cli:local")}


def _forms(kind: Kind, plugins: Mapping[str, PlatformPlugin]) -> dict[str, list[KeyForm]]:
    forms: dict[str, list[KeyForm]] = {}
    for name, plugin in plugins.items():
        if kind in ("user", "target"):
            forms.setdefault(name, []).append(plugin.user_key)
        if kind in ("workspace", "target"):
            forms.setdefault(name, []).append(plugin.workspace_key)
    if kind in ("user", "target"):
        for name, form in BUILTIN_USERS.items():
            forms.setdefault(name, []).append(form)
    return forms


def key_shapes(kind: Kind, plugins: Mapping[str, PlatformPlugin]) -> str:
    """ "discord:<user id>, slack:<TEAM>:<USER> ... or web:local", for help and errors."""
    # A surface whose users and workspaces look alike (web:local) is named once.
    shapes = list(dict.fromkeys(form.shape for forms in _forms(kind, plugins).values() for form in forms))
    return ", ".join(shapes[:-1]) + f" or {shapes[-1]}" if len(shapes) > 1 else "".join(shapes)


def check_key(key: str, kind: Kind, plugins: Mapping[str, PlatformPlugin]) -> str | None:
    """None when `key` has one of the shapes; else the one line saying what was expected."""
    platform, sep, rest = key.partition(":")
    if sep and any(form.matches(rest) for form in _forms(kind, plugins).get(platform, [])):
        return None
    what = {"user": "a user", "workspace": "a server or workspace", "target": "a user or workspace"}[kind]
    return f"{key!r} is not {what}: use {key_shapes(kind, plugins)}"


def check_channels(workspace: str, channels: list[str], plugins: Mapping[str, PlatformPlugin]) -> str | None:
    """None when every channel id has the shape of `workspace`'s platform; else the one line
    saying what was expected. A name ("general") stored as an id would match no channel and
    lock everyone there out."""
    plugin = plugins.get(workspace.partition(":")[0])
    if plugin is None:
        return None
    for channel in channels:
        if not plugin.channel_key.matches(channel):
            return f"{channel!r} is not a channel id of {plugin.title}: use {plugin.channel_key.shape}"
    return None

"""Settings that parse but the bot cannot use: a default model it does not know, an admin key in
no platform's shape. `seedbot run` refuses to start on them (exit 2) and `seedbot doctor` lists
them, so users never meet them as a refusal of every request or an admin left without rights.

And what changes nothing (`ignored_settings`): names no settings class reads
(`SEEDBOT_DAILY_IMAGE=50`), which pydantic-settings ignores, and lines of the settings file that
python-dotenv can't parse (an unclosed quote), which it skips. Either silently left a default.
`run` warns of them and `doctor` lists them, with the setting meant when one is close.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from dotenv.parser import Binding, parse_stream
from pydantic import AliasChoices
from pydantic_settings import BaseSettings

from bot.app.keys import check_key
from bot.app.platform import PlatformPlugin, PlatformSettings
from bot.config import Settings
from bot.errors import InvalidRequest
from bot.request.validation import get_model

__all__ = ["ignored_settings", "setting_names", "settings_problems"]

PREFIX = "SEEDBOT_"  # every name with it is seedbot's; other names only when close to one


def settings_problems(settings: Settings, plugins: Mapping[str, PlatformPlugin]) -> list[str]:
    """One line each, naming the variable to change."""
    problems = []
    try:
        get_model(settings.model)
    except InvalidRequest as exc:
        problems.append(f"SEEDBOT_MODEL: {exc.user_text}")
    for key in settings.admins:
        refused = check_key(key, "user", plugins)
        if refused is not None:
            problems.append(f"SEEDBOT_ADMINS: {refused}")
    if settings.providers and not settings.provider_names:  # every request: "none configured"
        keys = " or ".join(settings.provider_key_env(name) for name in settings.providers)
        problems.append(f"SEEDBOT_PROVIDERS: no provider it lists has a key: set {keys}, or add demo")
    return problems


def setting_names(classes: Iterable[type[object]]) -> set[str]:
    """Every environment name these settings classes read, in upper case."""
    names: set[str] = set()
    for cls in classes:
        if not issubclass(cls, BaseSettings):
            continue
        for field in cls.model_fields.values():
            alias = field.validation_alias
            choices = alias.choices if isinstance(alias, AliasChoices) else [alias]
            names |= {c for c in choices if isinstance(c, str) and c.isupper()}
    return names


def ignored_settings(
    settings: Settings,
    platform_settings: Mapping[str, PlatformSettings],
    environ: Mapping[str, str] = os.environ,
) -> list[str]:
    """One line for each line of the settings file that can't be parsed, and each name in the
    environment or the file that looks meant for seedbot and that nothing reads."""
    known = setting_names([type(settings), *(type(ps) for ps in platform_settings.values())])
    given = [name for name in environ if name.upper().startswith(PREFIX)]
    env_file = settings.env_file
    lines = [  # left out of the routing (when none is left, settings_problems says so)
        f"{name} is listed in SEEDBOT_PROVIDERS but {settings.provider_key_env(name)} is not set"
        for name in settings.providers or []
        if settings.provider_names and name != "demo" and not settings.provider_key(name)
    ]
    if env_file and Path(env_file).is_file():
        with open(env_file, encoding="utf-8") as stream:
            bindings = list(parse_stream(stream))
        lines += _unparsed(env_file, [b for b in bindings if b.error])
        given += [b.key for b in bindings if b.key is not None]
    for name in dict.fromkeys(given):
        if name.upper() in known:
            continue
        close = difflib.get_close_matches(name.upper(), known, n=1, cutoff=0.8)
        if close:
            lines.append(f"{name} is not a seedbot setting; did you mean {close[0]}?")
        elif name.upper().startswith(PREFIX):
            lines.append(f"{name} is not a seedbot setting (.env.example lists them all)")
    return lines


def _unparsed(env_file: str, skipped: list[Binding]) -> list[str]:
    """The lines python-dotenv skips. Only the name is shown: the rest may be a secret."""
    out = []
    for binding in skipped:
        line = binding.original
        name = _NAME.match(line.string)
        what = f" ({name[1]})" if name else ""
        out.append(
            f"{env_file} line {line.line}{what} is not NAME=VALUE (an unclosed quote?), so it changes nothing"
        )
    return out


_NAME = re.compile(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=")

"""Settings that parse but the bot cannot use: a default model it does not know, an admin key in
no platform's shape. `seedbot run` refuses to start on them (exit 2) and `seedbot doctor` lists
them, so users never meet them as a refusal of every request or an admin left without rights.

And names no settings class reads (`SEEDBOT_DAILY_IMAGE=50`): pydantic-settings ignores them, so
a typo silently left the default. `run` warns of them and `doctor` lists them, with the setting
meant when one is close.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from dotenv import dotenv_values
from pydantic import AliasChoices
from pydantic_settings import BaseSettings

from bot.app.keys import check_key
from bot.app.platform import PlatformPlugin, PlatformSettings
from bot.config import Settings
from bot.errors import InvalidRequest
from bot.request.validation import get_model

__all__ = ["setting_names", "settings_problems", "unknown_settings"]

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


def unknown_settings(
    settings: Settings,
    platform_settings: Mapping[str, PlatformSettings],
    environ: Mapping[str, str] = os.environ,
) -> list[str]:
    """One line for each name in the environment or the settings file that looks meant for
    seedbot and that nothing reads."""
    known = setting_names([type(settings), *(type(ps) for ps in platform_settings.values())])
    given = [name for name in environ if name.upper().startswith(PREFIX)]
    env_file = settings.env_file
    if env_file and Path(env_file).is_file():
        given += list(dotenv_values(env_file, encoding="utf-8"))
    lines = []
    for name in dict.fromkeys(given):
        if name.upper() in known:
            continue
        close = difflib.get_close_matches(name.upper(), known, n=1, cutoff=0.8)
        if close:
            lines.append(f"{name} is not a seedbot setting; did you mean {close[0]}?")
        elif name.upper().startswith(PREFIX):
            lines.append(f"{name} is not a seedbot setting (.env.example lists them all)")
    return lines

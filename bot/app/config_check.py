"""Settings that parse but the bot cannot use: a default model it does not know, an admin key in
no platform's shape. `seedbot run` refuses to start on them (exit 2) and `seedbot doctor` lists
them, so users never meet them as a refusal of every request or an admin left without rights."""

from __future__ import annotations

from collections.abc import Mapping

from bot.app.keys import check_key
from bot.app.platform import PlatformPlugin
from bot.config import Settings
from bot.errors import InvalidRequest
from bot.request.validation import get_model

__all__ = ["settings_problems"]


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

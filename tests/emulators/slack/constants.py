"""Ids of the emulated workspace, and how Slack's parameters are encoded."""

from __future__ import annotations

import json
from typing import Any

TEAM_ID = "T1"
TEAM_DOMAIN = "seedtest"
BOT_USER_ID = "UBOT"
BOT_ID = "B1"
APP_ID = "A1"
USER_ID = "U1"
CHANNEL_ID = "C1"
DM_CHANNEL_ID = "D1"

# Methods the emulator answers with the app-level token instead of the bot token.
_APP_TOKEN_METHODS = frozenset({"apps.connections.open"})
# Params that Slack accepts either as JSON values or as JSON-encoded strings.
_JSON_STRING_PARAMS = ("blocks", "attachments", "metadata", "view", "files")


def _maybe_json(value: Any) -> Any:
    if isinstance(value, str | bytes) and value[:1] in ("[", "{", b"[", b"{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _bool(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")

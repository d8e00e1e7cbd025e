"""Ids of the seeded guild, gateway intents, message/interaction/channel type numbers and limits."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

DISCORD_EPOCH_MS = 1_420_070_400_000
API_PREFIX = "/api/v10"
DEFAULT_TOKEN = "test-discord-token"

# Modern applications have bot user id == application id; the constructor lets a test split them.
APPLICATION_ID = "1300000000000000001"
BOT_USER_ID = APPLICATION_ID
GUILD_ID = "1300000000000000100"
TEXT_CHANNEL_ID = "1300000000000000200"
OTHER_CHANNEL_ID = "1300000000000000201"
HUMAN_USER_ID = "1300000000000000300"
BOT_ROLE_ID = "1300000000000000400"
# add_guild()'s default id: (id >> 22) % 2 == 1, while GUILD_ID is on shard 0 of 2.
OTHER_GUILD_ID = str(int(GUILD_ID) + (1 << 22))

_GUILD_JOINED_AT = "2024-01-01T00:00:00.000000+00:00"


class Intents:
    """Gateway intent bits (https://discord.com/developers/docs/events/gateway#gateway-intents)."""

    GUILDS = 1 << 0
    GUILD_MEMBERS = 1 << 1
    GUILD_PRESENCES = 1 << 8
    GUILD_MESSAGES = 1 << 9
    GUILD_MESSAGE_REACTIONS = 1 << 10
    DIRECT_MESSAGES = 1 << 12
    DIRECT_MESSAGE_REACTIONS = 1 << 13
    MESSAGE_CONTENT = 1 << 15
    PRIVILEGED = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT


# Message flags
FLAG_SUPPRESS_EMBEDS = 1 << 2
FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7
FLAG_SUPPRESS_NOTIFICATIONS = 1 << 12
FLAG_IS_COMPONENTS_V2 = 1 << 15

# Message types
MT_DEFAULT = 0
MT_THREAD_CREATED = 18
MT_REPLY = 19
MT_CHAT_INPUT_COMMAND = 20
MT_CONTEXT_MENU_COMMAND = 23

# Interaction types
IT_PING, IT_APPLICATION_COMMAND, IT_COMPONENT, IT_AUTOCOMPLETE, IT_MODAL_SUBMIT = 1, 2, 3, 4, 5

# Channel types
CT_GUILD_TEXT, CT_DM, CT_GROUP_DM = 0, 1, 3
CT_ANNOUNCEMENT_THREAD, CT_PUBLIC_THREAD, CT_PRIVATE_THREAD = 10, 11, 12
THREAD_TYPES = (CT_ANNOUNCEMENT_THREAD, CT_PUBLIC_THREAD, CT_PRIVATE_THREAD)

# Interaction contexts and application integration types (installs)
CTX_GUILD, CTX_BOT_DM, CTX_PRIVATE_CHANNEL = 0, 1, 2
GUILD_INSTALL, USER_INSTALL = "0", "1"

# Component types (Components V2: https://discord.com/developers/docs/components/reference)
C_ACTION_ROW, C_BUTTON, C_SECTION, C_TEXT_DISPLAY, C_THUMBNAIL = 1, 2, 9, 10, 11
C_MEDIA_GALLERY, C_FILE, C_SEPARATOR, C_CONTAINER = 12, 13, 14, 17
V2_TOP_LEVEL = (C_ACTION_ROW, C_SECTION, C_TEXT_DISPLAY, C_MEDIA_GALLERY, C_FILE, C_SEPARATOR, C_CONTAINER)
C_TEXT_INPUT, C_LABEL = 4, 18
# A modal's top level (Component Reference, "Using Modal Components"): Labels wrapping an
# input, Text Displays, and the legacy Action Row holding one Text Input.
MODAL_TOP_LEVEL = (C_ACTION_ROW, C_TEXT_DISPLAY, C_LABEL)
IN_LABEL = (3, C_TEXT_INPUT, 5, 6, 7, 8, 19)  # selects, a text input, a file upload
V2_IN_CONTAINER = (C_ACTION_ROW, C_SECTION, C_TEXT_DISPLAY, C_MEDIA_GALLERY, C_FILE, C_SEPARATOR)

MAX_CONTENT = 2000
MAX_FILES = 10
MAX_V2_COMPONENTS = 40  # per message, nested ones counted
MAX_V2_TEXT = 4000  # all text displays of a message together (discord-api-docs PR #8562)
MAX_GALLERY_ITEMS = 10
MAX_FOLLOWUPS_USER_INSTALL = 5  # when only the user's install authorised the interaction
INTERACTION_TOKEN_LIFETIME = 15 * 60.0
DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024  # free-tier attachment_size_limit

_COMMAND_NAME_RE = re.compile(r"^[-_'\w]{1,32}$")
# The locales Discord knows (Reference -> Locales): the keys of name_localizations and
# description_localizations, and an interaction's locale / guild_locale.
LOCALES = frozenset(
    {
        "id", "da", "de", "en-GB", "en-US", "es-ES", "es-419", "fr", "hr", "it", "lt", "hu", "nl",
        "no", "pl", "pt-BR", "ro", "fi", "sv-SE", "vi", "tr", "cs", "el", "bg", "ru", "uk", "hi",
        "th", "zh-CN", "ja", "zh-TW", "ko",
    }
)  # fmt: skip


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _sid(value: Any) -> str:
    """Normalise a snowflake given as int/str/dict-with-id into its string form."""
    if isinstance(value, Mapping):
        value = value["id"]
    return str(int(value))

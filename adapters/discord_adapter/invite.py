"""What the Discord bot needs when invited (scopes and channel permissions, in one place for the
client's start-up log and `seedbot doctor`), and what can be read from a token offline.
Plain data and string work: no discord.py import, so `seedbot doctor` stays light."""

from __future__ import annotations

import base64
import binascii
import re

__all__ = [
    "DISCORD_PERMISSIONS",
    "DISCORD_PERMISSION_BITS",
    "DISCORD_SCOPES",
    "DISCORD_USER_INSTALL",
    "REFUSED_LOGIN",
    "application_id_from_token",
    "discord_invite_url",
    "discord_user_install_url",
    "token_shape_problem",
]

DISCORD_SCOPES = ("bot", "applications.commands")
# Read the channel, reply, start a thread from its response and post there, upload images
# with an embed. Nothing more (no Manage Messages: it deletes only its own messages).
DISCORD_PERMISSIONS = {
    "View Channel": 1 << 10,
    "Send Messages": 1 << 11,
    "Embed Links": 1 << 14,
    "Attach Files": 1 << 15,
    "Read Message History": 1 << 16,
    "Use Application Commands": 1 << 31,
    "Create Public Threads": 1 << 35,
    "Send Messages in Threads": 1 << 38,
}
DISCORD_PERMISSION_BITS = sum(DISCORD_PERMISSIONS.values())
# Two installs: to a server (the scopes and permissions above) and to a person's account
# (`integration_type=1`, `applications.commands` only: no bot user, no permissions; the commands
# then work wherever that person is, answered through the command itself). The application must
# allow "User Install" in the Developer Portal (Installation).
DISCORD_USER_INSTALL = "1"  # the application integration type USER_INSTALL (GUILD_INSTALL is "0")

# What `seedbot run` and `seedbot doctor` say when Discord answers 401 to the token.
REFUSED_LOGIN = (
    "DISCORD_TOKEN was refused (401 Unauthorized): copy a new one from the Developer Portal "
    "(your application -> Bot -> Reset Token)"
)

# A bot token is three base64url parts joined by dots: the bot's user id, a timestamp, an HMAC.
_TOKEN = re.compile(r"[A-Za-z0-9_-]+={0,2}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


def discord_invite_url(application_id: int | str) -> str:
    return (
        f"https://discord.com/oauth2/authorize?client_id={application_id}"
        f"&scope={'+'.join(DISCORD_SCOPES)}&permissions={DISCORD_PERMISSION_BITS}"
    )


def application_id_from_token(token: str) -> str | None:
    """The id in a bot token's first part (base64 of the bot user's id, which is the
    application's id for every application made since 2019), or None when it isn't one."""
    first = token.split(".", 1)[0]
    try:
        decoded = base64.urlsafe_b64decode(first + "=" * (-len(first) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return decoded if decoded.isdigit() else None


def token_shape_problem(token: str) -> str | None:
    """What is wrong with a DISCORD_TOKEN that can't be a bot token, checked offline; None
    when it has the right shape (Discord alone can say whether it is valid)."""
    where = "copy it from the Developer Portal (your application -> Bot -> Reset Token)"
    if token.lower().startswith("bot "):
        return "DISCORD_TOKEN starts with 'Bot ': set the token alone, without the prefix"
    if token != token.strip():
        return "DISCORD_TOKEN has spaces around it: set the token alone"
    if not _TOKEN.fullmatch(token) or application_id_from_token(token) is None:
        return f"DISCORD_TOKEN is not shaped like a bot token (three parts joined by dots): {where}"
    return None


def discord_user_install_url(application_id: int | str) -> str:
    """The link that adds seedbot to a person's account (their own install)."""
    return (
        f"https://discord.com/oauth2/authorize?client_id={application_id}"
        f"&integration_type={DISCORD_USER_INSTALL}&scope=applications.commands"
    )

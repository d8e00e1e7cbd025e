"""What the Discord bot needs when invited: the scopes and channel permissions, in one place
for the adapter's start-up log and for `seedbot doctor` (plain data: no Discord import).

Two installs: to a server (`bot` + `applications.commands`, with the channel permissions below)
and to a person's account (`integration_type=1`, `applications.commands` only: no bot user and
no permissions; the commands then work wherever that person is, answered through the command
itself). The application must allow "User Install" in the Developer Portal (Installation)."""

from __future__ import annotations

__all__ = [
    "DISCORD_PERMISSIONS",
    "DISCORD_PERMISSION_BITS",
    "DISCORD_SCOPES",
    "DISCORD_USER_INSTALL",
    "discord_invite_url",
    "discord_user_install_url",
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
DISCORD_USER_INSTALL = "1"  # the application integration type USER_INSTALL (GUILD_INSTALL is "0")


def discord_invite_url(application_id: int | str) -> str:
    return (
        f"https://discord.com/oauth2/authorize?client_id={application_id}"
        f"&scope={'+'.join(DISCORD_SCOPES)}&permissions={DISCORD_PERMISSION_BITS}"
    )


def discord_user_install_url(application_id: int | str) -> str:
    """The link that adds seedbot to a person's account (their own install)."""
    return (
        f"https://discord.com/oauth2/authorize?client_id={application_id}"
        f"&integration_type={DISCORD_USER_INSTALL}&scope=applications.commands"
    )

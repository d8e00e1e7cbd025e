"""Permission bits, the seeded roles' permissions, and how a member's permissions in a channel are
computed and enforced (role permissions, then channel overwrites; threads use their parent's).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable

from tests.emulators.discord.constants import THREAD_TYPES, _sid
from tests.emulators.discord.models import _ApiError, _missing_permissions

PERMISSIONS: dict[str, int] = {
    "create_instant_invite": 1 << 0,
    "kick_members": 1 << 1,
    "ban_members": 1 << 2,
    "administrator": 1 << 3,
    "manage_channels": 1 << 4,
    "manage_guild": 1 << 5,
    "add_reactions": 1 << 6,
    "view_audit_log": 1 << 7,
    "view_channel": 1 << 10,
    "send_messages": 1 << 11,
    "send_tts_messages": 1 << 12,
    "manage_messages": 1 << 13,
    "embed_links": 1 << 14,
    "attach_files": 1 << 15,
    "read_message_history": 1 << 16,
    "mention_everyone": 1 << 17,
    "use_external_emojis": 1 << 18,
    "connect": 1 << 20,
    "speak": 1 << 21,
    "change_nickname": 1 << 26,
    "manage_roles": 1 << 28,
    "manage_webhooks": 1 << 29,
    "use_application_commands": 1 << 31,
    "manage_threads": 1 << 34,
    "create_public_threads": 1 << 35,
    "create_private_threads": 1 << 36,
    "send_messages_in_threads": 1 << 38,
    "send_polls": 1 << 49,
    "use_external_apps": 1 << 50,
}
ALL_PERMISSIONS = (1 << 51) - 1


def _perm_bits(names: Iterable[str]) -> int:
    bits = 0
    for n in names:
        if n not in PERMISSIONS:
            raise ValueError(f"unknown permission {n!r}; known: {sorted(PERMISSIONS)}")
        bits |= PERMISSIONS[n]
    return bits


EVERYONE_PERMISSIONS = _perm_bits(
    [
        "create_instant_invite",
        "add_reactions",
        "view_channel",
        "send_messages",
        "embed_links",
        "attach_files",
        "read_message_history",
        "use_external_emojis",
        "connect",
        "speak",
        "change_nickname",
        "use_application_commands",
        "create_public_threads",
        "create_private_threads",
        "send_messages_in_threads",
        "send_polls",
        "use_external_apps",
    ]
)
BOT_ROLE_PERMISSIONS = EVERYONE_PERMISSIONS | _perm_bits(["manage_messages", "manage_threads"])
# What an app can use in an interaction response where it has no bot user (Discord's change log,
# "app_permissions"): ATTACH_FILES, EMBED_LINKS, MENTION_EVERYONE, USE_EXTERNAL_EMOJIS.
RESPONSE_PERMISSIONS = _perm_bits(["attach_files", "embed_links", "mention_everyone", "use_external_emojis"])


class PermissionsMixin:
    """Permission checks and overwrites.

    A mixin of :class:`DiscordEmulator` (``emulator.py``); its state is set up in ``server.py``.
    """

    def permissions_for(self, user_id: str | int, channel_id: str | int | None) -> int:
        """Effective permission bits of a guild member in a channel (threads use the parent's)."""
        uid = _sid(user_id)
        member = self.members.get(uid)
        if member is None:
            return 0
        gid = self._guild_of_channel(channel_id)
        roles = [rid for rid in member["roles"] if self._guild_of_role(rid) == gid]
        perms = int(self.roles[gid]["permissions"])
        for rid in roles:
            perms |= int(self.roles[rid]["permissions"])
        if perms & PERMISSIONS["administrator"]:
            return ALL_PERMISSIONS
        if channel_id is None:
            return perms
        ch = self.channels.get(_sid(channel_id))
        if ch is None or ch.get("guild_id") != gid:
            return perms
        if ch["type"] in THREAD_TYPES:
            ch = self.channels[ch["parent_id"]]
        overwrites = {o["id"]: o for o in ch.get("permission_overwrites", [])}
        everyone = overwrites.get(gid)
        if everyone:
            perms = (perms & ~int(everyone["deny"])) | int(everyone["allow"])
        allow = deny = 0
        for rid in roles:
            o = overwrites.get(rid)
            if o:
                allow |= int(o["allow"])
                deny |= int(o["deny"])
        perms = (perms & ~deny) | allow
        mo = overwrites.get(uid)
        if mo:
            perms = (perms & ~int(mo["deny"])) | int(mo["allow"])
        return perms

    def _require_perm(self, channel_id: str, *names: str) -> None:
        ch = self.channels[channel_id]
        if ch.get("guild_id") is None:
            return
        perms = self.permissions_for(self.bot_user_id, channel_id)
        if not perms & PERMISSIONS["view_channel"]:
            raise _ApiError(403, 50001, "Missing Access")
        for n in names:
            if not perms & PERMISSIONS[n]:
                raise _missing_permissions()

    async def set_bot_channel_permissions(
        self, channel_id: str | int, *, deny: Iterable[str] = (), allow: Iterable[str] = ()
    ) -> None:
        """Put a member overwrite for the bot on a channel (enforced by REST, visible to discord.py).

        Dispatches CHANNEL_UPDATE if a gateway session exists.
        """
        ch = self._channel(_sid(channel_id))
        overwrites = [o for o in ch["permission_overwrites"] if o["id"] != self.bot_user_id]
        overwrites.append(
            {
                "id": self.bot_user_id,
                "type": 1,
                "allow": str(_perm_bits(allow)),
                "deny": str(_perm_bits(deny)),
            }
        )
        ch["permission_overwrites"] = overwrites
        if self._sessions:
            await self._emit("CHANNEL_UPDATE", copy.deepcopy(ch))

    def block_dms(self, user_id: str | int) -> None:
        """Make sending DMs to ``user_id`` fail with 403 50007 ("Cannot send messages to this user")."""
        self.blocked_dm_users.add(_sid(user_id))

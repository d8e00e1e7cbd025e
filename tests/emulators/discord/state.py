"""The guild the bot sits in: snowflakes, seeded users/roles/channels, extra guilds, and the user,
member, guild and application payloads (plus the REST routes that only read them).
"""

from __future__ import annotations

import copy
import hashlib
import time
from typing import Any

from tests.emulators.discord.constants import (
    _GUILD_JOINED_AT,
    BOT_ROLE_ID,
    CT_GROUP_DM,
    CT_GUILD_TEXT,
    DISCORD_EPOCH_MS,
    GUILD_ID,
    HUMAN_USER_ID,
    OTHER_CHANNEL_ID,
    OTHER_GUILD_ID,
    TEXT_CHANNEL_ID,
    THREAD_TYPES,
    Intents,
    _sid,
)
from tests.emulators.discord.models import _Req, _unknown
from tests.emulators.discord.permissions import BOT_ROLE_PERMISSIONS, EVERYONE_PERMISSIONS


class StateMixin:
    """Users, members, roles, channels and guilds.

    A mixin of :class:`DiscordEmulator` (``emulator.py``); its state is set up in ``server.py``.
    """

    # ------------------------------------------------------------------ snowflakes & seed data

    def snowflake(self) -> str:
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        value = (ms << 22) | (1 << 17) | (next(self._counter) & 0xFFF)
        value = max(value, self._last_snowflake + 1)
        self._last_snowflake = value
        return str(value)

    def _seed(self) -> None:
        self.users[self.bot_user_id] = self._user(self.bot_user_id, "seedbot", bot=True)
        self.users[HUMAN_USER_ID] = self._user(HUMAN_USER_ID, "alice", global_name="Alice")
        self.roles[GUILD_ID] = {
            "id": GUILD_ID,
            "name": "@everyone",
            "permissions": str(EVERYONE_PERMISSIONS),
            "position": 0,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "managed": False,
            "mentionable": False,
            "icon": None,
            "unicode_emoji": None,
            "flags": 0,
            "description": None,
        }
        self.roles[BOT_ROLE_ID] = {
            **self.roles[GUILD_ID],
            "id": BOT_ROLE_ID,
            "name": "seedbot",
            "permissions": str(BOT_ROLE_PERMISSIONS),
            "position": 1,
            "managed": True,
            "tags": {"bot_id": self.bot_user_id},
        }
        self.members[self.bot_user_id] = self._member_record([BOT_ROLE_ID])
        self.members[HUMAN_USER_ID] = self._member_record([])
        self.channels[TEXT_CHANNEL_ID] = self._text_channel(TEXT_CHANNEL_ID, "general", 0)
        self.channels[OTHER_CHANNEL_ID] = self._text_channel(OTHER_CHANNEL_ID, "random", 1)
        self.guilds[GUILD_ID] = {
            "id": GUILD_ID,
            "name": "Seedbot Test Guild",
            "text_channel_id": TEXT_CHANNEL_ID,
            "bot_role_id": BOT_ROLE_ID,
        }

    @staticmethod
    def _user(
        uid: str, username: str, *, bot: bool = False, global_name: str | None = None
    ) -> dict[str, Any]:
        user: dict[str, Any] = {
            "id": uid,
            "username": username,
            "global_name": global_name,
            "discriminator": "0",
            "avatar": None,
            "avatar_decoration_data": None,
            "banner": None,
            "accent_color": None,
            "public_flags": 0,
            "flags": 0,
            "primary_guild": None,
            "collectibles": None,
        }
        if bot:
            user["bot"] = True
            user["discriminator"] = "1234"
        return user

    @staticmethod
    def _member_record(roles: list[str]) -> dict[str, Any]:
        return {
            "roles": list(roles),
            "nick": None,
            "avatar": None,
            "banner": None,
            "joined_at": _GUILD_JOINED_AT,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
        }

    @staticmethod
    def _text_channel(cid: str, name: str, position: int, guild_id: str = GUILD_ID) -> dict[str, Any]:
        return {
            "id": cid,
            "type": CT_GUILD_TEXT,
            "guild_id": guild_id,
            "name": name,
            "position": position,
            "parent_id": None,
            "topic": None,
            "nsfw": False,
            "rate_limit_per_user": 0,
            "last_message_id": None,
            "permission_overwrites": [],
            "flags": 0,
            "default_auto_archive_duration": 1440,
            "default_thread_rate_limit_per_user": 0,
        }

    def add_user(
        self, username: str, *, user_id: str | None = None, bot: bool = False, member: bool = True
    ) -> dict[str, Any]:
        """Register another user (and guild member unless ``member=False``); returns the user object."""
        uid = str(user_id or self.snowflake())
        self.users[uid] = self._user(uid, username, bot=bot)
        if member:
            self.members[uid] = self._member_record([])
        return self.users[uid]

    def add_text_channel(self, name: str, *, guild_id: str | int = GUILD_ID) -> dict[str, Any]:
        """Add a guild text channel (send CHANNEL_CREATE yourself via ``dispatch`` if already connected)."""
        gid = _sid(guild_id)
        if gid not in self.guilds:
            raise ValueError(f"unknown guild {gid}")
        cid = self.snowflake()
        pos = sum(
            1 for c in self.channels.values() if c["type"] == CT_GUILD_TEXT and c.get("guild_id") == gid
        )
        self.channels[cid] = self._text_channel(cid, name, pos, gid)
        return self.channels[cid]

    def add_guild(
        self, name: str = "Seedbot Other Guild", *, guild_id: str | int = OTHER_GUILD_ID
    ) -> dict[str, Any]:
        """Add another guild the bot is in: its own @everyone and bot role and a "general" text
        channel; every user is a member.  Returns ``{"id", "name", "text_channel_id", "bot_role_id"}``.
        Add it before the client connects (or dispatch its ``guild_payload()`` as GUILD_CREATE)."""
        gid = _sid(guild_id)
        if gid in self.guilds or gid in self.roles or gid in self.channels:
            raise ValueError(f"id {gid} is already in use")
        self.roles[gid] = {**copy.deepcopy(self.roles[GUILD_ID]), "id": gid}
        self.roles[gid]["permissions"] = str(EVERYONE_PERMISSIONS)
        rid = self.snowflake()
        self.roles[rid] = {**copy.deepcopy(self.roles[BOT_ROLE_ID]), "id": rid}
        self.roles[rid]["permissions"] = str(BOT_ROLE_PERMISSIONS)
        self._role_guild[gid] = self._role_guild[rid] = gid
        self.members[self.bot_user_id]["roles"].append(rid)
        self.guilds[gid] = {"id": gid, "name": name, "text_channel_id": "", "bot_role_id": rid}
        self.guilds[gid]["text_channel_id"] = self.add_text_channel("general", guild_id=gid)["id"]
        return copy.deepcopy(self.guilds[gid])

    def add_foreign_guild(
        self, name: str = "Somewhere Else", *, guild_id: str | int | None = None
    ) -> dict[str, Any]:
        """A server the bot is *not* in: its own @everyone role and a "general" text channel, every
        user a member. People there can still run seedbot's commands through their own (user)
        install: those interactions reach the bot, but it sees no events from the server and its
        REST calls on the server's channels get 403 Missing Access.  Returns ``{"id", "name",
        "text_channel_id"}``."""
        gid = _sid(guild_id) if guild_id is not None else self.snowflake()
        if gid in self.guilds or gid in self.foreign_guilds or gid in self.roles or gid in self.channels:
            raise ValueError(f"id {gid} is already in use")
        self.roles[gid] = {**copy.deepcopy(self.roles[GUILD_ID]), "id": gid}
        self.roles[gid]["permissions"] = str(EVERYONE_PERMISSIONS)
        self._role_guild[gid] = gid
        cid = self.snowflake()
        self.channels[cid] = self._text_channel(cid, "general", 0, gid)
        self.foreign_guilds[gid] = {"id": gid, "name": name, "text_channel_id": cid}
        return copy.deepcopy(self.foreign_guilds[gid])

    def group_dm(self, user_ids: list[str | int], *, name: str | None = None) -> dict[str, Any]:
        """A group DM of these users (the bot is never a recipient: seedbot reaches it only through
        someone's own install)."""
        users = [self.user(uid) for uid in user_ids]
        cid = self.snowflake()
        self.channels[cid] = {
            "id": cid,
            "type": CT_GROUP_DM,
            "name": name,
            "icon": None,
            "owner_id": users[0]["id"],
            "recipients": users,
            "last_message_id": None,
            "flags": 0,
        }
        return copy.deepcopy(self.channels[cid])

    def _guild_of_role(self, role_id: str) -> str:
        return self._role_guild.get(role_id, GUILD_ID)

    def _guild_of_channel(self, channel_id: str | int | None) -> str:
        """The guild of a guild channel (GUILD_ID for None, DMs and unknown channels)."""
        ch = self.channels.get(_sid(channel_id)) if channel_id is not None else None
        gid = ch.get("guild_id") if ch else None
        return str(gid) if gid in self.guilds or gid in self.foreign_guilds else GUILD_ID

    # ------------------------------------------------------------------ payload builders

    def user(self, user_id: str | int) -> dict[str, Any]:
        return copy.deepcopy(self.users[_sid(user_id)])

    def member_payload(
        self,
        user_id: str | int,
        *,
        with_user: bool = True,
        permissions: int | str | None = None,
        guild_id: str | int = GUILD_ID,
    ) -> dict[str, Any]:
        uid = _sid(user_id)
        gid = _sid(guild_id)
        m = copy.deepcopy(self.members[uid])
        m["roles"] = [r for r in m["roles"] if self._guild_of_role(r) == gid]
        if with_user:
            m["user"] = self.user(uid)
        if permissions is not None:
            m["permissions"] = str(permissions)
        return m

    def guild_payload(self, guild_id: str | int = GUILD_ID) -> dict[str, Any]:
        """The GUILD_CREATE payload for GUILD_ID (or another guild of ``add_guild()``)."""
        gid = _sid(guild_id)
        meta = self.guilds[gid]
        guild_channels = [
            copy.deepcopy(c)
            for c in self.channels.values()
            if c["type"] == CT_GUILD_TEXT and c.get("guild_id") == gid
        ]
        threads = [
            copy.deepcopy(c)
            for c in self.channels.values()
            if c["type"] in THREAD_TYPES and not c["thread_metadata"]["archived"] and c.get("guild_id") == gid
        ]
        return {
            "id": gid,
            "name": meta["name"],
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": HUMAN_USER_ID,
            "application_id": None,
            "unavailable": False,
            "large": False,
            "lazy": True,
            "joined_at": _GUILD_JOINED_AT,
            "member_count": len(self.members),
            "roles": [copy.deepcopy(r) for r in self.roles.values() if self._guild_of_role(r["id"]) == gid],
            "channels": guild_channels,
            "threads": threads,
            "members": [self.member_payload(uid, guild_id=gid) for uid in self.members],
            "presences": [],
            "voice_states": [],
            "emojis": [],
            "stickers": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "features": [],
            "preferred_locale": self.guild_locales.get(gid, "en-US"),
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "nsfw": False,
            "system_channel_id": meta["text_channel_id"],
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "afk_channel_id": None,
            "afk_timeout": 300,
            "max_members": 500000,
            "max_video_channel_users": 25,
            "vanity_url_code": None,
            "widget_enabled": False,
        }

    def _application(self) -> dict[str, Any]:
        flags = 0
        if self.allowed_privileged_intents & Intents.GUILD_PRESENCES:
            flags |= 1 << 13
        if self.allowed_privileged_intents & Intents.GUILD_MEMBERS:
            flags |= 1 << 15
        if self.allowed_privileged_intents & Intents.MESSAGE_CONTENT:
            flags |= 1 << 19
        return {
            "id": self.application_id,
            "name": "seedbot",
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "hook": True,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": hashlib.sha256(self.application_id.encode()).hexdigest(),
            "flags": flags,
            "owner": self.user(HUMAN_USER_ID),
            "team": None,
            "bot": self.user(self.bot_user_id),
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "approximate_guild_count": len(self.guilds),
            "integration_types_config": {"0": {}, "1": {}} if self.user_install else {"0": {}},
            "tags": [],
        }

    # ------------------------------------------------------------------ REST routes: users, members, application

    async def _r_get_me(self, req: _Req) -> Any:
        me = self.user(self.bot_user_id)
        me.update(
            {"verified": True, "mfa_enabled": False, "email": None, "locale": "en-US", "premium_type": 0}
        )
        return me

    async def _r_get_user(self, req: _Req) -> Any:
        uid = req.params["user_id"]
        if uid not in self.users:
            raise _unknown("User", 10013)
        return self.user(uid)

    async def _r_get_member(self, req: _Req) -> Any:
        if req.params["guild_id"] not in self.guilds:
            raise _unknown("Guild", 10004)
        if req.params["user_id"] not in self.members:
            raise _unknown("Member", 10007)
        return self.member_payload(req.params["user_id"], guild_id=req.params["guild_id"])

    async def _r_get_application(self, req: _Req) -> Any:
        return self._application()

"""The workspace: users, channels and DMs, and the message store with its thread bookkeeping."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from tests.emulators.slack.constants import (
    APP_ID,
    BOT_ID,
    BOT_USER_ID,
    CHANNEL_ID,
    TEAM_ID,
    USER_ID,
    _bool,
    _maybe_json,
)
from tests.emulators.slack.models import _ApiError


class WorkspaceMixin:
    """Users, channels and stored messages.

    A mixin of :class:`SlackEmulator` (``emulator.py``); its state is set up in ``server.py``.
    """

    def add_user(
        self,
        user_id: str,
        name: str,
        *,
        real_name: str | None = None,
        is_bot: bool = False,
        bot_id: str | None = None,
        locale: str = "en-US",
        **extra: Any,
    ) -> dict[str, Any]:
        real = real_name or name
        profile: dict[str, Any] = {
            "real_name": real,
            "display_name": name,
            "real_name_normalized": real,
            "display_name_normalized": name,
            "team": TEAM_ID,
            "image_48": f"https://avatars.invalid/{user_id}_48.png",
        }
        if bot_id:
            profile.update({"bot_id": bot_id, "api_app_id": APP_ID, "always_active": True})
        user = {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": name,
            "real_name": real,
            "deleted": False,
            "is_bot": is_bot,
            "is_app_user": False,
            "is_admin": False,
            "is_owner": False,
            "tz": "Etc/UTC",
            "tz_offset": 0,
            "locale": locale,  # users.info shows it only with include_locale=true
            "updated": int(time.time()),
            "profile": profile,
            **extra,
        }
        self.users[user_id] = user
        return user

    def add_channel(
        self,
        channel_id: str,
        name: str | None = None,
        *,
        is_private: bool = False,
        is_member: bool = True,
        is_im: bool = False,
        user: str | None = None,
        created: int | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """Add a channel (or, with ``is_im=True, user=…``, a DM). ``is_member=False`` makes
        ``chat.postMessage`` answer ``not_in_channel``."""
        created = created or int(time.time())
        if is_im:
            channel: dict[str, Any] = {
                "id": channel_id,
                "created": created,
                "is_im": True,
                "is_org_shared": False,
                "user": user,
                "is_user_deleted": False,
                "priority": 0,
                "is_member": True,
            }
        else:
            name = name or channel_id.lower()
            channel = {
                "id": channel_id,
                "name": name,
                "name_normalized": name,
                "is_channel": not is_private,
                "is_group": is_private,
                "is_im": False,
                "is_mpim": False,
                "is_private": is_private,
                "is_archived": False,
                "is_general": channel_id == CHANNEL_ID,
                "is_shared": False,
                "is_ext_shared": False,
                "is_org_shared": False,
                "is_member": is_member,
                "created": created,
                "creator": USER_ID,
                "topic": {"value": "", "creator": "", "last_set": 0},
                "purpose": {"value": "", "creator": "", "last_set": 0},
                "num_members": 2,
            }
        channel.update(extra)
        self.channels[channel_id] = channel
        self.messages.setdefault(channel_id, [])
        return channel

    def _resolve_channel(self, channel: str | None) -> str:
        if not channel:
            raise _ApiError("channel_not_found")
        if channel in self.channels:
            return channel
        if channel in self.users and channel != BOT_USER_ID:
            for cid, info in self.channels.items():
                if info.get("is_im") and info.get("user") == channel:
                    return cid
            cid = "D" + channel.lstrip("U")
            self.add_channel(cid, is_im=True, user=channel)
            return cid
        name = channel.lstrip("#")
        for cid, info in self.channels.items():
            if info.get("name") == name:
                return cid
        raise _ApiError("channel_not_found")

    # ------------------------------------------------------------------ messages

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """The stored message ``ts`` in ``channel`` (a live dict), or ``None``."""
        for msg in self.messages.get(channel, []):
            if msg["ts"] == ts:
                return msg
        return None

    def messages_in(self, channel: str = CHANNEL_ID) -> list[dict[str, Any]]:
        """All stored messages of a channel (top level and replies), oldest first."""
        return list(self.messages.get(channel, []))

    def thread(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        """Parent (if stored) followed by its replies, oldest first."""
        return [
            m
            for m in self.messages.get(channel, [])
            if m["ts"] == thread_ts or m.get("thread_ts") == thread_ts
        ]

    def bot_messages(self, channel: str | None = None) -> list[dict[str, Any]]:
        chans = [channel] if channel else list(self.messages)
        return [m for c in chans for m in self.messages.get(c, []) if m.get("bot_id") == BOT_ID]

    def store_message(self, channel: str, message: dict[str, Any]) -> dict[str, Any]:
        """Insert (or replace, by ``ts``) a message and maintain thread bookkeeping."""
        msgs = self.messages.setdefault(channel, [])
        message.setdefault("ts", self.next_ts())
        message.setdefault("type", "message")
        for i, existing in enumerate(msgs):
            if existing["ts"] == message["ts"]:
                msgs[i] = {**existing, **message}
                return msgs[i]
        msgs.append(message)
        msgs.sort(key=lambda m: (int(m["ts"].split(".")[0]), m["ts"]))
        thread_ts = message.get("thread_ts")
        if thread_ts and thread_ts != message["ts"]:
            parent = self.message(channel, thread_ts)
            if parent is not None:
                message.setdefault("parent_user_id", parent.get("user"))
                parent["thread_ts"] = thread_ts
                parent["reply_count"] = parent.get("reply_count", 0) + 1
                users = parent.setdefault("reply_users", [])
                if message.get("user") and message["user"] not in users:
                    users.append(message["user"])
                parent["reply_users_count"] = len(users)
                parent["latest_reply"] = message["ts"]
        self._notify()
        return message

    def _bot_message(self, channel: str, params: Mapping[str, Any]) -> dict[str, Any]:
        msg: dict[str, Any] = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "team": TEAM_ID,
            "text": params.get("text") or "",
            "ts": self.next_ts(),
            "bot_profile": {"id": BOT_ID, "app_id": APP_ID, "name": "seedbot", "team_id": TEAM_ID},
        }
        for key in ("blocks", "attachments", "metadata"):
            if params.get(key) not in (None, ""):
                msg[key] = _maybe_json(params[key])
        thread_ts = params.get("thread_ts")
        if thread_ts:
            msg["thread_ts"] = str(thread_ts)
            if _bool(params.get("reply_broadcast")):
                msg["subtype"] = "thread_broadcast"
        return msg

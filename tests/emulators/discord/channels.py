"""Channels: fetching one, typing, threads (from a message or standalone) and DM channels."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from tests.emulators.discord.constants import (
    CT_DM,
    CT_GUILD_TEXT,
    CT_PRIVATE_THREAD,
    CT_PUBLIC_THREAD,
    MT_THREAD_CREATED,
    THREAD_TYPES,
    _now_iso,
    _sid,
)
from tests.emulators.discord.models import _ApiError, _form_error, _Req, _Resp, _unknown


class ChannelsMixin:
    """Channels, threads and DMs.

    A mixin of :class:`DiscordEmulator` (``emulator.py``); its state is set up in ``server.py``.
    """

    def _channel(self, cid: str) -> dict[str, Any]:
        """A channel the bot's REST call may touch: 403 Missing Access where it is not a member."""
        ch = self.channels.get(cid)
        if ch is None:
            raise _unknown("Channel", 10003)
        if self.bot_absent(cid):
            raise _ApiError(403, 50001, "Missing Access")
        return ch

    async def delete_channel(self, channel_id: str | int) -> dict[str, Any]:
        """A moderator deletes a channel while the bot works there: it goes with its threads and
        every message in them, REST calls on it answer 404 Unknown Channel (10003), follow-ups of
        interactions there too, and CHANNEL_DELETE is dispatched. Returns the channel."""
        cid = _sid(channel_id)
        ch = self.channels.pop(cid)
        gone = {cid} | {t for t, c in self.channels.items() if c.get("parent_id") == cid}
        for thread_id in gone - {cid}:
            del self.channels[thread_id]
        for mid in [m for m, msg in self.messages.items() if msg["channel_id"] in gone]:
            del self.messages[mid]
        if self._sessions:
            await self._emit("CHANNEL_DELETE", copy.deepcopy(ch))
        return ch

    async def _r_get_channel(self, req: _Req) -> Any:
        return copy.deepcopy(self._channel(req.params["channel_id"]))

    async def _r_typing(self, req: _Req) -> Any:
        self._channel(req.params["channel_id"])
        return _Resp(204)

    # ------------------------------------------------------------------ threads & DMs

    async def _r_join_thread(self, req: _Req) -> Any:
        ch = self._channel(req.params["channel_id"])
        if ch["type"] not in THREAD_TYPES:
            raise _ApiError(400, 50024, "Cannot execute action on this channel type")
        return _Resp(204)

    def _thread(
        self, tid: str, parent: dict[str, Any], name: str, ttype: int, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        now = _now_iso()
        thread = {
            "id": tid,
            "type": ttype,
            "guild_id": parent["guild_id"],
            "parent_id": parent["id"],
            "owner_id": self.bot_user_id,
            "name": name,
            "last_message_id": None,
            "rate_limit_per_user": body.get("rate_limit_per_user") or 0,
            "flags": 0,
            "message_count": 0,
            "member_count": 1,
            "total_message_sent": 0,
            "member_ids_preview": [self.bot_user_id],
            "thread_metadata": {
                "archived": False,
                "archive_timestamp": now,
                "auto_archive_duration": body.get("auto_archive_duration")
                or parent.get("default_auto_archive_duration", 1440),
                "locked": False,
                "create_timestamp": now,
            },
            "member": {"id": tid, "user_id": self.bot_user_id, "join_timestamp": now, "flags": 1},
        }
        if ttype == CT_PRIVATE_THREAD:
            thread["thread_metadata"]["invitable"] = bool(body.get("invitable", True))
        return thread

    async def _r_thread_from_message(self, req: _Req) -> Any:
        cid, mid = req.params["channel_id"], req.params["message_id"]
        parent = self._channel(cid)
        if parent["type"] != CT_GUILD_TEXT:
            raise _ApiError(400, 50024, "Cannot execute action on this channel type")
        self._visible_message(cid, mid)
        self._require_perm(cid, "create_public_threads", "read_message_history")
        body = req.body or {}
        name = self._validate_thread_body(body)
        if mid in self.channels:
            raise _ApiError(400, 160004, "A thread has already been created for this message")
        # Threads started from a message share the message's id.
        thread = self._thread(mid, parent, name, CT_PUBLIC_THREAD, body)
        self.channels[mid] = thread
        await self._emit("THREAD_CREATE", {**copy.deepcopy(thread), "newly_created": True})
        return copy.deepcopy(thread)

    async def _r_thread_without_message(self, req: _Req) -> Any:
        cid = req.params["channel_id"]
        parent = self._channel(cid)
        if parent["type"] != CT_GUILD_TEXT:
            raise _ApiError(400, 50024, "Cannot execute action on this channel type")
        body = req.body or {}
        ttype = int(body.get("type") or CT_PRIVATE_THREAD)  # API v10 default is a private thread
        if ttype not in (CT_PUBLIC_THREAD, CT_PRIVATE_THREAD):
            raise _form_error("type", "BASE_TYPE_CHOICES", "Value must be one of {11, 12}.")
        self._require_perm(
            cid, "create_public_threads" if ttype == CT_PUBLIC_THREAD else "create_private_threads"
        )
        name = self._validate_thread_body(body)
        tid = self.snowflake()
        thread = self._thread(tid, parent, name, ttype, body)
        self.channels[tid] = thread
        await self._emit("THREAD_CREATE", {**copy.deepcopy(thread), "newly_created": True})
        if ttype == CT_PUBLIC_THREAD:  # Discord posts a "started a thread" system message in the parent
            sysmsg = self._base_message(
                channel_id=cid, author=self.user(self.bot_user_id), content=name, type=MT_THREAD_CREATED
            )
            sysmsg["message_reference"] = {"type": 0, "channel_id": tid, "guild_id": parent["guild_id"]}
            self._store_message(sysmsg)
            await self._emit_message("MESSAGE_CREATE", sysmsg["id"])
        return copy.deepcopy(thread)

    def dm_channel(self, user_id: str | int) -> dict[str, Any]:
        """The (created on demand) DM channel between the bot and ``user_id``."""
        uid = _sid(user_id)
        for ch in self.channels.values():
            if ch["type"] == CT_DM and ch["recipients"][0]["id"] == uid:
                return ch
        cid = self.snowflake()
        self.channels[cid] = {
            "id": cid,
            "type": CT_DM,
            "last_message_id": None,
            "flags": 0,
            "recipients": [self.user(uid)],
        }
        return self.channels[cid]

    async def _r_create_dm(self, req: _Req) -> Any:
        body = req.body or {}
        uid = str(body.get("recipient_id", ""))
        if uid not in self.users or uid == self.bot_user_id:
            raise _unknown("User", 10013)
        return copy.deepcopy(self.dm_channel(uid))

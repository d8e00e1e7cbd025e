"""Messages: the store and its REST/gateway shapes, the bot's create/get/list/edit/delete calls,
and a user posting (``send_message``) or a message being put in place (``add_message``).
"""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any

from tests.emulators.discord.constants import (
    CT_DM,
    CT_GROUP_DM,
    FLAG_EPHEMERAL,
    FLAG_IS_COMPONENTS_V2,
    FLAG_LOADING,
    FLAG_SUPPRESS_EMBEDS,
    FLAG_SUPPRESS_NOTIFICATIONS,
    HUMAN_USER_ID,
    MT_DEFAULT,
    MT_REPLY,
    TEXT_CHANNEL_ID,
    THREAD_TYPES,
    _now_iso,
    _sid,
)
from tests.emulators.discord.models import (
    MessageSeen,
    _ApiError,
    _form_error,
    _missing_permissions,
    _Req,
    _Resp,
    _unknown,
    _Upload,
)
from tests.emulators.discord.validation import media_refs, text_of


class MessagesMixin:
    """Channel messages.

    A mixin of :class:`DiscordEmulator` (``emulator.py``); its state is set up in ``server.py``.
    """

    # ------------------------------------------------------------------ messages: core

    def _base_message(
        self,
        *,
        channel_id: str,
        author: dict[str, Any],
        content: str = "",
        type: int = MT_DEFAULT,
        flags: int = 0,
        message_id: str | None = None,
    ) -> dict[str, Any]:
        return {
            "id": message_id or self.snowflake(),
            "type": type,
            "channel_id": channel_id,
            "author": author,
            "content": content,
            "timestamp": _now_iso(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "components": [],
            "pinned": False,
            "flags": flags,
        }

    def _store_message(self, msg: dict[str, Any]) -> dict[str, Any]:
        self.messages[msg["id"]] = msg
        ch = self.channels.get(msg["channel_id"])
        if ch is not None and not msg.get("flags", 0) & FLAG_EPHEMERAL:
            ch["last_message_id"] = msg["id"]
            if ch["type"] in THREAD_TYPES:
                ch["message_count"] = ch.get("message_count", 0) + 1
                ch["total_message_sent"] = ch.get("total_message_sent", 0) + 1
                msg["position"] = ch["total_message_sent"] - 1
        return msg

    def message_payload(
        self, message_id: str | int, *, gateway: bool = False, nested: bool = True
    ) -> dict[str, Any]:
        """Serialise a stored message as REST returns it (``gateway=True``: MESSAGE_CREATE shape)."""
        msg = copy.deepcopy(self.messages[_sid(message_id)])
        ch = self.channels.get(msg["channel_id"])
        guild_id = ch.get("guild_id") if ch else None
        ref = msg.get("message_reference")
        for r in msg.get("reactions", []):
            r.pop("_users", None)
        if nested and ref and ref.get("type", 0) == 0 and "message_id" in ref and msg["type"] == MT_REPLY:
            if ref["message_id"] in self.messages:
                msg["referenced_message"] = self.message_payload(ref["message_id"], nested=False)
            else:
                msg["referenced_message"] = None
        thread = self.channels.get(msg["id"])
        if thread is not None and thread["type"] in THREAD_TYPES:
            msg["thread"] = copy.deepcopy(thread)
        if gateway and guild_id is not None:
            msg["guild_id"] = guild_id
            author_id = msg["author"]["id"]
            if author_id in self.members and not msg.get("webhook_id"):
                msg["member"] = self.member_payload(author_id, with_user=False, guild_id=guild_id)
            for u in msg["mentions"]:
                if u["id"] in self.members:
                    u["member"] = self.member_payload(u["id"], with_user=False, guild_id=guild_id)
            if ch is not None:
                msg["channel_type"] = ch["type"]
        return msg

    def _parse_mentions(self, content: str, allowed: Mapping[str, Any] | None) -> list[dict[str, Any]]:
        ids = list(dict.fromkeys(re.findall(r"<@!?(\d+)>", content or "")))
        if allowed is not None:
            parse = allowed.get("parse") or []
            explicit = [str(u) for u in allowed.get("users") or []]
            ids = [i for i in ids if "users" in parse or i in explicit]
        return [self.user(i) for i in ids if i in self.users]

    def _apply_message_body(
        self, msg: dict[str, Any], body: Mapping[str, Any], uploads: Sequence[_Upload], *, creating: bool
    ) -> None:
        """Apply a create/edit JSON body (content, embeds, components, attachments, flags) to ``msg``."""
        if "content" in body and body["content"] is not None:
            msg["content"] = body["content"]
        elif "content" in body and not creating:
            msg["content"] = ""
        if creating or "attachments" in body or uploads:
            msg["attachments"] = self._attachments_from_body(
                msg["channel_id"], body, uploads, () if creating else msg["attachments"], editing=not creating
            )
        if "components" in body:
            msg["components"] = copy.deepcopy(body["components"] or [])
        if "embeds" in body:
            msg["embeds"] = self._resolve_embed_attachments(body["embeds"] or [], msg["attachments"])
        if "flags" in body and body["flags"] is not None:
            requested = int(body["flags"])
            keep = FLAG_EPHEMERAL | FLAG_LOADING | FLAG_IS_COMPONENTS_V2  # V2 can't be removed
            settable = FLAG_SUPPRESS_EMBEDS | FLAG_SUPPRESS_NOTIFICATIONS | FLAG_IS_COMPONENTS_V2
            if creating:
                settable |= FLAG_EPHEMERAL
            msg["flags"] = (msg.get("flags", 0) & keep) | (requested & settable)
        v2 = bool(msg.get("flags", 0) & FLAG_IS_COMPONENTS_V2)
        if v2:
            self._resolve_media_attachments(msg["components"], msg["attachments"])
        if v2 and ("components" in body or creating):
            # In a V2 message the mentions come from its text displays (Edit Message docs).
            text = "\n".join(text_of(msg["components"]))
            mentions = self._parse_mentions(text, body.get("allowed_mentions"))
            existing = {u["id"] for u in mentions}
            msg["mentions"] = mentions + [u for u in msg.get("_reply_mention", []) if u["id"] not in existing]
        elif "content" in body or creating:
            mentions = self._parse_mentions(msg["content"], body.get("allowed_mentions"))
            existing = {u["id"] for u in mentions}
            msg["mentions"] = mentions + [u for u in msg.get("_reply_mention", []) if u["id"] not in existing]
        if "tts" in body:
            msg["tts"] = bool(body["tts"])
        if not creating:
            msg["edited_timestamp"] = _now_iso()
        shown = sum(1 for _, media in media_refs(msg["components"]) if media.get("attachment_id"))
        self.message_log.append(
            MessageSeen(
                time.monotonic(), msg["id"], msg["channel_id"], len(msg["attachments"]), shown, creating
            )
        )

    @staticmethod
    def _resolve_media_attachments(
        components: list[dict[str, Any]], attachments: list[dict[str, Any]]
    ) -> None:
        """``attachment://name`` media become the attachment's URLs, as Discord returns them."""
        by_name = {a["filename"]: a for a in attachments}
        for _, media in media_refs(components):
            url = str(media.get("url") or "")
            att = by_name.get(url[len("attachment://") :]) if url.startswith("attachment://") else None
            if att is None:
                continue
            media.update(
                url=att["url"],
                proxy_url=att["proxy_url"],
                content_type=att.get("content_type"),
                attachment_id=att["id"],
                flags=0,
            )
            if "width" in att:
                media.update(width=att["width"], height=att["height"])

    def text_of(self, message: Mapping[str, Any]) -> str:
        """What a message says: its ``content``, or for a V2 message its text displays, one a line."""
        if message.get("flags", 0) & FLAG_IS_COMPONENTS_V2:
            return "\n".join(text_of(message.get("components") or []))
        return str(message.get("content") or "")

    def bot_absent(self, channel_id: str | int) -> bool:
        """The bot is not a member of this channel (a server it is not in, a group DM): it sees no
        events there and its REST calls get 403 Missing Access; only interactions reach it."""
        ch = self.channels.get(_sid(channel_id))
        if ch is None:
            return False
        return ch.get("guild_id") in self.foreign_guilds or ch["type"] == CT_GROUP_DM

    async def _emit_message(self, event: str, message_id: str) -> None:
        msg = self.messages[message_id]
        if msg.get("flags", 0) & FLAG_EPHEMERAL:
            return  # ephemeral messages never reach the gateway
        if self.bot_absent(msg["channel_id"]):
            return  # no gateway events from where the bot is not
        if event != "MESSAGE_CREATE" or msg["author"]["id"] != self.bot_user_id or self.echo_bot_messages:
            await self._emit(event, self.message_payload(message_id, gateway=True))

    # ------------------------------------------------------------------ messages: REST routes

    def _reply_reference(
        self, channel_id: str, body: Mapping[str, Any]
    ) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        ref = body.get("message_reference")
        if not ref:
            return None, []
        if ref.get("type", 0) != 0:
            raise _form_error("message_reference.type", "BASE_TYPE_CHOICES", "Only replies are emulated")
        mid = str(ref.get("message_id"))
        target = self.messages.get(mid)
        if target is None or target.get("flags", 0) & FLAG_EPHEMERAL or target["channel_id"] != channel_id:
            if ref.get("fail_if_not_exists", True):
                raise _form_error("message_reference", "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message")
            return None, []
        ch = self.channels[channel_id]
        reference = {"type": 0, "message_id": mid, "channel_id": channel_id}
        if ch.get("guild_id"):
            reference["guild_id"] = ch["guild_id"]
        allowed = body.get("allowed_mentions")
        ping = True if allowed is None else bool(allowed.get("replied_user", False))
        mention = [self.user(target["author"]["id"])] if ping and target["author"]["id"] in self.users else []
        return reference, mention

    async def _r_create_message(self, req: _Req) -> Any:
        cid = req.params["channel_id"]
        ch = self._channel(cid)
        body = req.body or {}
        if ch["type"] == CT_DM:
            recipient = ch["recipients"][0]["id"]
            if recipient in self.blocked_dm_users:
                raise _ApiError(403, 50007, "Cannot send messages to this user")
        elif ch["type"] in THREAD_TYPES:
            self._require_perm(cid, "send_messages_in_threads", *(["attach_files"] if req.uploads else []))
            if ch["thread_metadata"]["locked"]:
                raise _missing_permissions()
        else:
            self._require_perm(cid, "send_messages", *(["attach_files"] if req.uploads else []))
        self._validate_message(body, req.uploads, creating=True)
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            existing = self._nonces.get((cid, str(nonce)))
            if existing in self.messages:
                return self.message_payload(existing)
        reference, reply_mention = self._reply_reference(cid, body)
        msg = self._base_message(
            channel_id=cid, author=self.user(self.bot_user_id), type=MT_REPLY if reference else MT_DEFAULT
        )
        msg["_reply_mention"] = reply_mention
        self._apply_message_body(msg, body, req.uploads, creating=True)
        del msg["_reply_mention"]
        msg["flags"] &= ~FLAG_EPHEMERAL  # only interaction responses can be ephemeral
        if reference:
            msg["message_reference"] = reference
        if nonce is not None:
            msg["nonce"] = nonce
            self._nonces[(cid, str(nonce))] = msg["id"]
        self._store_message(msg)
        await self._emit_message("MESSAGE_CREATE", msg["id"])
        return self.message_payload(msg["id"])

    def _visible_message(self, cid: str, mid: str) -> dict[str, Any]:
        self._channel(cid)
        msg = self.messages.get(mid)
        if msg is None or msg["channel_id"] != cid or msg.get("flags", 0) & FLAG_EPHEMERAL:
            raise _unknown("Message", 10008)
        return msg

    async def _r_get_message(self, req: _Req) -> Any:
        msg = self._visible_message(req.params["channel_id"], req.params["message_id"])
        self._require_perm(msg["channel_id"], "read_message_history")
        return self.message_payload(msg["id"])

    async def _r_list_messages(self, req: _Req) -> Any:
        cid = req.params["channel_id"]
        self._channel(cid)
        self._require_perm(cid, "read_message_history")
        limit = max(1, min(100, int(req.query.get("limit", 50))))
        msgs = sorted(
            (
                m
                for m in self.messages.values()
                if m["channel_id"] == cid and not m.get("flags", 0) & FLAG_EPHEMERAL
            ),
            key=lambda m: int(m["id"]),
            reverse=True,
        )
        if "before" in req.query:
            msgs = [m for m in msgs if int(m["id"]) < int(req.query["before"])]
        if "after" in req.query:
            msgs = [m for m in msgs if int(m["id"]) > int(req.query["after"])][-limit:]
        return [self.message_payload(m["id"]) for m in msgs[:limit]]

    async def _r_edit_message(self, req: _Req) -> Any:
        msg = self._visible_message(req.params["channel_id"], req.params["message_id"])
        body = req.body or {}
        if msg["author"]["id"] != self.bot_user_id or msg.get("webhook_id"):
            only_flags = set(body) <= {"flags"}
            if not only_flags:
                raise _ApiError(403, 50005, "Cannot edit a message authored by another user")
        self._validate_message(body, req.uploads, creating=False, existing=msg)
        self._apply_message_body(msg, body, req.uploads, creating=False)
        await self._emit_message("MESSAGE_UPDATE", msg["id"])
        return self.message_payload(msg["id"])

    async def _r_delete_message(self, req: _Req) -> Any:
        msg = self._visible_message(req.params["channel_id"], req.params["message_id"])
        if msg["author"]["id"] != self.bot_user_id:
            self._require_perm(msg["channel_id"], "manage_messages")
        await self._delete_message(msg["id"])
        return _Resp(204)

    async def _delete_message(self, mid: str) -> None:
        msg = self.messages.pop(mid)
        if msg.get("flags", 0) & FLAG_EPHEMERAL:
            return
        ch = self.channels.get(msg["channel_id"])
        data = {"id": mid, "channel_id": msg["channel_id"]}
        if ch and ch.get("guild_id"):
            data["guild_id"] = ch["guild_id"]
        await self._emit("MESSAGE_DELETE", data)

    # ------------------------------------------------------------------ user messages

    async def send_message(
        self,
        content: str = "",
        attachments: Sequence[Mapping[str, Any] | tuple[Any, ...]] | None = None,
        *,
        reply_to: str | int | None = None,
        mentions: Sequence[str | int | Mapping[str, Any]] | None = None,
        channel_id: str | int | None = None,
        author_id: str | int = HUMAN_USER_ID,
        dm: bool = False,
        embeds: list[dict[str, Any]] | None = None,
        reply_ping: bool = True,
    ) -> dict[str, Any]:
        """A user posts a message (MESSAGE_CREATE); returns the stored message (REST shape).

        ``attachments``: dicts from :meth:`add_cdn_file` or ``(filename, bytes[, content_type])``.
        ``reply_to``: a stored message id; ``referenced_message`` is resolved from the store and its
        author is added to ``mentions`` unless ``reply_ping=False``.  ``mentions`` are user ids (the
        content is not rewritten: put ``emu.bot_mention`` in it yourself).
        """
        uid = _sid(author_id)
        if dm:
            await self._require_session()
            cid = self.dm_channel(uid)["id"]
        else:
            cid = _sid(channel_id) if channel_id is not None else TEXT_CHANNEL_ID
            if cid not in self.channels:
                raise ValueError(f"unknown channel {cid}")
            await self._require_session(guild_id=self.channels[cid].get("guild_id"))
        atts = []
        for a in attachments or []:
            atts.append(
                self.add_cdn_file(*a, channel_id=cid) if isinstance(a, tuple) else copy.deepcopy(dict(a))
            )
        msg = self._base_message(channel_id=cid, author=self.user(uid), content=content)
        msg["attachments"] = atts
        msg["embeds"] = copy.deepcopy(embeds or [])
        mention_users = [self.user(_sid(m)) for m in mentions or []]
        if reply_to is not None:
            rid = _sid(reply_to)
            target = self.messages.get(rid)
            if target is None:
                raise ValueError(f"unknown message {rid}")
            msg["type"] = MT_REPLY
            ref = {"type": 0, "message_id": rid, "channel_id": target["channel_id"]}
            if self.channels[cid].get("guild_id"):
                ref["guild_id"] = self.channels[cid]["guild_id"]
            msg["message_reference"] = ref
            if reply_ping and target["author"]["id"] != uid and target["author"]["id"] in self.users:
                mention_users.append(self.user(target["author"]["id"]))
        unique: dict[str, dict[str, Any]] = {}
        for u in mention_users:
            unique.setdefault(u["id"], u)
        msg["mentions"] = list(unique.values())
        msg["nonce"] = str(int(self.snowflake()))
        self._store_message(msg)
        await self._emit_message("MESSAGE_CREATE", msg["id"])
        return copy.deepcopy(msg)

    def add_message(
        self,
        content: str = "",
        *,
        channel_id: str | int = TEXT_CHANNEL_ID,
        author_id: str | int | None = None,
        attachments: Sequence[Mapping[str, Any] | tuple[Any, ...]] | None = None,
        embeds: list[dict[str, Any]] | None = None,
        components: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Store a message without dispatching anything (e.g. a bot message from a previous run, for
        persistent-view tests).  Defaults to a bot-authored message in the text channel."""
        cid = _sid(channel_id)
        msg = self._base_message(
            channel_id=cid, author=self.user(author_id or self.bot_user_id), content=content
        )
        msg["attachments"] = [
            self.add_cdn_file(*a, channel_id=cid) if isinstance(a, tuple) else copy.deepcopy(dict(a))
            for a in attachments or []
        ]
        msg["embeds"] = copy.deepcopy(embeds or [])
        msg["components"] = copy.deepcopy(components or [])
        self._store_message(msg)
        return copy.deepcopy(msg)

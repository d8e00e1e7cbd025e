"""Web API ``chat.*`` (post, update, delete, ephemeral, permalink) and ``reactions.*``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tests.emulators.slack.blockkit import message_block_errors
from tests.emulators.slack.constants import BOT_ID, BOT_USER_ID, _maybe_json
from tests.emulators.slack.models import RecordedRequest, _ApiError


class ChatMixin:
    """Messages and reactions the bot writes.

    A mixin of :class:`SlackEmulator` (``emulator.py``); its state is set up in ``server.py``.
    """

    def _writable_channel(self, channel: Any) -> str:
        cid = self._resolve_channel(channel)
        info = self.channels[cid]
        if info.get("is_archived"):
            raise _ApiError("is_archived")
        if not info.get("is_member", True):
            raise _ApiError("not_in_channel")
        return cid

    def _check_blocks(self, p: Mapping[str, Any]) -> None:
        """A message's blocks as Slack checks them (``blockkit.py``): ``invalid_blocks``."""
        if p.get("blocks") in (None, ""):
            return
        blocks = _maybe_json(p["blocks"])
        errors = message_block_errors(blocks, self.files.get)
        if errors:
            self.refused_blocks.append({"blocks": blocks, "errors": errors})
            raise _ApiError("invalid_blocks", response_metadata={"messages": errors})

    def _chat_post_message(self, p: dict[str, Any], _r: RecordedRequest) -> dict[str, Any]:
        cid = self._writable_channel(p.get("channel"))
        if not (p.get("text") or p.get("blocks") or p.get("attachments")):
            raise _ApiError("no_text")
        self._check_blocks(p)
        msg = self.store_message(cid, self._bot_message(cid, p))
        return {"channel": cid, "ts": msg["ts"], "message": dict(msg)}

    def _chat_update(self, p: dict[str, Any], _r: RecordedRequest) -> dict[str, Any]:
        cid = self._resolve_channel(p.get("channel"))
        msg = self.message(cid, str(p.get("ts") or ""))
        if msg is None:
            raise _ApiError("message_not_found")
        if msg.get("bot_id") != BOT_ID:
            raise _ApiError("cant_update_message")
        self._check_blocks(p)
        for key in ("text", "blocks", "attachments", "metadata"):
            if key in p:
                msg[key] = _maybe_json(p[key])
        if "file_ids" in p:
            ids = _maybe_json(p["file_ids"])
            ids = ids if isinstance(ids, list) else str(ids).split(",")
            msg["files"] = [dict(self.files[i]) for i in ids if i in self.files]
        msg["edited"] = {"user": BOT_USER_ID, "ts": self.next_ts()}
        self._notify()
        return {"channel": cid, "ts": msg["ts"], "text": msg.get("text", ""), "message": dict(msg)}

    def _chat_delete(self, p: dict[str, Any], _r: RecordedRequest) -> dict[str, Any]:
        cid = self._resolve_channel(p.get("channel"))
        ts = str(p.get("ts") or "")
        msg = self.message(cid, ts)
        if msg is None:
            raise _ApiError("message_not_found")
        if msg.get("bot_id") != BOT_ID:
            raise _ApiError("cant_delete_message")
        self.messages[cid].remove(msg)
        self.deleted_messages.append({"channel": cid, **msg})
        self._notify()
        return {"channel": cid, "ts": ts}

    def _chat_post_ephemeral(self, p: dict[str, Any], _r: RecordedRequest) -> dict[str, Any]:
        cid = self._writable_channel(p.get("channel"))
        user = p.get("user")
        if user not in self.users:
            raise _ApiError("user_not_found")
        if not (p.get("text") or p.get("blocks") or p.get("attachments")):
            raise _ApiError("no_text")
        self._check_blocks(p)
        ts = self.next_ts()
        entry = {"channel": cid, "user": user, "message_ts": ts, "via": "chat.postEphemeral"}
        entry.update({k: _maybe_json(v) for k, v in p.items() if k in ("text", "blocks", "thread_ts")})
        self.ephemerals.append(entry)
        self._notify()
        return {"message_ts": ts}

    def permalink(self, channel: str, ts: str) -> str:
        return f"{self.base_url}/archives/{channel}/p{ts.replace('.', '')}"

    def _chat_get_permalink(self, p: dict[str, Any], _r: RecordedRequest) -> dict[str, Any]:
        cid = self._resolve_channel(p.get("channel"))
        ts = str(p.get("message_ts") or "")
        msg = self.message(cid, ts)
        if msg is None:
            raise _ApiError("message_not_found")
        link = self.permalink(cid, ts)
        if msg.get("thread_ts") and msg["thread_ts"] != ts:
            link += f"?thread_ts={msg['thread_ts']}&cid={cid}"
        return {"channel": cid, "permalink": link}

    # ------------------------------------------------------------------ reactions

    def _reaction_target(self, p: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
        cid = self._resolve_channel(p.get("channel"))
        msg = self.message(cid, str(p.get("timestamp") or ""))
        if msg is None:
            raise _ApiError("message_not_found")
        name = str(p.get("name") or "").strip(":")
        if not name:
            raise _ApiError("invalid_name")
        return msg, name

    def _reactions_add(self, p: dict[str, Any], _r: RecordedRequest) -> dict[str, Any]:
        msg, name = self._reaction_target(p)
        reactions = msg.setdefault("reactions", [])
        entry = next((x for x in reactions if x["name"] == name), None)
        if entry is None:
            entry = {"name": name, "users": [], "count": 0}
            reactions.append(entry)
        if BOT_USER_ID in entry["users"]:
            raise _ApiError("already_reacted")
        entry["users"].append(BOT_USER_ID)
        entry["count"] += 1
        self._notify()
        return {}

    def _reactions_remove(self, p: dict[str, Any], _r: RecordedRequest) -> dict[str, Any]:
        msg, name = self._reaction_target(p)
        reactions = msg.get("reactions", [])
        entry = next((x for x in reactions if x["name"] == name), None)
        if entry is None or BOT_USER_ID not in entry["users"]:
            raise _ApiError("no_reaction")
        entry["users"].remove(BOT_USER_ID)
        entry["count"] -= 1
        if not entry["count"]:
            reactions.remove(entry)
        self._notify()
        return {}

    def reactions(self, channel: str, ts: str) -> list[str]:
        """Names of reactions on a stored message."""
        msg = self.message(channel, ts) or {}
        return [r["name"] for r in msg.get("reactions", [])]

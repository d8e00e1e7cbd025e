"""Reactions: the bot's add/remove calls and a user reacting (``send_reaction``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tests.emulators.discord.constants import HUMAN_USER_ID, _sid
from tests.emulators.discord.models import _Req, _Resp


class ReactionsMixin:
    """Message reactions.

    A mixin of :class:`DiscordEmulator` (``emulator.py``); its state is set up in ``server.py``.
    """

    async def _r_react(self, req: _Req) -> Any:
        msg = self._visible_message(req.params["channel_id"], req.params["message_id"])
        self._require_perm(msg["channel_id"], "read_message_history", "add_reactions")
        self._add_reaction(msg, req.params["emoji"], self.bot_user_id)
        await self._emit_reaction("MESSAGE_REACTION_ADD", msg, req.params["emoji"], self.bot_user_id)
        return _Resp(204)

    async def _r_unreact(self, req: _Req) -> Any:
        msg = self._visible_message(req.params["channel_id"], req.params["message_id"])
        uid = req.params.get("user_id", self.bot_user_id)
        emoji = req.params["emoji"]
        for r in msg.get("reactions", []):
            if self._emoji_key(r["emoji"]) == self._emoji_key(self._parse_emoji(emoji)):
                r["_users"] = [u for u in r["_users"] if u != uid]
        msg["reactions"] = [r for r in msg.get("reactions", []) if r["_users"]]
        await self._emit_reaction("MESSAGE_REACTION_REMOVE", msg, emoji, uid)
        return _Resp(204)

    @staticmethod
    def _parse_emoji(raw: str) -> dict[str, Any]:
        from urllib.parse import unquote

        raw = unquote(raw)
        if ":" in raw:
            name, _, eid = raw.rpartition(":")
            return {"id": eid, "name": name.lstrip("a:") if name.startswith("a:") else name}
        return {"id": None, "name": raw}

    @staticmethod
    def _emoji_key(e: Mapping[str, Any]) -> str:
        return str(e.get("id") or e.get("name"))

    def _add_reaction(self, msg: dict[str, Any], raw_emoji: str, uid: str) -> None:
        emoji = self._parse_emoji(raw_emoji)
        reactions = msg.setdefault("reactions", [])
        for r in reactions:
            if self._emoji_key(r["emoji"]) == self._emoji_key(emoji):
                if uid not in r["_users"]:
                    r["_users"].append(uid)
                break
        else:
            reactions.append({"emoji": emoji, "_users": [uid]})
        for r in reactions:
            r["count"] = len(r["_users"])
            r["count_details"] = {"burst": 0, "normal": r["count"]}
            r["me"] = self.bot_user_id in r["_users"]
            r["me_burst"] = False
            r["burst_colors"] = []

    async def _emit_reaction(self, event: str, msg: dict[str, Any], raw_emoji: str, uid: str) -> None:
        ch = self.channels[msg["channel_id"]]
        data: dict[str, Any] = {
            "user_id": uid,
            "channel_id": msg["channel_id"],
            "message_id": msg["id"],
            "emoji": self._parse_emoji(raw_emoji),
            "burst": False,
            "type": 0,
        }
        if ch.get("guild_id"):
            data["guild_id"] = ch["guild_id"]
            if event == "MESSAGE_REACTION_ADD" and uid in self.members:
                data["member"] = self.member_payload(uid, guild_id=ch["guild_id"])
        if event == "MESSAGE_REACTION_ADD":
            data["message_author_id"] = msg["author"]["id"]
        await self._emit(event, data)

    async def send_reaction(
        self, message_id: str | int, emoji: str, *, user_id: str | int = HUMAN_USER_ID
    ) -> None:
        """A user reacts to a stored message (MESSAGE_REACTION_ADD)."""
        msg = self.messages[_sid(message_id)]
        await self._require_session(guild_id=self.channels[msg["channel_id"]].get("guild_id"))
        self._add_reaction(msg, emoji, _sid(user_id))
        await self._emit_reaction("MESSAGE_REACTION_ADD", msg, emoji, _sid(user_id))

"""Web API reads: ``api.test``, ``auth.test``, ``users.info`` and ``conversations.*`` (paged)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tests.emulators.slack.constants import APP_ID, BOT_ID, BOT_USER_ID, TEAM_ID
from tests.emulators.slack.models import RecordedRequest, _ApiError


class ConversationsMixin:
    """Auth, users and conversation reads.

    A mixin of :class:`SlackEmulator` (``emulator.py``); its state is set up in ``server.py``.
    """

    def _api_test(self, p: dict[str, Any], _r: RecordedRequest) -> dict[str, Any]:
        return {"args": {k: v for k, v in p.items() if k != "token"}}

    def _auth_test(self, _p: dict[str, Any], _r: RecordedRequest) -> dict[str, Any]:
        return {
            "url": f"{self.base_url}/",
            "team": "Seed Test",
            "user": "seedbot",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "is_enterprise_install": False,
        }

    def _users_info(self, p: dict[str, Any], _r: RecordedRequest) -> dict[str, Any]:
        user = self.users.get(str(p.get("user") or ""))
        if user is None:
            raise _ApiError("user_not_found")
        shown = dict(user)
        if str(p.get("include_locale", "")).lower() not in ("1", "true"):
            shown.pop("locale", None)  # docs: "Set this to true to receive the locale for this user"
        return {"user": shown}

    @staticmethod
    def _page(items: list[dict[str, Any]], p: Mapping[str, Any]) -> tuple[list[dict[str, Any]], str]:
        start = int(p.get("cursor") or 0)
        limit = int(p.get("limit") or 0) or 1000
        page = items[start : start + limit]
        nxt = str(start + limit) if start + limit < len(items) else ""
        return [dict(m) for m in page], nxt

    def _conversations_replies(self, p: dict[str, Any], _r: RecordedRequest) -> dict[str, Any]:
        cid = self._resolve_channel(p.get("channel"))
        ts = str(p.get("ts") or "")
        if self.message(cid, ts) is None:
            raise _ApiError("thread_not_found")
        items = self.thread(cid, ts)
        page, nxt = self._page(items, p)
        return {"messages": page, "has_more": bool(nxt), "response_metadata": {"next_cursor": nxt}}

    def _conversations_history(self, p: dict[str, Any], _r: RecordedRequest) -> dict[str, Any]:
        cid = self._resolve_channel(p.get("channel"))
        items = [
            m
            for m in reversed(self.messages.get(cid, []))
            if not m.get("thread_ts") or m["thread_ts"] == m["ts"] or m.get("subtype") == "thread_broadcast"
        ]
        page, nxt = self._page(items, p)
        return {"messages": page, "has_more": bool(nxt), "response_metadata": {"next_cursor": nxt}}

    def _conversations_info(self, p: dict[str, Any], _r: RecordedRequest) -> dict[str, Any]:
        cid = self._resolve_channel(p.get("channel"))
        return {"channel": dict(self.channels[cid])}

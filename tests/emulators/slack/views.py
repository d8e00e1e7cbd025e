"""Web API ``views.*``: modals opened with a ``trigger_id``, pushed and updated; App Home views.

Every view is checked as Slack checks it (``blockkit.py``): a view Slack would refuse gets
``invalid_arguments`` with Slack's ``response_metadata.messages``; a stale ``hash`` gets
``hash_conflict``.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from tests.emulators.slack.blockkit import view_errors
from tests.emulators.slack.constants import APP_ID, BOT_ID, TEAM_ID, _maybe_json
from tests.emulators.slack.models import RecordedRequest, _ApiError


class ViewsMixin:
    """Modals and App Home.

    A mixin of :class:`SlackEmulator` (``emulator.py``); its state is set up in ``server.py``.
    """

    def _use_trigger(self, p: Mapping[str, Any]) -> None:
        trigger = str(p.get("trigger_id") or "")
        if not trigger:
            raise _ApiError("invalid_arguments")
        if trigger not in self.trigger_ids:
            raise _ApiError("invalid_trigger_id")

    def _make_view(self, p: Mapping[str, Any], *, previous: dict[str, Any] | None = None) -> dict[str, Any]:
        view = _maybe_json(p.get("view"))
        if not isinstance(view, dict) or "type" not in view:
            raise _ApiError("invalid_arguments")
        errors = view_errors(view, self.files.get)
        if errors:
            self.refused_views.append({"view": view, "errors": errors})
            raise _ApiError("invalid_arguments", response_metadata={"messages": errors})
        if previous is not None and p.get("hash") and p["hash"] != previous.get("hash"):
            raise _ApiError("hash_conflict")
        vid = previous["id"] if previous else self._new_id("V")
        stored = {
            "id": vid,
            "team_id": TEAM_ID,
            "app_id": APP_ID,
            "app_installed_team_id": TEAM_ID,
            "bot_id": BOT_ID,
            "blocks": [],
            "private_metadata": "",
            "callback_id": "",
            "external_id": "",
            "state": {"values": {}},
            "hash": secrets.token_hex(6),
            "clear_on_close": False,
            "notify_on_close": False,
            "previous_view_id": None,
            "root_view_id": vid,
            **view,
        }
        self.views[vid] = stored
        self._notify()
        return stored

    def _views_open(self, p: dict[str, Any], _r: RecordedRequest) -> dict[str, Any]:
        self._use_trigger(p)
        return {"view": dict(self._make_view(p))}

    def _views_push(self, p: dict[str, Any], _r: RecordedRequest) -> dict[str, Any]:
        self._use_trigger(p)
        return {"view": dict(self._make_view(p))}

    def _views_update(self, p: dict[str, Any], _r: RecordedRequest) -> dict[str, Any]:
        vid = p.get("view_id")
        prev = self.views.get(str(vid)) if vid else None
        if prev is None and p.get("external_id"):
            prev = next((v for v in self.views.values() if v.get("external_id") == p["external_id"]), None)
        if prev is None:
            raise _ApiError("not_found")
        return {"view": dict(self._make_view(p, previous=prev))}

    def _views_publish(self, p: dict[str, Any], _r: RecordedRequest) -> dict[str, Any]:
        user = str(p.get("user_id") or "")
        if user not in self.users:
            raise _ApiError("user_not_found")
        view = _maybe_json(p.get("view"))
        if not isinstance(view, dict) or view.get("type") != "home":
            raise _ApiError("invalid_arguments")
        stored = self._make_view(p, previous=self.home_views.get(user))
        self.home_views[user] = stored
        return {"view": dict(stored)}

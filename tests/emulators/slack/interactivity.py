"""Slash commands and interactivity over HTTP: payload builders, signed POSTs to the app, and the
``response_url`` / ``trigger_id`` values they carry (posts to a ``response_url`` are applied
to the store as Slack would).
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from tests.emulators.slack.constants import (
    APP_ID,
    BOT_ID,
    BOT_USER_ID,
    CHANNEL_ID,
    TEAM_DOMAIN,
    TEAM_ID,
    USER_ID,
    _bool,
    _maybe_json,
)
from tests.emulators.slack.models import AppResponse


class InteractivityMixin:
    """Slash commands, block actions and view submissions.

    A mixin of :class:`SlackEmulator` (``emulator.py``); its state is set up in ``server.py``.
    """

    # ------------------------------------------------------------------ response_url & trigger_id

    def _issue_response_url(self, kind: str, **context: Any) -> str:
        rid = next(self._ids)
        path = f"/{kind}/{TEAM_ID}/{rid}/{secrets.token_hex(8)}"
        self._response_urls[path] = {"kind": kind, **context}
        return f"{self.base_url}{path}"

    def _issue_trigger_id(self, **context: Any) -> str:
        trigger = f"{next(self._ids)}.{secrets.randbelow(10**12)}.{secrets.token_hex(16)}"
        self.trigger_ids[trigger] = context
        return trigger

    def responses_to(self, response_url: str) -> list[dict[str, Any]]:
        """Bodies POSTed to one ``response_url`` (in order)."""
        return [p["json"] for p in self.response_url_posts if p["url"] == response_url]

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        rec = await self._record(request, "response_url")
        ctx = self._response_urls.get(request.path)
        url = f"{self.base_url}{request.path}"
        body: Any = rec.json if rec.json is not None else _maybe_json(rec.params.get("payload", rec.params))
        self.response_url_posts.append({"url": url, "json": body, "headers": rec.headers, "context": ctx})
        if ctx is None:
            resp = web.Response(status=404, text="invalid_token", content_type="text/plain")
        elif not isinstance(body, dict):
            resp = web.Response(status=400, text="invalid_payload", content_type="text/plain")
        else:
            self._apply_response_url(ctx, body, via="response_url")
            resp = web.json_response({"ok": True})
        rec.status = resp.status
        self._notify()
        return resp

    def _apply_response_url(self, ctx: dict[str, Any], body: dict[str, Any], *, via: str) -> None:
        channel: str = ctx.get("channel") or ""
        message_ts = ctx.get("message_ts")
        original = self.message(channel, message_ts) if channel and message_ts else None
        if _bool(body.get("delete_original")) and original is not None:
            self.messages[channel].remove(original)
            self.deleted_messages.append({"channel": channel, **original})
        elif _bool(body.get("replace_original")) and original is not None:
            for key in ("text", "blocks", "attachments"):
                if key in body:
                    original[key] = body[key]
            original["edited"] = {"user": BOT_USER_ID, "ts": self.next_ts()}
        elif body.get("response_type") == "in_channel" and channel in self.channels:
            self.store_message(channel, self._bot_message(channel, body))
        else:
            entry = {"channel": channel, "user": ctx.get("user"), "via": via}
            entry.update({k: v for k, v in body.items() if k in ("text", "blocks", "thread_ts")})
            self.ephemerals.append(entry)

    # ------------------------------------------------------------------ slash commands

    def slash_command_payload(
        self,
        command: str = "/imagine",
        text: str = "",
        *,
        user: str = USER_ID,
        channel: str = CHANNEL_ID,
    ) -> dict[str, str]:
        """Form fields of a slash command (issues a fresh ``response_url`` and ``trigger_id``)."""
        response_url = self._issue_response_url("commands", channel=channel, user=user, command=command)
        trigger_id = self._issue_trigger_id(user=user, channel=channel, command=command)
        chan = self.channels.get(channel, {})
        return {
            "token": self.verification_token,
            "team_id": TEAM_ID,
            "team_domain": TEAM_DOMAIN,
            "channel_id": channel,
            "channel_name": "directmessage" if chan.get("is_im") else chan.get("name", channel),
            "user_id": user,
            "user_name": self.users.get(user, {}).get("name", user),
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }

    async def post_slash_command(
        self,
        app_url: str,
        command: str = "/imagine",
        text: str = "",
        *,
        user: str = USER_ID,
        channel: str = CHANNEL_ID,
        timestamp: int | None = None,
        bad_signature: bool = False,
    ) -> AppResponse:
        """POST a signed, form-encoded slash command. The result carries ``response_url``
        (posts to it are recorded in ``emu.response_url_posts`` / :meth:`responses_to`) and
        ``trigger_id`` (accepted by ``views.open``)."""
        form = self.slash_command_payload(command, text, user=user, channel=channel)
        resp = await self.post_signed(
            app_url,
            urlencode(form),
            "application/x-www-form-urlencoded",
            timestamp=timestamp,
            bad_signature=bad_signature,
            response_url=form["response_url"],
            trigger_id=form["trigger_id"],
            payload=dict(form),
        )
        if resp == 200 and resp.text:
            # Like Slack: a plain-text ack body is shown ephemerally; a JSON body is a message
            # (in_channel or ephemeral per response_type).
            ctx = self._response_urls[form["response_url"].removeprefix(self.base_url)]
            body = _maybe_json(resp.text)
            self._apply_response_url(ctx, body if isinstance(body, dict) else {"text": resp.text}, via="ack")
        return resp

    # ------------------------------------------------------------------ block actions & view submissions

    def _user_obj(self, user: str) -> dict[str, Any]:
        name = self.users.get(user, {}).get("name", user)
        return {"id": user, "username": name, "name": name, "team_id": TEAM_ID}

    def block_action_payload(
        self,
        action_id: str,
        value: str | None = None,
        message_ts: str | None = None,
        channel: str = CHANNEL_ID,
        user: str = USER_ID,
        *,
        block_id: str = "actions",
        action_type: str = "button",
        state_values: dict[str, Any] | None = None,
        action: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A ``block_actions`` payload; ``message`` is taken from the store when ``message_ts``
        names a stored message."""
        message = self.message(channel, message_ts) if message_ts else None
        trigger_id = self._issue_trigger_id(user=user, channel=channel, action_id=action_id)
        response_url = self._issue_response_url("actions", channel=channel, user=user, message_ts=message_ts)
        act: dict[str, Any] = {
            "action_id": action_id,
            "block_id": block_id,
            "type": action_type,
            "action_ts": f"{time.time():.6f}",
        }
        if action_type == "button":
            act["text"] = {"type": "plain_text", "text": action_id, "emoji": True}
        if value is not None:
            act["value"] = value
        act.update(action or {})
        chan = self.channels.get(channel, {})
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user_obj(user),
            "api_app_id": APP_ID,
            "token": self.verification_token,
            "container": {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel,
                "is_ephemeral": message is None and message_ts is not None,
            },
            "trigger_id": trigger_id,
            "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": channel, "name": chan.get("name", "directmessage")},
            "state": {"values": self._state_values(state_values)},
            "response_url": response_url,
            "actions": [act],
        }
        if message is not None:
            payload["message"] = dict(message)
            if message.get("thread_ts"):
                payload["container"]["thread_ts"] = message["thread_ts"]
        return payload

    def home_action_payload(self, user: str, action_id: str) -> dict[str, Any]:
        """A ``block_actions`` payload for pressing a button on ``user``'s published Home tab
        (``container.type`` ``view``, the whole view attached, no channel or response_url).
        The button must be in the view: nothing else can be pressed."""
        view = self.home_views.get(user)
        assert view is not None, f"{user} has no Home tab published"
        buttons = [
            element
            for block in view.get("blocks") or []
            for element in [*(block.get("elements") or []), block.get("accessory") or {}]
            if element.get("type") == "button" and element.get("action_id") == action_id
        ]
        assert buttons, f"no button {action_id!r} on {user}'s Home tab"
        button = buttons[0]
        block_id = next(
            (b.get("block_id", "") for b in view["blocks"] if button in (b.get("elements") or [])), ""
        )
        act: dict[str, Any] = {
            "action_id": action_id,
            "block_id": block_id,
            "type": "button",
            "text": button["text"],
            "action_ts": f"{time.time():.6f}",
        }
        if "value" in button:
            act["value"] = button["value"]
        return {
            "type": "block_actions",
            "user": self._user_obj(user),
            "api_app_id": APP_ID,
            "token": self.verification_token,
            "container": {"type": "view", "view_id": view["id"]},
            "trigger_id": self._issue_trigger_id(user=user, view_id=view["id"], action_id=action_id),
            "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
            "enterprise": None,
            "is_enterprise_install": False,
            "view": dict(view),
            "actions": [act],
        }

    async def press_home_button(self, app_url: str, user: str, action_id: str) -> AppResponse:
        """Press a button on ``user``'s Home tab."""
        return await self.post_interactive(app_url, self.home_action_payload(user, action_id))

    async def post_interactive(
        self,
        app_url: str,
        payload: dict[str, Any],
        *,
        timestamp: int | None = None,
        bad_signature: bool = False,
    ) -> AppResponse:
        """POST any interactivity payload as the form field ``payload`` (signed)."""
        return await self.post_signed(
            app_url,
            urlencode({"payload": json.dumps(payload)}),
            "application/x-www-form-urlencoded",
            timestamp=timestamp,
            bad_signature=bad_signature,
            response_url=payload.get("response_url"),
            trigger_id=payload.get("trigger_id"),
            payload=payload,
        )

    async def post_block_action(
        self,
        app_url: str,
        action_id: str,
        value: str | None = None,
        message_ts: str | None = None,
        channel: str = CHANNEL_ID,
        user: str = USER_ID,
        **kwargs: Any,
    ) -> AppResponse:
        """Press a button (or other block element) on message ``message_ts``."""
        payload = self.block_action_payload(action_id, value, message_ts, channel, user, **kwargs)
        return await self.post_interactive(app_url, payload)

    @staticmethod
    def _state_values(values: dict[str, Any] | None) -> dict[str, Any]:
        """Accept either Slack's shape or ``{block_id: {action_id: "text"}}`` shorthand."""
        out: dict[str, Any] = {}
        for block_id, actions in (values or {}).items():
            out[block_id] = {}
            for action_id, v in actions.items():
                out[block_id][action_id] = (
                    v if isinstance(v, dict) else {"type": "plain_text_input", "value": v}
                )
        return out

    def view_submission_payload(
        self,
        callback_id: str | None = None,
        values: dict[str, Any] | None = None,
        *,
        view_id: str | None = None,
        user: str = USER_ID,
        private_metadata: str | None = None,
    ) -> dict[str, Any]:
        """A ``view_submission`` payload. With ``view_id`` (from ``views.open``) the stored view
        is submitted; ``values`` may use the ``{block_id: {action_id: "text"}}`` shorthand."""
        if view_id is not None:
            view = dict(self.views[view_id])
        else:
            vid = self._new_id("V")
            view = {
                "id": vid,
                "team_id": TEAM_ID,
                "type": "modal",
                "blocks": [],
                "private_metadata": "",
                "callback_id": callback_id or "",
                "hash": secrets.token_hex(6),
                "app_id": APP_ID,
                "bot_id": BOT_ID,
                "root_view_id": vid,
                "previous_view_id": None,
            }
        if callback_id is not None:
            view["callback_id"] = callback_id
        if private_metadata is not None:
            view["private_metadata"] = private_metadata
        view["state"] = {"values": self._state_values(values)}
        return {
            "type": "view_submission",
            "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
            "user": self._user_obj(user),
            "api_app_id": APP_ID,
            "token": self.verification_token,
            "trigger_id": self._issue_trigger_id(user=user, view_id=view["id"]),
            "view": view,
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }

    async def post_view_submission(
        self,
        app_url: str,
        callback_id: str | None = None,
        values: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> AppResponse:
        """Submit a modal. Returns the app's answer (``.json()`` holds ``response_action``)."""
        payload = self.view_submission_payload(callback_id, values, **kwargs)
        return await self.post_interactive(app_url, payload)

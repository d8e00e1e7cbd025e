"""Events API delivery to the app under test: request signing, the ``event_callback`` envelope,
URL verification, and builders for ``app_mention`` / ``message`` events.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import re
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

from aiohttp import web

from tests.emulators.slack.constants import APP_ID, BOT_USER_ID, CHANNEL_ID, DM_CHANNEL_ID, TEAM_ID, USER_ID
from tests.emulators.slack.models import AppResponse


@contextlib.asynccontextmanager
async def serve_app(app: web.Application, host: str = "127.0.0.1") -> AsyncIterator[str]:
    """Serve an aiohttp application (e.g. ``AsyncApp.web_app()``) on a free port.

    Yields the base URL (``http://127.0.0.1:P``); append the app's path yourself.
    """
    runner = web.AppRunner(app, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, host, 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


# A link as Slack's client makes it of typed text: it stops before closing punctuation.
_TYPED_URL = re.compile(r"https?://[^\s<>]+?(?=[.,!?)]*(?:\s|$))")


def as_sent(typed: str) -> str:
    """What a person typed, as an event's ``text`` carries it: ``&``, ``<`` and ``>`` escaped
    and links wrapped in angle brackets (docs.slack.dev/messaging/formatting-message-text)."""
    escaped = typed.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _TYPED_URL.sub(lambda link: f"<{link.group(0)}>", escaped)


def as_shown(text: str) -> str:
    """A message's mrkdwn ``text`` as the client shows its characters (entities decoded)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


class EventsMixin:
    """Signed Events API requests.

    A mixin of :class:`SlackEmulator` (``emulator.py``); its state is set up in ``server.py``.
    """

    def sign(self, body: bytes | str, timestamp: int | str, secret: str | None = None) -> str:
        """``v0=`` HMAC-SHA256 of ``v0:{timestamp}:{body}`` with the signing secret."""
        raw = body.encode() if isinstance(body, str) else body
        base = b"v0:" + str(timestamp).encode() + b":" + raw
        key = (secret if secret is not None else self.signing_secret).encode()
        return "v0=" + hmac.new(key, base, hashlib.sha256).hexdigest()

    async def post_signed(
        self,
        app_url: str,
        body: bytes | str,
        content_type: str,
        *,
        timestamp: int | None = None,
        bad_signature: bool = False,
        headers: Mapping[str, str] | None = None,
        response_url: str | None = None,
        trigger_id: str | None = None,
        payload: dict[str, Any] | None = None,
    ) -> AppResponse:
        """Sign ``body`` and POST it to ``app_url``; returns the app's :class:`AppResponse`."""
        assert self._http is not None, "emulator not started"
        raw = body.encode() if isinstance(body, str) else body
        ts = int(time.time()) if timestamp is None else int(timestamp)
        sig = self.sign(raw, ts, secret="not-the-" + self.signing_secret if bad_signature else None)
        hdrs = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": sig,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        }
        hdrs.update(headers or {})
        async with self._http.post(app_url, data=raw, headers=hdrs) as resp:
            text = await resp.text()
            return AppResponse(
                resp.status,
                text,
                dict(resp.headers),
                response_url=response_url,
                trigger_id=trigger_id,
                payload=payload,
            )

    def event_envelope(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        event_time: int | None = None,
    ) -> dict[str, Any]:
        """The ``event_callback`` wrapper Slack puts around an event."""
        return {
            "token": self.verification_token,
            "team_id": TEAM_ID,
            "context_team_id": TEAM_ID,
            "context_enterprise_id": None,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or self._new_id("Ev"),
            "event_time": int(time.time()) if event_time is None else event_time,
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": TEAM_ID,
                    "user_id": BOT_USER_ID,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{secrets.token_hex(12)}",
        }

    def _store_user_message(self, event: Mapping[str, Any]) -> None:
        if event.get("type") not in ("app_mention", "message") or not event.get("ts"):
            return
        if event.get("subtype") in ("message_changed", "message_deleted", "bot_message"):
            return
        channel = event.get("channel")
        if not channel or event.get("bot_id"):
            return
        self.messages.setdefault(channel, [])
        existing = self.message(channel, event["ts"])
        if existing is not None:
            return
        msg = {
            k: v
            for k, v in event.items()
            if k in ("user", "text", "ts", "thread_ts", "files", "blocks", "team", "subtype", "client_msg_id")
        }
        msg["type"] = "message"
        self.store_message(channel, msg)

    async def post_event(
        self,
        app_url: str,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        timestamp: int | None = None,
        bad_signature: bool = False,
        store: bool = True,
    ) -> AppResponse:
        """Deliver an Events API ``event_callback`` (signed) to ``app_url`` (the full URL,
        e.g. ``http://127.0.0.1:P/slack/events``). ``retry_num`` adds ``X-Slack-Retry-Num`` /
        ``X-Slack-Retry-Reason``; ``timestamp`` overrides the signed timestamp (stale tests).
        With ``store=True`` a user message/mention is also added to the channel history."""
        envelope = self.event_envelope(event, event_id=event_id)
        headers: dict[str, str] = {}
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = retry_reason
        if store and not bad_signature:
            self._store_user_message(event)
        return await self.post_signed(
            app_url,
            json.dumps(envelope),
            "application/json",
            timestamp=timestamp,
            bad_signature=bad_signature,
            headers=headers,
            payload=envelope,
        )

    async def post_url_verification(self, app_url: str, challenge: str | None = None) -> AppResponse:
        """The handshake Slack sends when an Events URL is configured."""
        body = {
            "token": self.verification_token,
            "challenge": challenge or secrets.token_urlsafe(24),
            "type": "url_verification",
        }
        return await self.post_signed(app_url, json.dumps(body), "application/json", payload=body)

    # ------------------------------------------------------------------ event builders

    def mention_event(
        self,
        text: str,
        files: Iterable[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        channel: str = CHANNEL_ID,
        user: str = USER_ID,
        *,
        ts: str | None = None,
    ) -> dict[str, Any]:
        """An ``app_mention`` event. ``<@UBOT> `` is prepended unless the text already
        mentions the bot."""
        if f"<@{BOT_USER_ID}>" not in text:
            text = f"<@{BOT_USER_ID}> {text}"
        ts = ts or self.next_ts()
        event: dict[str, Any] = {
            "type": "app_mention",
            "user": user,
            "text": text,
            "ts": ts,
            "channel": channel,
            "event_ts": ts,
            "team": TEAM_ID,
            "client_msg_id": str(uuid.uuid4()),
        }
        if thread_ts:
            event["thread_ts"] = thread_ts
            parent = self.message(channel, thread_ts)
            if parent is not None and parent.get("user"):
                event["parent_user_id"] = parent["user"]
        if files:
            event["files"] = [dict(f) for f in files]
            event["upload"] = False
        return event

    def home_opened_event(self, user: str = USER_ID) -> dict[str, Any]:
        """An ``app_home_opened`` event: ``user`` opened the app's Home tab."""
        return {
            "type": "app_home_opened",
            "user": user,
            "channel": DM_CHANNEL_ID,
            "tab": "home",
            "event_ts": self.next_ts(),
        }

    def message_event(
        self,
        text: str,
        *,
        channel: str = CHANNEL_ID,
        user: str = USER_ID,
        thread_ts: str | None = None,
        files: Iterable[dict[str, Any]] | None = None,
        channel_type: str | None = None,
        subtype: str | None = None,
        ts: str | None = None,
        bot_id: str | None = None,
    ) -> dict[str, Any]:
        """A ``message`` event. ``channel_type`` defaults to ``im`` for ``D…`` channels and
        ``channel`` otherwise; ``files`` sets ``subtype=file_share``; ``thread_ts`` makes it a
        thread reply (with ``parent_user_id`` if the parent is stored)."""
        ts = ts or self.next_ts()
        if channel_type is None:
            info = self.channels.get(channel, {})
            if info.get("is_im") or channel.startswith("D"):
                channel_type = "im"
            elif info.get("is_private"):
                channel_type = "group"
            else:
                channel_type = "channel"
        event: dict[str, Any] = {
            "type": "message",
            "channel": channel,
            "user": user,
            "text": text,
            "ts": ts,
            "event_ts": ts,
            "channel_type": channel_type,
            "team": TEAM_ID,
            "client_msg_id": str(uuid.uuid4()),
        }
        if files:
            event["files"] = [dict(f) for f in files]
            event["upload"] = False
            subtype = subtype or "file_share"
        if subtype:
            event["subtype"] = subtype
        if bot_id:
            event["bot_id"] = bot_id
        if thread_ts:
            event["thread_ts"] = thread_ts
            parent = self.message(channel, thread_ts)
            if parent is not None and parent.get("user"):
                event["parent_user_id"] = parent["user"]
        return event

    def dm_event(self, text: str, **kwargs: Any) -> dict[str, Any]:
        """A ``message`` event in the bot's DM with U1 (channel D1, ``channel_type=im``)."""
        kwargs.setdefault("channel", DM_CHANNEL_ID)
        kwargs.setdefault("channel_type", "im")
        return self.message_event(text, **kwargs)

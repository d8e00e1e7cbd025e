"""Agents & AI Apps (the assistant side panel): assistant threads, their events, and the
``assistant.threads.*`` Web API methods.

How Slack does it (docs.slack.dev/reference/events/assistant_thread_started,
/assistant_thread_context_changed, /reference/methods/assistant.threads.setStatus,
/setSuggestedPrompts, /setTitle; bolt-python ``docs/english/concepts/using-the-assistant-class.md``):

* a person opens the app's container: Slack makes a thread in the app's DM with that person (its
  root message has subtype ``assistant_app_thread``) and sends ``assistant_thread_started`` with
  ``assistant_thread: {user_id, channel_id, thread_ts, context: {channel_id, team_id,
  enterprise_id}}``; moving to another channel sends ``assistant_thread_context_changed`` with the
  same shape; what the person types arrives as ``message.im`` events inside that thread;
* ``assistant.threads.setStatus`` (``channel_id``, ``thread_ts``, ``status`` required;
  ``loading_messages`` at most 10) shows "<app> <status>" under the thread; an empty status
  clears it, and so does the app posting in the thread; it also lapses after two minutes
  without a message;
* ``assistant.threads.setSuggestedPrompts`` (``channel_id``, ``prompts`` required, up to four,
  each with ``title`` and ``message``; ``thread_ts``, ``title`` optional);
* ``assistant.threads.setTitle`` (``channel_id``, ``thread_ts``, ``title`` required);
* errors: ``channel_not_found`` for an unknown channel, ``invalid_thread_ts`` for a ts that is not
  an assistant thread of that channel; a missing or malformed argument ``invalid_arguments``.
"""

from __future__ import annotations

import time
from typing import Any

from tests.emulators.slack.constants import BOT_USER_ID, CHANNEL_ID, TEAM_ID, USER_ID, _maybe_json
from tests.emulators.slack.models import RecordedRequest, _ApiError

MAX_SUGGESTED_PROMPTS = 4
MAX_LOADING_MESSAGES = 10


class AssistantMixin:
    """Assistant threads.

    A mixin of :class:`SlackEmulator` (``emulator.py``); its state is set up in ``server.py``:
    ``assistant_threads`` maps ``(channel, thread_ts)`` to the thread's ``user``, ``context``,
    current ``status``, every status set (``statuses``), ``prompts``, ``prompts_title`` and
    ``title``.
    """

    # -- towards the app ----------------------------------------------------------------------

    def start_assistant_thread(
        self, user: str = USER_ID, context_channel: str | None = CHANNEL_ID
    ) -> dict[str, Any]:
        """The person opens the container: a new thread in their DM with the app; returns the
        ``assistant_thread_started`` event to post."""
        dm = self._resolve_channel(user)
        ts = self.next_ts()
        self.store_message(
            dm,
            {
                "type": "message",
                "subtype": "assistant_app_thread",
                "user": BOT_USER_ID,
                "text": f"Chats from {time.strftime('%Y-%m-%d')}",
                "ts": ts,
                "thread_ts": ts,
                "assistant_app_thread": {"title": "", "title_blocks": [], "artifacts": []},
            },
        )
        context = self._assistant_context(context_channel)
        self.assistant_threads[(dm, ts)] = {
            "user": user,
            "context": context,
            "status": "",
            "statuses": [],
            "prompts": [],
            "prompts_title": None,
            "title": "",
        }
        return {
            "type": "assistant_thread_started",
            "assistant_thread": {"user_id": user, "context": context, "channel_id": dm, "thread_ts": ts},
            "event_ts": self.next_ts(),
        }

    def assistant_context_changed_event(
        self, channel: str, thread_ts: str, context_channel: str | None
    ) -> dict[str, Any]:
        """The person moved to another channel with the container open."""
        thread = self.assistant_threads[(channel, thread_ts)]
        thread["context"] = self._assistant_context(context_channel)
        return {
            "type": "assistant_thread_context_changed",
            "assistant_thread": {
                "user_id": thread["user"],
                "context": thread["context"],
                "channel_id": channel,
                "thread_ts": thread_ts,
            },
            "event_ts": self.next_ts(),
        }

    def assistant_message_event(
        self, channel: str, thread_ts: str, text: str, **kwargs: Any
    ) -> dict[str, Any]:
        """What the person types in an assistant thread: a ``message.im`` event in that thread."""
        user = self.assistant_threads[(channel, thread_ts)]["user"]
        kwargs.setdefault("user", user)
        return self.message_event(text, channel=channel, thread_ts=thread_ts, channel_type="im", **kwargs)

    @staticmethod
    def _assistant_context(channel: str | None) -> dict[str, Any]:
        if channel is None:
            return {}
        return {"channel_id": channel, "team_id": TEAM_ID, "enterprise_id": None}

    # -- Web API ------------------------------------------------------------------------------

    def _assistant_thread(self, p: dict[str, Any], *, thread_required: bool = True) -> dict[str, Any] | None:
        channel = p.get("channel_id")
        if not channel:
            raise _ApiError("invalid_arguments")
        if channel not in self.channels:
            raise _ApiError("channel_not_found")
        thread_ts = p.get("thread_ts")
        if not thread_ts:
            if thread_required:
                raise _ApiError("invalid_arguments")
            return None
        thread = self.assistant_threads.get((channel, str(thread_ts)))
        if thread is None:
            raise _ApiError("invalid_thread_ts")
        return thread

    def _assistant_set_status(self, p: dict[str, Any], _r: RecordedRequest) -> dict[str, Any]:
        thread = self._assistant_thread(p)
        assert thread is not None
        status = p.get("status")
        if not isinstance(status, str):
            raise _ApiError("invalid_arguments")
        loading = _maybe_json(p.get("loading_messages")) if "loading_messages" in p else None
        if loading is not None and (
            not isinstance(loading, list)
            or len(loading) > MAX_LOADING_MESSAGES
            or not all(isinstance(m, str) for m in loading)
        ):
            raise _ApiError("invalid_arguments")
        thread["status"] = status
        thread["statuses"].append(status)
        self._notify()
        return {}

    def _assistant_set_suggested_prompts(self, p: dict[str, Any], _r: RecordedRequest) -> dict[str, Any]:
        thread = self._assistant_thread(p, thread_required=False)
        prompts = _maybe_json(p.get("prompts"))
        if (
            not isinstance(prompts, list)
            or not 1 <= len(prompts) <= MAX_SUGGESTED_PROMPTS
            or not all(
                isinstance(x, dict)
                and isinstance(x.get("title"), str)
                and x["title"].strip()
                and isinstance(x.get("message"), str)
                and x["message"].strip()
                for x in prompts
            )
        ):
            raise _ApiError("invalid_arguments")
        if thread is not None:
            thread["prompts"] = [dict(x) for x in prompts]
            thread["prompts_title"] = p.get("title")
        self._notify()
        return {}

    def _assistant_set_title(self, p: dict[str, Any], _r: RecordedRequest) -> dict[str, Any]:
        thread = self._assistant_thread(p)
        assert thread is not None
        title = p.get("title")
        if not isinstance(title, str) or not title.strip():
            raise _ApiError("invalid_arguments")
        thread["title"] = title
        self._notify()
        return {}

    def store_message(self, channel: str, message: dict[str, Any]) -> dict[str, Any]:
        """The app posting in an assistant thread clears that thread's status."""
        stored: dict[str, Any] = super().store_message(channel, message)  # type: ignore[misc]
        thread = self.assistant_threads.get((channel, str(stored.get("thread_ts") or "")))
        if thread is not None and stored.get("bot_id") and thread["status"]:
            thread["status"] = ""
        return stored

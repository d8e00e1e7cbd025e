"""Slack's Agents & AI Apps side panel (SLACK_ASSISTANT=on): seedbot as an assistant.

    thread started          -> a greeting and a few prompts to start from (setSuggestedPrompts)
    a message in the thread -> the same turn as a DM: Ask, or Edit of the thread's latest result
    while a job runs        -> "seedbot is generating…" under the thread (setStatus), cleared
                               once the images are posted or the request is refused
    the thread's title      -> the first prompt (setTitle)

bolt's AsyncAssistant routes these events (listeners.py registers it, only when the setting is
on: a workspace must enable the feature and grant `assistant:write` first):
`assistant_thread_started`, `assistant_thread_context_changed` (seedbot keeps no context: images
do not depend on the channel being viewed) and `message.im` inside a side panel's thread (bolt
would take a reply in any DM thread for one: AssistantThreads tells them apart).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack_adapter.reply import SlackReply
from adapters.slack_adapter.text import escape
from bot import messages
from bot.conversation.surface import Delivery, Progress, Shown

__all__ = ["STATUS_REFRESH", "AssistantReply", "AssistantThreads", "greet", "set_title", "suggested_prompts"]

log = logging.getLogger(__name__)

# Slack drops a thread's status after two minutes without a message: set it again before that.
STATUS_REFRESH = 60.0
TITLE_MAX = 120  # characters of the prompt kept as the thread's title


class AssistantThreads:
    """Which DM threads are side panel threads. bolt takes a person's message in any DM thread
    for one (payload_utils.is_user_message_event_in_assistant_thread), so an edit replied in the
    thread of a DM result lost its progress and Cancel to the panel's status line. Known from
    `assistant_thread_started`, else from the thread's first message, which Slack gives the
    subtype `assistant_app_thread`; remembered either way (the most recent `size`)."""

    def __init__(self, client: AsyncWebClient, size: int = 4096) -> None:
        self.client = client
        self.size = size
        self._known: OrderedDict[tuple[str, str], bool] = OrderedDict()

    def started(self, channel: str, thread_ts: str) -> None:
        self._remember((channel, thread_ts), True)

    async def holds(self, channel: str, thread_ts: str) -> bool:
        key = (channel, thread_ts)
        if key in self._known:
            self._known.move_to_end(key)
            return self._known[key]
        try:
            answer = await self.client.conversations_replies(channel=channel, ts=thread_ts, limit=1)
        except SlackApiError as exc:  # not known: answered as a DM thread, in the thread
            log.info("slack: thread %s/%s not read: %s", channel, thread_ts, exc.response.get("error"))
            return False
        first = (answer.get("messages") or [{}])[0]
        panel = bool(first.get("subtype") == "assistant_app_thread")
        self._remember(key, panel)
        return panel

    def _remember(self, key: tuple[str, str], panel: bool) -> None:
        self._known[key] = panel
        self._known.move_to_end(key)
        while len(self._known) > self.size:
            self._known.popitem(last=False)


def suggested_prompts() -> list[dict[str, str]]:
    """setSuggestedPrompts takes up to four, each a title and the message it sends."""
    return [{"title": title, "message": prompt} for title, prompt in messages.SUGGESTED_PROMPTS[:4]]


@dataclass
class AssistantReply(SlackReply):
    """A turn in an assistant thread: no placeholder message, the thread's status instead;
    answers are plain messages in the thread (the panel is the person's own)."""

    _status_at: float = field(default=0.0, init=False)

    async def _set_status(self, status: str) -> None:
        """The status under the thread ("" clears it). Cosmetic: a failure is only logged."""
        if not self.thread_ts:
            return
        try:
            await self.client.assistant_threads_setStatus(
                channel_id=self.channel, thread_ts=self.thread_ts, status=status
            )
            self._status_at = time.monotonic() if status else 0.0
        except SlackApiError as exc:
            log.info(
                "slack: assistant status in %s/%s: %s",
                self.channel,
                self.thread_ts,
                exc.response.get("error"),
            )

    async def accepted(self, text: str) -> None:
        await self._set_status(messages.ASSISTANT_STATUS)

    async def progress(self, progress: Progress) -> None:
        if time.monotonic() - self._status_at >= STATUS_REFRESH:
            await self._set_status(messages.ASSISTANT_STATUS)

    async def result(self, shown: Shown) -> Delivery:
        try:
            return await self.delivery(shown)(shown.result)
        finally:
            await self._set_status("")

    async def refuse(self, text: str) -> None:
        await self._set_status("")
        await self.say(text)

    async def say(self, text: str) -> None:
        try:
            await self.client.chat_postMessage(
                channel=self.channel, thread_ts=self.thread_ts, text=escape(text)
            )
        except SlackApiError as exc:
            log.info("slack: answer in assistant thread failed: %s", exc.response.get("error"))

    async def interrupted(self, text: str, *, resumes: bool) -> None:
        await self._set_status("")
        await self.say(text)


async def greet(client: AsyncWebClient, channel: str, thread_ts: str) -> None:
    """A new thread: what seedbot does, and a few prompts to start from."""
    try:
        await client.chat_postMessage(
            channel=channel, thread_ts=thread_ts, text=escape(messages.ASSISTANT_GREETING)
        )
    except SlackApiError as exc:
        log.warning("slack: assistant greeting in %s/%s: %s", channel, thread_ts, exc.response.get("error"))
    try:
        await client.assistant_threads_setSuggestedPrompts(
            channel_id=channel,
            thread_ts=thread_ts,
            title=messages.SUGGESTED_PROMPTS_TITLE,
            prompts=suggested_prompts(),
        )
    except SlackApiError as exc:
        log.warning("slack: suggested prompts in %s/%s: %s", channel, thread_ts, exc.response.get("error"))


async def set_title(reply: SlackReply, prompt: str) -> None:
    """The thread's title in the panel's history: the prompt that started it."""
    title = " ".join(prompt.split())
    if not title or not reply.thread_ts:
        return
    if len(title) > TITLE_MAX:
        title = title[: TITLE_MAX - 1] + "…"
    try:
        await reply.client.assistant_threads_setTitle(
            channel_id=reply.channel, thread_ts=reply.thread_ts, title=title
        )
    except SlackApiError as exc:
        log.info("slack: assistant title: %s", exc.response.get("error"))

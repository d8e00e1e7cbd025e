"""Slack's side of the community features: `history` and `admin ...` (as `/imagine <words>` or
`@seedbot <words>`), and the Info button under results.

    /imagine history                                  your last 10 jobs, with permalinks
    /imagine admin quota show|reset|block|unblock @user
    /imagine admin quota set @user daily=N monthly=N
    /imagine admin quota grant @user N                extra images today
    /imagine admin settings [KEY VALUE]               show, or change one setting
    /imagine admin stats
    /imagine admin style list|add|change|remove|hide ...   style presets

Admins are the SEEDBOT_ADMINS entries (slack:<team>:<user>): Slack gives apps no reliable
"workspace admin" flag for the person typing, so nothing else counts. Everything is answered
privately; the words' grammar, the rules and the wording live in bot/conversation/admin.py,
community.py and bot/messages.py: this module reads Slack's mentions and permalinks.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import messages
from bot.conversation.conversation import Conversation
from bot.conversation.turns import History, Turn
from bot.errors import InvalidRequest
from bot.request.models import Job, Requester

if TYPE_CHECKING:
    from adapters.slack_adapter.reply import SlackReply

__all__ = ["SlackCommunity"]

log = logging.getLogger(__name__)

PLATFORM = "slack"
_USER = re.compile(r"^<@([A-Z0-9]+)(?:\|[^>]*)?>$|^@?([UW][A-Z0-9]{2,})$")


class SlackCommunity:
    def __init__(self, client: AsyncWebClient, conversation: Conversation) -> None:
        self.client = client
        self.conversation = conversation

    async def text_command(self, who: Requester, reply: SlackReply, raw: str) -> bool:
        """Answer `history` / `admin ...` (raw Slack text, bot mention removed); False if the
        text is something else (a prompt)."""
        words = raw.split()
        first = words[0].lower() if words else ""
        if first == "history":
            await self.conversation.handle(Turn(who, History(link=self.permalink), "history"), reply)
            return True
        if first != "admin":
            return False
        team = who.workspace_id or ""
        await reply.say(
            await self.conversation.admin.words(who, words[1:], lambda w: _user(team, w), "/imagine")
        )
        return True

    async def permalink(self, job: Job) -> str | None:
        if not job.result_message_ids or not job.channel_id:
            return None
        first = min(job.result_message_ids, key=_ts)
        try:
            response = await self.client.chat_getPermalink(channel=job.channel_id, message_ts=first)
        except SlackApiError as exc:
            log.info("slack: no permalink for job %s: %s", job.id, exc.response.get("error"))
            return None
        link = response.get("permalink")
        return str(link) if link else None


def _user(team: str, word: str) -> str:
    """A Slack mention (`<@U123>`, `<@U123|name>`, `@U123`) -> the person's user key."""
    match = _USER.match(word)
    if not match:
        raise InvalidRequest(messages.bad_setting_value("user", word, messages.HINT_MENTION))
    return f"{PLATFORM}:{team}:{match.group(1) or match.group(2)}"


def _ts(ts: str) -> Any:
    try:
        return float(ts)
    except ValueError:
        return float("inf")

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
privately; the rules and wording live in bot/conversation/community.py and bot/messages.py.
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
from bot.errors import InvalidRequest, SeedbotError
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
        try:
            text = await self.admin(who, words[1:])
        except SeedbotError as exc:
            log.info("slack: %s refused admin %s: %s", who.key, " ".join(words[1:3]), exc)
            text = exc.user_text
        await reply.say(text)
        return True

    async def admin(self, who: Requester, words: list[str]) -> str:
        admin = self.conversation.admin
        team = who.workspace_id or ""
        area = words[0].lower() if words else "help"
        if area == "stats":
            return await admin.stats(who)
        if area in ("style", "styles"):
            return await admin.style_command(who, " ".join(words[1:]))
        if area == "settings":
            if len(words) == 1:
                return await admin.settings_show(who)
            return await admin.settings_set(who, words[1], " ".join(words[2:]))
        if area == "quota" and len(words) >= 3:
            action, target = words[1].lower(), self._user(team, words[2])
            rest = words[3:]
            if action == "show":
                return await admin.quota_show(who, target)
            if action == "reset":
                return await admin.quota_reset(who, target)
            if action in ("block", "unblock"):
                return await admin.quota_block(who, target, action == "block")
            if action == "grant" and len(rest) == 1 and rest[0].isdigit():
                return await admin.quota_grant(who, target, int(rest[0]))
            if action == "set" and rest:
                limits = _limits(rest)
                return await admin.quota_set(
                    who, target, daily=limits.get("daily"), monthly=limits.get("monthly")
                )
        admin.may_manage(who, target_is_member=True)  # help is for admins too
        return messages.admin_help("/imagine")

    @staticmethod
    def _user(team: str, word: str) -> str:
        match = _USER.match(word)
        if not match:
            raise InvalidRequest(messages.bad_setting_value("user", word, "mention someone, like @someone"))
        return f"{PLATFORM}:{team}:{match.group(1) or match.group(2)}"

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


def _limits(words: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for word in words:
        key, sep, value = word.partition("=")
        if not sep or key.lower() not in ("daily", "monthly") or not value.isdigit():
            raise InvalidRequest(messages.bad_setting_value("quota set", word, "daily=N and/or monthly=N"))
        out[key.lower()] = int(value)
    return out


def _ts(ts: str) -> Any:
    try:
        return float(ts)
    except ValueError:
        return float("inf")

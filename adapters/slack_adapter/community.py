"""Slack's side of the community features: `history` and `admin ...` (as `/imagine <words>` or
`@seedbot <words>`), and the Info button under results.

    /imagine history                                  your last 10 jobs, with permalinks
    /imagine admin quota show|reset|block|unblock @user
    /imagine admin quota set @user daily=N monthly=N
    /imagine admin quota grant @user N                extra images today
    /imagine admin settings [KEY VALUE]               show, or change one setting
    /imagine admin stats

Admins are the SEEDBOT_ADMINS entries (slack:<team>:<user>): Slack gives apps no reliable
"workspace admin" flag for the person typing, so nothing else counts. Everything is answered
privately; the rules and wording live in bot/conversation/community.py and bot/messages.py.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError

from bot import messages
from bot.conversation.community import NotAdmin
from bot.errors import InvalidRequest, SeedbotError
from bot.request.models import Job

if TYPE_CHECKING:
    from adapters.slack_adapter.handlers import Origin, SlackHandlers

__all__ = ["SlackCommunity"]

log = logging.getLogger(__name__)

PLATFORM = "slack"
_USER = re.compile(r"^<@([A-Z0-9]+)(?:\|[^>]*)?>$|^@?([UW][A-Z0-9]{2,})$")


class SlackCommunity:
    def __init__(self, handlers: SlackHandlers) -> None:
        self.handlers = handlers
        self.engine = handlers.engine
        self.community = handlers.engine.community

    async def text_command(self, origin: Origin, raw: str, prefix: str) -> bool:
        """Answer `history` / `admin ...` (raw Slack text, bot mention removed); False if the
        text is something else (a prompt)."""
        words = raw.split()
        first = words[0].lower() if words else ""
        if first == "history":
            await self.handlers.ephemeral(
                origin, await self.community.history(origin.requester, self.permalink)
            )
            return True
        if first != "admin":
            return False
        try:
            text = await self.admin(origin, words[1:], prefix)
        except SeedbotError as exc:
            text = exc.user_text
        await self.handlers.ephemeral(origin, text)
        return True

    async def admin(self, origin: Origin, words: list[str], prefix: str) -> str:
        requester = origin.requester
        if not self.engine.is_admin(requester):
            log.info("slack: %s refused admin %s (not in SEEDBOT_ADMINS)", requester.key, " ".join(words[:2]))
            raise NotAdmin(messages.NOT_ADMIN_SLACK)
        team = requester.workspace_id or ""
        workspace = f"{PLATFORM}:{team}"
        actor = requester.key
        area = words[0].lower() if words else "help"
        c = self.community
        if area == "stats":
            return await c.stats(workspace)
        if area == "settings":
            if len(words) == 1:
                return await c.settings_show(workspace)
            return await c.settings_set(actor, workspace, words[1], " ".join(words[2:]))
        if area == "quota" and len(words) >= 3:
            action, target = words[1].lower(), self._user(team, words[2])
            rest = words[3:]
            if action == "show":
                return await c.quota_show(target)
            if action == "reset":
                return await c.quota_reset(actor, target)
            if action in ("block", "unblock"):
                return await c.quota_block(actor, target, action == "block")
            if action == "grant" and len(rest) == 1 and rest[0].isdigit():
                return await c.quota_grant(actor, target, int(rest[0]))
            if action == "set" and rest:
                limits = _limits(rest)
                return await c.quota_set(
                    actor, target, daily=limits.get("daily"), monthly=limits.get("monthly")
                )
        return messages.admin_help(prefix)

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
            response = await self.handlers.client.chat_getPermalink(channel=job.channel_id, message_ts=first)
        except SlackApiError as exc:
            log.info("slack: no permalink for job %s: %s", job.id, exc.response.get("error"))
            return None
        link = response.get("permalink")
        return str(link) if link else None

    async def info(self, origin: Origin, job_id: str) -> None:
        job = await self.handlers.ledger.get_job(job_id) if job_id else None
        if job is None or job.platform != PLATFORM:
            await self.handlers.ephemeral(origin, messages.NOT_A_RESULT)
            return
        await self.handlers.ephemeral(origin, await self.community.lineage(job))


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

"""Links to results in Slack: the permalink of a job's first result message (History's lines,
the Home tab)."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.request.models import Job

__all__ = ["Permalinks"]

log = logging.getLogger(__name__)


class Permalinks:
    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def __call__(self, job: Job) -> str | None:
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


def _ts(ts: str) -> float:
    try:
        return float(ts)
    except ValueError:
        return float("inf")

"""A Slack user's language: `users.info` with `include_locale=true` ("ja-JP", "pt-BR"; needs
the users:read scope), remembered for an hour so a busy channel costs one call per person
an hour. A user Slack won't describe (an error, a missing scope) is answered in English.

Slack has no workspace language: everything seedbot says in answer to a person is in theirs.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

__all__ = ["CACHE_SIZE", "CACHE_TTL", "UserLocales"]

log = logging.getLogger(__name__)

CACHE_TTL = 3600.0  # seconds a person's language is remembered
CACHE_SIZE = 10_000  # people remembered at most (the least recently asked go first)


class UserLocales:
    def __init__(self, client: AsyncWebClient, *, ttl: float = CACHE_TTL, size: int = CACHE_SIZE) -> None:
        self.client = client
        self.ttl = ttl
        self.size = size
        self._known: OrderedDict[str, tuple[float, str | None]] = OrderedDict()

    async def of(self, user: str) -> str | None:
        """The Slack locale of `user` ("ja-JP"), None when Slack does not say."""
        if not user:
            return None
        now = time.monotonic()
        known = self._known.get(user)
        if known is not None and now - known[0] < self.ttl:
            self._known.move_to_end(user)
            return known[1]
        locale: str | None = None
        try:
            response = await self.client.users_info(user=user, include_locale=True)
            info = response.get("user")
            if isinstance(info, dict) and isinstance(info.get("locale"), str):
                locale = str(info["locale"])
        except SlackApiError as exc:
            log.info("slack: no locale for %s: %s", user, exc.response.get("error"))
        except Exception as exc:  # Slack unreachable for a moment: English now, ask again next time
            log.info("slack: no locale for %s: %s", user, type(exc).__name__)
            return None
        self._known[user] = (now, locale)
        self._known.move_to_end(user)
        while len(self._known) > self.size:
            self._known.popitem(last=False)
        return locale

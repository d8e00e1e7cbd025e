"""What seedbot knows of a Slack user, from one `users.info` call with `include_locale=true`
(needs the users:read scope), remembered for an hour so a busy channel costs one call per person
an hour:

- their language ("ja-JP", "pt-BR"): Slack has no workspace language, so everything seedbot says
  in answer to a person is in theirs; a user Slack won't describe is answered in English (and
  one Slack failed to describe for a moment, this once: they are asked about again);
- the name a mention of them shows (`@Bob`): a message carries only `<@U0BOB>`, and a prompt that
  names a colleague keeps the name, as on Discord, instead of losing the word.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

__all__ = ["CACHE_SIZE", "CACHE_TTL", "PERMANENT_ERRORS", "SlackUsers"]

log = logging.getLogger(__name__)

CACHE_TTL = 3600.0  # seconds a person is remembered
CACHE_SIZE = 10_000  # people remembered at most (the least recently asked go first)

# users.info answers that won't change within the hour (the person, or the token's scopes): only
# these are remembered as "nothing known"; any other failure may pass, and is asked again.
PERMANENT_ERRORS = frozenset(
    {
        "user_not_found",
        "user_not_visible",
        "missing_scope",
        "no_permission",
        "not_allowed_token_type",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "ekm_access_denied",
    }
)


@dataclass(frozen=True, slots=True)
class _Known:
    at: float
    locale: str | None
    name: str | None


class SlackUsers:
    def __init__(self, client: AsyncWebClient, *, ttl: float = CACHE_TTL, size: int = CACHE_SIZE) -> None:
        self.client = client
        self.ttl = ttl
        self.size = size
        self._known: OrderedDict[str, _Known] = OrderedDict()

    async def locale(self, user: str) -> str | None:
        """The Slack locale of `user` ("ja-JP"), None when Slack does not say."""
        known = await self._about(user)
        return known.locale if known else None

    async def name(self, user: str) -> str | None:
        """The name Slack shows for `user` (their display name, else their full name)."""
        known = await self._about(user)
        return known.name if known else None

    async def _about(self, user: str) -> _Known | None:
        if not user:
            return None
        now = time.monotonic()
        known = self._known.get(user)
        if known is not None and now - known.at < self.ttl:
            self._known.move_to_end(user)
            return known
        locale: str | None = None
        name: str | None = None
        try:
            response = await self.client.users_info(user=user, include_locale=True)
            info = response.get("user")
            if isinstance(info, dict):
                locale = info["locale"] if isinstance(info.get("locale"), str) else None
                profile = info.get("profile")
                profile = profile if isinstance(profile, dict) else {}
                for shown in (profile.get("display_name"), profile.get("real_name"), info.get("real_name")):
                    if isinstance(shown, str) and shown.strip():
                        name = shown.strip()
                        break
        except SlackApiError as exc:
            error = exc.response.get("error")
            log.info("slack: nothing known of %s: %s", user, error or f"HTTP {exc.response.status_code}")
            if error not in PERMANENT_ERRORS:  # internal_error, ratelimited, a 5xx: ask again next time
                return None
        except Exception as exc:  # Slack unreachable for a moment: ask again next time
            log.info("slack: nothing known of %s: %s", user, type(exc).__name__)
            return None
        known = _Known(now, locale, name)
        self._known[user] = known
        self._known.move_to_end(user)
        while len(self._known) > self.size:
            self._known.popitem(last=False)
        return known

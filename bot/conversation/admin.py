"""Admin actions, checked once for every surface (and the CLI, which has its own operator).

Each takes the admin as a Requester: the policy decides whether they may (SEEDBOT_ADMINS, or
someone who manages this server or workspace) and which workspace they act on. A surface with
typed commands calls the actions; one where admins type words (`admin quota grant @u 5`) hands
the words to `words()`, with how to read a person's mention there. Channels named in a
setting are read by the surface too (`channel`): a name it can't turn into an id is refused
rather than stored, where it would match no channel and lock every request out.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable

from bot import messages
from bot.conversation.community import Community
from bot.conversation.policy import Policy
from bot.conversation.styles import Styles
from bot.errors import InvalidRequest, SeedbotError
from bot.numbers import whole_number
from bot.request.models import Requester
from bot.request.workspace import SETTING_KEYS, clears, workspace_key

__all__ = ["Admin"]

log = logging.getLogger(__name__)


# What may follow "admin" in a typed command (Admin._words reads each).
ADMIN_AREAS = frozenset({"stats", "style", "styles", "settings", "quota", "help"})


class Admin:
    def __init__(
        self,
        community: Community,
        policy: Policy,
        styles: Styles | None = None,
        *,
        channel: Callable[[Requester, str], str],
        link: Callable[[Requester, str], str],
    ) -> None:
        self.community = community
        self.policy = policy
        self.styles = styles or Styles(community.ledger)
        # A channel named in typed words -> its id on the admin's surface (InvalidRequest: it
        # names none there).
        self.channel = channel
        # A channel id -> how the admin's surface writes it (a link where it has them).
        self.link = link

    def _workspace(self, who: Requester) -> str:
        self.policy.may_administer(who)
        workspace = workspace_key(who)
        assert workspace is not None  # may_administer refuses requests from outside a workspace
        return workspace

    def may_manage(self, who: Requester, *, target_is_member: bool) -> None:
        self._workspace(who)
        self.policy.may_manage(who, target_is_member=target_is_member)

    async def quota_show(self, who: Requester, target: str) -> str:
        self._workspace(who)
        return await self.community.quota_show(target)

    async def quota_set(self, who: Requester, target: str, *, daily: int | None, monthly: int | None) -> str:
        self._workspace(who)
        self.policy.may_give(who, daily=daily, monthly=monthly)
        self.policy.may_lift(who, await self.community.ledger.quota(target), daily=daily, monthly=monthly)
        return await self.community.quota_set(
            who.key, target, daily=daily, monthly=monthly, by_operator=self.policy.is_operator(who)
        )

    async def quota_grant(self, who: Requester, target: str, images: int) -> str:
        self._workspace(who)
        self.policy.may_give(who, extra=True)
        return await self.community.quota_grant(who.key, target, images)

    async def quota_reset(self, who: Requester, target: str) -> str:
        self._workspace(who)
        self.policy.may_give(who, extra=True)  # today's use undone: that many images more
        return await self.community.quota_reset(who.key, target)

    async def quota_block(self, who: Requester, target: str, blocked: bool) -> str:
        self._workspace(who)
        if not blocked:
            self.policy.may_lift(who, await self.community.ledger.quota(target), unblock=True)
        return await self.community.quota_block(
            who.key, target, blocked, by_operator=self.policy.is_operator(who)
        )

    async def settings_show(self, who: Requester, key: str | None = None) -> str:
        """Every setting, or the one `key` names."""
        return await self.community.settings_show(self._workspace(who), lambda c: self.link(who, c), key)

    async def settings_set(self, who: Requester, key: str, value: str) -> str:
        workspace = self._workspace(who)
        if key.strip().lower() == "channels" and not clears(value):
            value = " ".join(self._channel(who, word) for word in re.split(r"[\s,]+", value.strip()) if word)
        return await self.community.settings_set(who.key, workspace, key, value, lambda c: self.link(who, c))

    def _channel(self, who: Requester, word: str) -> str:
        """A channel of `channels`: `here` is where the admin typed it (a thread's channel)."""
        here = who.parent_channel_id or who.channel_id
        if word.lower() == "here" and who.direct:  # stored, a DM would lock every channel out
            raise InvalidRequest(messages.bad_setting_value("channels", word, messages.HINT_HERE_DIRECT))
        if word.lower() == "here" and here is not None:
            return here
        return self.channel(who, word)

    async def stats(self, who: Requester) -> str:
        return await self.community.stats(self._workspace(who))

    async def answer(self, who: Requester, what: str, action: Callable[[Requester], Awaitable[str]]) -> str:
        """Run one admin action of `who` (`what`, for the log): its answer, or the refusal's text."""
        try:
            text = await action(who)
        except SeedbotError as exc:
            log.info("%s: %s by %s refused: %s", who.platform, what, who.key, exc)
            return exc.user_text
        log.info("%s: %s by %s", who.platform, what, who.key)
        return text

    async def words(self, who: Requester, words: list[str], person: Callable[[str], str], prefix: str) -> str:
        """The answer to `admin <words>` typed as text: `stats`, `settings [KEY VALUE]`,
        `quota show|reset|block|unblock|grant|set @user ...`, else the admin help (for admins
        only). `person` turns a mention into a user key (InvalidRequest if it is not one);
        `prefix` is how the surface's admin commands start, for the help. A refusal is the
        answer's text."""
        what = " ".join(["admin", *words[:2]])

        def named(word: str) -> str:  # "me": the admin typing (the playground names no one else)
            return who.key if word.lower() in ("me", "myself") else person(word)

        return await self.answer(who, what, lambda admin: self._words(admin, words, named, prefix))

    @staticmethod
    def said(words: list[str]) -> bool:
        """`admin` and one of its areas (or a word: an area mistyped, answered with the help);
        "admin dashboard UI mockup" is a prompt."""
        return (
            bool(words)
            and words[0].lower() == "admin"
            and (len(words) <= 2 or words[1].lower() in ADMIN_AREAS)
        )

    async def _words(
        self, who: Requester, words: list[str], person: Callable[[str], str], prefix: str
    ) -> str:
        area = words[0].lower() if words else "help"
        if area == "stats":
            return await self.stats(who)
        if area in ("style", "styles"):
            return await self.style_command(who, " ".join(words[1:]))
        if area == "settings":
            # `settings set KEY VALUE` and `settings show` too: the words of the slash commands
            # and the CLI (no setting is called either).
            rest = words[1:]
            if rest and rest[0].lower() == "set":
                rest = rest[1:]
            if not rest or rest[0].lower() == "show":
                return await self.settings_show(who)
            if len(rest) == 1:  # a setting's name alone shows it ('none' clears it: said in the help)
                return await self.settings_show(who, rest[0])
            return await self.settings_set(who, rest[0], " ".join(rest[1:]))
        if area == "quota" and len(words) >= 3:
            self._workspace(who)  # a non-admin hears that first, not what is wrong with the name
            action, target, rest = words[1].lower(), person(words[2]), words[3:]
            if action == "show":
                return await self.quota_show(who, target)
            if action == "reset":
                return await self.quota_reset(who, target)
            if action in ("block", "unblock"):
                return await self.quota_block(who, target, action == "block")
            images = whole_number(rest[0]) if action == "grant" and len(rest) == 1 else None
            if images is not None:
                return await self.quota_grant(who, target, images)
            if action == "set" and rest:
                limits = _limits(rest)
                return await self.quota_set(
                    who, target, daily=limits.get("daily"), monthly=limits.get("monthly")
                )
        self.may_manage(who, target_is_member=True)  # the help is for admins too
        return messages.admin_help(prefix, list(SETTING_KEYS), operator=self.policy.is_operator(who))

    # -- style presets ---------------------------------------------------------------------------

    async def style_command(self, who: Requester, text: str) -> str:
        """`list`, `add NAME words…`, `change NAME …`, `remove NAME`, `hide NAME` (typed words)."""
        return await self.styles.command(who.key, self._workspace(who), text)

    async def style_list(self, who: Requester) -> str:
        return await self.styles.listing_of(self._workspace(who))

    async def style_put(
        self,
        who: Requester,
        name: str,
        suffix: str,
        *,
        change: bool,
        aspect: str | None = None,
        resolution: str | None = None,
        model: str | None = None,
    ) -> str:
        return await self.styles.put(
            who.key,
            self._workspace(who),
            name,
            suffix,
            change=change,
            aspect=aspect,
            resolution=resolution,
            model=model,
        )

    async def style_remove(self, who: Requester, name: str) -> str:
        return await self.styles.remove(who.key, self._workspace(who), name)

    async def style_hide(self, who: Requester, name: str) -> str:
        return await self.styles.hide(who.key, self._workspace(who), name)


def _limits(words: list[str]) -> dict[str, int]:
    """`daily=N monthly=N` (either or both) -> {"daily": N, "monthly": N}."""
    out: dict[str, int] = {}
    for word in words:
        key, sep, value = word.partition("=")
        number = whole_number(value)
        if not sep or key.lower() not in ("daily", "monthly") or number is None:
            raise InvalidRequest(messages.bad_setting_value("quota set", word, messages.HINT_QUOTA_SET))
        out[key.lower()] = number
    return out

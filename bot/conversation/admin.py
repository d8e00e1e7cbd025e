"""Admin actions, checked once for every surface (and the CLI, which has its own operator).

Each takes the admin as a Requester: the policy decides whether they may (SEEDBOT_ADMINS, or
someone who manages this server or workspace) and which workspace they act on.
"""

from __future__ import annotations

from bot.conversation.community import Community
from bot.conversation.policy import Policy
from bot.conversation.styles import Styles
from bot.request.models import Requester
from bot.request.workspace import workspace_key

__all__ = ["Admin"]


class Admin:
    def __init__(self, community: Community, policy: Policy, styles: Styles | None = None) -> None:
        self.community = community
        self.policy = policy
        self.styles = styles or Styles(community.ledger)

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
        return await self.community.quota_set(who.key, target, daily=daily, monthly=monthly)

    async def quota_grant(self, who: Requester, target: str, images: int) -> str:
        self._workspace(who)
        return await self.community.quota_grant(who.key, target, images)

    async def quota_reset(self, who: Requester, target: str) -> str:
        self._workspace(who)
        return await self.community.quota_reset(who.key, target)

    async def quota_block(self, who: Requester, target: str, blocked: bool) -> str:
        self._workspace(who)
        return await self.community.quota_block(who.key, target, blocked)

    async def settings_show(self, who: Requester) -> str:
        return await self.community.settings_show(self._workspace(who))

    async def settings_set(self, who: Requester, key: str, value: str) -> str:
        return await self.community.settings_set(who.key, self._workspace(who), key, value)

    async def stats(self, who: Requester) -> str:
        return await self.community.stats(self._workspace(who))

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

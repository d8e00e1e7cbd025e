"""The workspace's rules at admission: its settings read from the ledger, the pool a request
draws on, and what a request costs (SEEDBOT_RESOLUTION_WEIGHTS). Free: every refusal here
comes before any charge."""

from __future__ import annotations

from bot import messages
from bot.config import Settings
from bot.errors import ChannelNotAllowed, InvalidRequest
from bot.ledger.base import Ledger, Pool
from bot.request.models import Requester
from bot.request.validation import ValidatedRequest
from bot.request.workspace import WorkspacePolicy, tier_of, workspace_key

__all__ = ["Workspaces"]


class Workspaces:
    def __init__(self, settings: Settings, ledger: Ledger) -> None:
        self.settings = settings
        self.ledger = ledger

    def weight(self, validated: ValidatedRequest) -> int:
        return self.settings.weight(tier_of(validated))

    async def policy(self, workspace: str | None) -> WorkspacePolicy:
        if not workspace:
            return WorkspacePolicy()
        return WorkspacePolicy.from_dict(await self.ledger.workspace_settings(workspace))

    async def policy_for(self, requester: Requester) -> WorkspacePolicy:
        return await self.policy(workspace_key(requester))

    async def defaults_for(self, requester: Requester) -> dict[str, object]:
        """Request defaults where the requester is: the bot's model, then the server's settings."""
        return self.defaults(await self.policy_for(requester))

    def defaults(self, policy: WorkspacePolicy, model: str | None = None) -> dict[str, object]:
        """Request defaults under a policy already read: the bot's model, then the server's,
        fitted to the model the request will be made with (`model`, when the person chose one;
        else the server's or the bot's)."""
        fit = model or policy.model or self.settings.model
        return {"model": self.settings.model, **policy.defaults(fit)}

    def pool_for(self, requester: Requester, policy: WorkspacePolicy) -> Pool | None:
        workspace = workspace_key(requester)
        if workspace is None or policy.pool is None:
            return None
        return Pool(f"pool:{workspace}", policy.pool)

    @staticmethod
    def enter(requester: Requester, policy: WorkspacePolicy) -> None:
        """The server lets seedbot answer where the requester is (checked before the request
        itself: in a channel the bot is not for, that is all there is to say)."""
        if not policy.allows(requester):
            raise ChannelNotAllowed()

    @staticmethod
    def admit(policy: WorkspacePolicy, validated: ValidatedRequest) -> None:
        """The server's rules for this valid request (free: before any charge)."""
        if policy.max_batch is not None and validated.count > policy.max_batch:
            raise InvalidRequest(messages.batch_too_large(validated.count, policy.max_batch))

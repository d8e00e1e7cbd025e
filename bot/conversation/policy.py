"""Who may do what, once for every surface.

- Re-roll, Variations, Edit and Upscale of a result, by button, form or reply: anyone who can
  see it, paying from their own quota; a server or workspace admin may restrict them to the
  person who made it (`buttons owner`). Admins may always.
- Delete: the person who made it, or an admin.
- Cancel a queued or running job: the person who asked for it, or an admin.
- Admin commands: an admin, inside a server or workspace. Quotas count everywhere, so more than
  the bot's limits is for operators only, and an operator's block or limits on a person are
  lifted by operators only (a server's admins may tighten them).

"Admin" is `SEEDBOT_ADMINS` everywhere, plus whoever manages the server or workspace the
request comes from (the surface says so in `Requester.manages_workspace`; on Discord that is
Manage Server).
"""

from __future__ import annotations

from bot import messages
from bot.config import Settings
from bot.errors import InvalidRequest, NotAdmin
from bot.ledger.base import QuotaStatus
from bot.request.models import Job, Requester

__all__ = ["Policy"]


class Policy:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def is_operator(self, who: Requester) -> bool:
        """A bot-wide admin (SEEDBOT_ADMINS): unlimited, may manage anyone."""
        return not who.named and self.settings.is_admin(who.key)

    def is_admin(self, who: Requester) -> bool:
        return self.is_operator(who) or (who.manages_workspace and not who.named)

    @staticmethod
    def result_here(who: Requester, job: Job | None) -> Job:
        """A job of this surface (ids from another surface are forged or stale)."""
        if job is None or job.platform != who.platform:
            raise InvalidRequest(messages.NOT_A_RESULT)
        return job

    def may_build_on(self, who: Requester, job: Job, buttons: str | None) -> None:
        """Re-roll, Variations, Edit of `job` by `who` (the workspace's `buttons` setting)."""
        if buttons == "owner" and job.user_key != who.key and not self.is_admin(who):
            raise InvalidRequest(messages.NOT_OWNER)

    def may_delete(self, who: Requester, job: Job) -> None:
        if job.user_key != who.key and not self.is_admin(who):
            raise InvalidRequest(messages.NOT_OWNER)

    def may_cancel(self, who: Requester, job: Job) -> None:
        if job.user_key != who.key and not self.is_admin(who):
            raise InvalidRequest(messages.CANCEL_NOT_OWNER)

    def may_administer(self, who: Requester) -> None:
        if not self.is_admin(who):
            raise NotAdmin()
        if not who.workspace_id or who.guest:
            raise InvalidRequest(messages.NEEDS_WORKSPACE)

    def may_give(
        self, who: Requester, *, daily: int | None = None, monthly: int | None = None, extra: bool = False
    ) -> None:
        """Quotas count on every server and workspace, paid with the operator's keys: only
        seedbot's operators give anyone more than the bot's limits (more images today, a day's
        use undone, a limit above SEEDBOT_DAILY_IMAGES / SEEDBOT_MONTHLY_IMAGES). A server's
        admins gave themselves, or each other, a million images a day; they may lower limits,
        block and unblock."""
        if self.is_operator(who):
            return
        limits = self.settings.daily_images, self.settings.monthly_images
        above = (daily is not None and daily > limits[0]) or (monthly is not None and monthly > limits[1])
        if extra or above:
            raise InvalidRequest(messages.only_operators_give(*limits))

    def may_lift(
        self,
        who: Requester,
        now: QuotaStatus,
        *,
        daily: int | None = None,
        monthly: int | None = None,
        unblock: bool = False,
    ) -> None:
        """An operator's block and limits on a person stand (`now.by_operator`): a server's
        admins may tighten them, not lift them. Quotas count on every server, so an abuser an
        operator blocked would add the bot to a server of their own and unblock themselves."""
        if self.is_operator(who) or not now.by_operator:
            return
        # (today's grant is in both limits, not in what was set)
        day_limit = None if now.day_limit is None else now.day_limit - now.granted
        month_limit = None if now.month_limit is None else now.month_limit - now.granted
        raised = (daily is not None and (day_limit is None or daily > day_limit)) or (
            monthly is not None and (month_limit is None or monthly > month_limit)
        )
        if raised or (unblock and now.blocked):
            raise InvalidRequest(messages.operator_limits_stand())

    def may_manage(self, who: Requester, *, target_is_member: bool) -> None:
        """Quotas follow a person everywhere: a server's admins change only their members'."""
        if not target_is_member and not self.is_operator(who):
            raise InvalidRequest(messages.not_a_member())

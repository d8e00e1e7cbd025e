"""Community features, once for every surface: usage, history and lineage, workspace settings
and pools, admin quota controls with an audit trail, stats.

Who may do these is policy.py's; the workspace's rules as values are bot/request/workspace.py,
read from the ledger by the engine's Workspaces. A workspace's daily pool is the quota_usage
row "pool:<workspace>".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot import messages
from bot.config import MAX_LIMIT, Settings
from bot.engine.admission import Workspaces
from bot.errors import InvalidRequest
from bot.ledger.base import Ledger, Pool
from bot.request.models import Job, JobStatus, Requester
from bot.request.validation import model_name
from bot.request.workspace import (
    MAX_GRANT,
    SETTING_KEYS,
    WorkspacePolicy,
    parse_setting,
    plain_channel,
    setting_key,
)

__all__ = ["MAX_GRANT", "SETTING_KEYS", "Community"]

HISTORY_SIZE = 10


@dataclass
class _Tally:
    jobs: int = 0
    images: int = 0
    by_user: dict[str, list[int]] = field(default_factory=dict)
    by_provider: dict[str, list[int]] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)


LinkFor = Callable[[Job], Awaitable[str | None]]


class Community:
    def __init__(self, settings: Settings, ledger: Ledger, workspaces: Workspaces | None = None) -> None:
        self.settings = settings
        self.ledger = ledger
        self.workspaces = workspaces or Workspaces(settings, ledger)

    # -- the workspace's rules (the engine's, shared) -------------------------------------------

    async def policy(self, workspace: str | None) -> WorkspacePolicy:
        return await self.workspaces.policy(workspace)

    async def policy_for(self, requester: Requester) -> WorkspacePolicy:
        return await self.workspaces.policy_for(requester)

    def pool_for(self, requester: Requester, policy: WorkspacePolicy) -> Pool | None:
        return self.workspaces.pool_for(requester, policy)

    # -- users: usage, history, lineage ----------------------------------------------------------------

    async def usage_text(self, requester: Requester, *, unlimited: bool, now: datetime | None = None) -> str:
        status = await self.ledger.quota(requester.key, unlimited=unlimited, now=now)
        lines = [status.summary()]
        policy = await self.policy_for(requester)
        pool = self.pool_for(requester, policy)
        if pool is not None and not status.blocked:
            used = await self.ledger.pool_used(pool.key, now=now)
            lines.append(messages.pool_left(used, pool.daily, status.day_resets))
        note = messages.weights_note(self.settings.resolution_weights)
        if note and not status.blocked:
            lines.append(note)
        return "\n".join(lines)

    async def fits(
        self, requester: Requester, cost: int, *, unlimited: bool, policy: WorkspacePolicy
    ) -> bool:
        """A free look ahead (the reservation stays the one that counts): room for `cost` units
        in the user's quota and the workspace's pool (`policy`: as admission read it)."""
        status = await self.ledger.quota(requester.key, unlimited=unlimited)
        if status.blocked or (status.left is not None and status.left < cost):
            return False
        pool = self.pool_for(requester, policy)
        if pool is None or unlimited:
            return True
        return await self.ledger.pool_used(pool.key) + cost <= pool.daily

    async def history(self, requester: Requester, link_for: LinkFor) -> str:
        jobs = await self.ledger.jobs_for_user(requester.key, limit=HISTORY_SIZE)
        lines = []
        for n, job in enumerate(jobs, start=1):
            lines.append(
                messages.history_line(
                    n,
                    when=_short_time(job.created_at),
                    prompt=job.prompt,
                    model=model_name(job.model),
                    size=str(job.request.get("size") or _asked_size(job.request)),
                    status=str(job.status),
                    images=job.images_delivered,
                    link=await link_for(job) if job.result_message_ids and not job.deleted_at else None,
                )
            )
        return messages.history(lines)

    async def working(self, requester: Requester, *, now: datetime | None = None) -> str:
        """The requester's jobs still waiting or being made, oldest first, with how long so far."""
        jobs = await self.ledger.jobs_for_user(requester.key, limit=HISTORY_SIZE * 2)
        moment = now or datetime.now(UTC)
        lines = [
            messages.working_line(job.prompt, str(job.status), _seconds_since(job.created_at, moment))
            for job in reversed(jobs)
            if job.status in (JobStatus.QUEUED, JobStatus.RUNNING)
        ]
        return messages.working(lines)

    async def recent_results(self, requester: Requester, limit: int) -> list[tuple[Job, str]]:
        """The requester's latest delivered results on their platform, newest first, each with
        when it was made (as history shows it)."""
        jobs = await self.ledger.jobs_for_user(requester.key, limit=HISTORY_SIZE * 2)
        found = [
            (job, _short_time(job.created_at))
            for job in jobs
            if job.platform == requester.platform and job.shows_result and job.result_message_ids
        ]
        return found[:limit]

    async def lineage(self, job: Job) -> str:
        inputs = await self.ledger.job_inputs(job.id)
        references = []
        for n, image in enumerate(inputs, start=1):
            if image.source.startswith("result:"):
                references.append(messages.reference_result(n, image.source.split(":", 1)[1]))
            elif image.source.startswith("cast:"):
                references.append(messages.reference_cast(n, image.source.split(":", 1)[1]))
            else:
                references.append(messages.reference_upload(n, image.name))
        if not inputs and job.request.get("image_count"):
            references.append(messages.references_expired(int(job.request["image_count"])))
        return messages.lineage(
            job_id=job.id,
            kind=job.kind,
            prompt=job.prompt,
            references=references,
            parent=job.parent_id,
            model=model_name(job.model),
            provider=job.provider,
            size=str(job.request.get("size") or _asked_size(job.request)),
            took=None if job.duration_ms is None else job.duration_ms / 1000,
            charged=job.images_delivered * job.weight,
            status=str(job.status),
            made_from=_upscaled_from(job) if job.kind == "upscale" else None,
            style=job.request.get("style"),
        )

    # -- admins: quotas --------------------------------------------------------------------------------

    async def quota_show(self, target: str) -> str:
        status = await self.ledger.quota(target, unlimited=self.settings.is_admin(target))
        return messages.quota_show(target, status.blocked, status.summary())

    async def quota_set(
        self, actor: str, target: str, *, daily: int | None, monthly: int | None, by_operator: bool = False
    ) -> str:
        for key, value in (("daily", daily), ("monthly", monthly)):
            if value is not None and not 0 <= value <= MAX_LIMIT:
                raise InvalidRequest(
                    messages.bad_setting_value(key, str(value), messages.limit_hint(0, MAX_LIMIT))
                )
        given = {key: value for key, value in (("daily", daily), ("monthly", monthly)) if value is not None}
        if given:  # only what was named: another admin's change of the other stays
            await self.ledger.set_limits(target, by_operator=by_operator, **given)
        now = await self.ledger.quota(target)
        detail = f"daily={(now.day_limit or 0) - now.granted} monthly={(now.month_limit or 0) - now.granted}"
        await self.ledger.record_audit(actor, "quota.set", target, detail)
        return messages.quota_changed(target, messages.limits_set(detail))

    async def quota_grant(self, actor: str, target: str, extra: int) -> str:
        if not 1 <= extra <= MAX_GRANT:
            raise InvalidRequest(
                messages.bad_setting_value("grant", str(extra), messages.limit_hint(1, MAX_GRANT))
            )
        total = await self.ledger.grant(target, extra)
        await self.ledger.record_audit(actor, "quota.grant", target, f"+{extra} today (total {total})")
        return messages.quota_changed(target, messages.granted_today(extra))

    async def quota_reset(self, actor: str, target: str) -> str:
        await self.ledger.reset_usage(target)
        await self.ledger.record_audit(actor, "quota.reset", target, "usage today and this month forgotten")
        return messages.quota_changed(target, messages.USAGE_RESET)

    async def quota_block(self, actor: str, target: str, blocked: bool, *, by_operator: bool = False) -> str:
        await self.ledger.set_blocked(target, blocked, by_operator=by_operator)
        action = "quota.block" if blocked else "quota.unblock"
        await self.ledger.record_audit(actor, action, target, "")
        return messages.quota_changed(target, messages.BLOCKED_NOW if blocked else messages.BLOCK_LIFTED)

    # -- admins: settings -----------------------------------------------------------------------------

    async def settings_show(
        self, workspace: str, channel: Callable[[str], str] = plain_channel, key: str | None = None
    ) -> str:
        """The workspace's settings (or the one `key` names), each channel as `channel` writes it
        where they are read."""
        keys = [setting_key(key)] if key is not None else SETTING_KEYS
        policy = await self.policy(workspace)
        return messages.settings_show(workspace, [(k, policy.shown(k, channel)) for k in keys])

    async def settings_set(
        self, actor: str, workspace: str, key: str, value: str, channel: Callable[[str], str] = plain_channel
    ) -> str:
        parsed = parse_setting(key, value)
        key = setting_key(key)

        def change(data: dict[str, Any]) -> dict[str, Any]:
            if parsed is None:
                data.pop(key, None)
            else:
                data[key] = parsed
            return WorkspacePolicy.from_dict(data).to_dict()

        policy = WorkspacePolicy.from_dict(await self.ledger.change_workspace_settings(workspace, change))
        await self.ledger.record_audit(actor, "settings.set", workspace, f"{key}={policy.audited(key)}")
        return messages.setting_changed(workspace, key, policy.shown(key, channel))

    # -- admins: stats ----------------------------------------------------------------------------------

    async def audit(self, target: str | None = None, limit: int = 20) -> str:
        """The newest admin changes (to one user or workspace), newest first: for operators."""
        entries = await self.ledger.audit_entries(target=target, limit=limit)
        return messages.audit_trail([(e.at, e.actor, e.action, e.target, e.detail) for e in entries], target)

    async def stats(self, workspace: str | None, *, now: datetime | None = None) -> str:
        now = (now or datetime.now(UTC)).astimezone(UTC)
        day_start = datetime(now.year, now.month, now.day, tzinfo=UTC)
        month_start = datetime(now.year, now.month, 1, tzinfo=UTC)
        platform, _, workspace_id = (workspace or "").partition(":")
        where = {"platform": platform or None, "workspace_id": workspace_id or None}
        today = _tally(await self.ledger.job_stats(day_start, **where))
        month = _tally(await self.ledger.job_stats(month_start, **where))
        return messages.stats(
            workspace or messages.EVERY_WORKSPACE,
            [
                (messages.PERIOD_TODAY, today.jobs, today.images),
                (messages.PERIOD_MONTH, month.jobs, month.images),
            ],
            _ranked(month.by_user),
            _ranked(month.by_provider),
            sorted(month.failures.items(), key=lambda kv: (-kv[1], kv[0])),
        )


def _tally(rows: list[Any]) -> _Tally:
    tally = _Tally()
    for row in rows:
        tally.jobs += row.jobs
        tally.images += row.images
        user = tally.by_user.setdefault(row.user_key, [0, 0])
        user[0] += row.jobs
        user[1] += row.images
        provider = tally.by_provider.setdefault(row.provider or "none", [0, 0])
        provider[0] += row.jobs
        provider[1] += row.images
        if row.status == "failed":
            kind = row.error_kind or "unknown"
            tally.failures[kind] = tally.failures.get(kind, 0) + row.jobs
    return tally


def _ranked(counts: dict[str, list[int]]) -> list[tuple[str, int, int]]:
    return sorted(((k, v[0], v[1]) for k, v in counts.items()), key=lambda r: (-r[2], -r[1], r[0]))


def _upscaled_from(job: Job) -> str:
    if job.parent_id and job.request.get("pick"):
        return messages.upscale_of(int(job.request["pick"]), job.parent_id)
    return messages.UPSCALED_UPLOAD  # an image the person sent with "upscale"


def _moment(iso: str) -> datetime | None:
    """A ledger timestamp in UTC (one written without a zone is UTC), or None if unreadable."""
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _seconds_since(iso: str, now: datetime) -> float:
    moment = _moment(iso)
    return 0.0 if moment is None else max(0.0, (now - moment).total_seconds())


def _short_time(iso: str) -> str:
    moment = _moment(iso)
    return iso if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")


def _asked_size(request: dict[str, Any]) -> str:
    if request.get("width") and request.get("height"):
        return f"{request['width']}x{request['height']}"
    return str(request.get("resolution") or "default")

"""Community features, once for every platform: history and lineage, per-server settings and
pools, admin quota controls with an audit trail, stats, and cost-weighted quotas.

Adapters decide *who* is an admin where (Discord adds Manage Server to SEEDBOT_ADMINS) and how
to show a link to a message; everything else (checks, wording, what is recorded) is here.

Workspaces are named "<platform>:<id>" ("discord:<guild id>", "slack:<team id>"); their daily
pool is the quota_usage row "pool:<workspace>".
"""

from __future__ import annotations

import math
import re
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot import messages
from bot.app.config import Settings
from bot.errors import ChannelNotAllowed, InvalidRequest, NotAdmin
from bot.ledger.base import Ledger, Pool
from bot.request.models import Job, Requester
from bot.request.validation import _TIER_SIDE, MAX_OUTPUTS, MODELS, ValidatedRequest, get_model

__all__ = [
    "SETTING_KEYS",
    "ChannelNotAllowed",
    "Community",
    "NotAdmin",
    "WorkspacePolicy",
    "parse_setting",
    "tier_of",
    "workspace_key",
]

HISTORY_SIZE = 10
SETTING_KEYS = ("model", "resolution", "watermark", "format", "channels", "pool", "max_batch", "buttons")
# Who may press Re-roll, Variations and Edit on a result: anyone (paying for it), or its owner.
BUTTON_RULES = ("anyone", "owner")
_CLEAR = {"none", "off", "default", "clear", "-", ""}
_CHANNEL = re.compile(r"<#([A-Za-z0-9]+)(?:\|[^>]*)?>|#?([A-Za-z0-9]+)")


def workspace_key(requester: Requester) -> str | None:
    """The workspace whose pool and settings apply (None: only the person's own quota; a guest
    brought the bot along themselves, so the workspace's rules are not theirs to follow)."""
    if requester.guest or not requester.workspace_id:
        return None
    return f"{requester.platform}:{requester.workspace_id}"


def tier_of(validated: ValidatedRequest) -> str:
    """The resolution tier a request is charged as: its tier, or for an explicit size the tier
    nearest in pixels."""
    if validated.tier:
        return validated.tier
    pixels = validated.width * validated.height
    return min(_TIER_SIDE, key=lambda t: abs(math.log(pixels / _TIER_SIDE[t] ** 2)))


@dataclass(frozen=True, slots=True)
class WorkspacePolicy:
    """A server's or workspace's settings (None / empty: the bot-wide default)."""

    model: str | None = None
    resolution: str | None = None
    watermark: bool | None = None
    format: str | None = None
    channels: tuple[str, ...] = ()
    pool: int | None = None  # shared images per day
    max_batch: int | None = None
    buttons: str | None = None  # BUTTON_RULES; None: anyone

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WorkspacePolicy:
        known = {k: v for k, v in data.items() if k in SETTING_KEYS}
        if "channels" in known:
            known["channels"] = tuple(known["channels"] or ())
        return cls(**known)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["channels"] = list(self.channels)
        return {k: v for k, v in out.items() if v not in (None, [])}

    def defaults(self) -> dict[str, object]:
        """Request defaults for compose_new (flags the user types still win)."""
        out: dict[str, object] = {}
        if self.model:
            out["model"] = self.model
        if self.resolution:
            if "x" in self.resolution:
                w, _, h = self.resolution.partition("x")
                out["width"], out["height"] = int(w), int(h)
            else:
                out["resolution"] = self.resolution
        if self.watermark is not None:
            out["watermark"] = self.watermark
        if self.format:
            out["output_format"] = self.format
        return out

    def allows(self, requester: Requester) -> bool:
        if not self.channels:
            return True
        return requester.channel_id in self.channels or (
            requester.parent_channel_id is not None and requester.parent_channel_id in self.channels
        )

    def shown(self, key: str) -> str:
        value = getattr(self, key)
        if key == "channels":
            return ", ".join(f"<#{c}>" for c in value) if value else "everywhere"
        if value is None:
            if key == "buttons":
                return "anyone"
            return "default" if key != "pool" and key != "max_batch" else "no limit"
        if isinstance(value, bool):
            return "on" if value else "off"
        return str(value)


def parse_setting(key: str, value: str) -> Any:
    """A setting's value from what an admin typed; None clears it. Raises InvalidRequest."""
    key = key.strip().lower().replace("-", "_")
    if key == "output_format":
        key = "format"
    if key not in SETTING_KEYS:
        raise InvalidRequest(messages.bad_setting(key, list(SETTING_KEYS)))
    raw = value.strip()
    if raw.lower() in _CLEAR:
        return None
    if key == "model":
        return get_model(raw).key
    if key == "resolution":
        text = raw.upper()
        tiers = sorted({t for spec in MODELS.values() for t in spec.tiers})
        if text in tiers:
            return text
        match = re.fullmatch(r"(\d{3,5})X(\d{3,5})", text)
        if match:
            return f"{int(match.group(1))}x{int(match.group(2))}"
        raise InvalidRequest(messages.bad_setting_value(key, raw, f"one of {', '.join(tiers)} or WxH"))
    if key == "watermark":
        if raw.lower() in ("on", "yes", "true", "1"):
            return True
        if raw.lower() in ("no", "false", "0"):
            return False
        raise InvalidRequest(messages.bad_setting_value(key, raw, "on or off"))
    if key == "format":
        text = "jpeg" if raw.lower() == "jpg" else raw.lower()
        if text not in ("jpeg", "png"):
            raise InvalidRequest(messages.bad_setting_value(key, raw, "jpeg or png"))
        return text
    if key == "buttons":
        if raw.lower() not in BUTTON_RULES:
            raise InvalidRequest(messages.bad_setting_value(key, raw, " or ".join(BUTTON_RULES)))
        return raw.lower()
    if key == "channels":
        ids = [m.group(1) or m.group(2) for m in _CHANNEL.finditer(raw.replace(",", " "))]
        if not ids:
            raise InvalidRequest(messages.bad_setting_value(key, raw, "a list of channels"))
        return list(dict.fromkeys(ids))
    if not raw.isdigit():
        raise InvalidRequest(messages.bad_setting_value(key, raw, "a whole number, or none"))
    number = int(raw)
    if key == "max_batch" and not 1 <= number <= MAX_OUTPUTS:
        raise InvalidRequest(messages.bad_setting_value(key, raw, f"a number from 1 to {MAX_OUTPUTS}"))
    return number


@dataclass
class _Tally:
    jobs: int = 0
    images: int = 0
    by_user: dict[str, list[int]] = field(default_factory=dict)
    by_provider: dict[str, list[int]] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)


LinkFor = Callable[[Job], Awaitable[str | None]]


class Community:
    def __init__(self, settings: Settings, ledger: Ledger) -> None:
        self.settings = settings
        self.ledger = ledger

    # -- weights -----------------------------------------------------------------------------------

    def weight(self, validated: ValidatedRequest) -> int:
        return self.settings.weight(tier_of(validated))

    def cost(self, validated: ValidatedRequest) -> int:
        return self.weight(validated) * validated.count

    # -- workspace policy ----------------------------------------------------------------------------

    async def policy(self, workspace: str | None) -> WorkspacePolicy:
        if not workspace:
            return WorkspacePolicy()
        return WorkspacePolicy.from_dict(await self.ledger.workspace_settings(workspace))

    async def policy_for(self, requester: Requester) -> WorkspacePolicy:
        return await self.policy(workspace_key(requester))

    async def defaults_for(self, requester: Requester) -> dict[str, object]:
        """Request defaults where the requester is: the bot's model, then the server's settings."""
        policy = await self.policy_for(requester)
        return {"model": self.settings.model, **policy.defaults()}

    def pool_for(self, requester: Requester, policy: WorkspacePolicy) -> Pool | None:
        workspace = workspace_key(requester)
        if workspace is None or policy.pool is None:
            return None
        return Pool(f"pool:{workspace}", policy.pool)

    def admit(self, requester: Requester, policy: WorkspacePolicy, validated: ValidatedRequest) -> None:
        """The server's rules for this request (free: before any charge)."""
        if not policy.allows(requester):
            raise ChannelNotAllowed()
        if policy.max_batch is not None and validated.count > policy.max_batch:
            raise InvalidRequest(messages.batch_too_large(validated.count, policy.max_batch))

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

    async def fits(self, requester: Requester, cost: int, *, unlimited: bool) -> bool:
        """A free look ahead (the reservation stays the one that counts): room for `cost` units
        in the user's quota and the server's pool."""
        status = await self.ledger.quota(requester.key, unlimited=unlimited)
        if status.blocked or (status.left is not None and status.left < cost):
            return False
        pool = self.pool_for(requester, await self.policy_for(requester))
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
                    model=_model_name(job.model),
                    size=str(job.request.get("size") or _asked_size(job.request)),
                    status=str(job.status),
                    images=job.images_delivered,
                    link=await link_for(job) if job.result_message_ids else None,
                )
            )
        return messages.history(lines)

    async def lineage(self, job: Job) -> str:
        inputs = await self.ledger.job_inputs(job.id)
        references = []
        for n, image in enumerate(inputs, start=1):
            if image.source.startswith("result:"):
                references.append(messages.reference_result(n, image.source.split(":", 1)[1]))
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
            model=_model_name(job.model),
            provider=job.provider,
            size=str(job.request.get("size") or _asked_size(job.request)),
            took=None if job.duration_ms is None else job.duration_ms / 1000,
            charged=job.images_delivered * int(job.request.get("weight") or 1),
            status=str(job.status),
        )

    # -- admins: quotas --------------------------------------------------------------------------------

    async def quota_show(self, target: str) -> str:
        status = await self.ledger.quota(target, unlimited=self.settings.is_admin(target))
        return messages.quota_show(target, status.blocked, status.summary())

    async def quota_set(self, actor: str, target: str, *, daily: int | None, monthly: int | None) -> str:
        current = await self.ledger.quota(target)
        new_daily = daily if daily is not None else (current.day_limit or 0) - current.granted
        new_monthly = monthly if monthly is not None else current.month_limit
        await self.ledger.set_limits(target, daily=new_daily, monthly=new_monthly)
        detail = f"daily={new_daily} monthly={new_monthly}"
        await self.ledger.record_audit(actor, "quota.set", target, detail)
        return messages.quota_changed(target, f"Limits set: {detail}")

    async def quota_grant(self, actor: str, target: str, extra: int) -> str:
        if extra < 1:
            raise InvalidRequest(messages.bad_setting_value("grant", str(extra), "a number of 1 or more"))
        total = await self.ledger.grant(target, extra)
        await self.ledger.record_audit(actor, "quota.grant", target, f"+{extra} today (total {total})")
        return messages.quota_changed(target, f"Granted {messages.plural(extra, 'extra image')} today")

    async def quota_reset(self, actor: str, target: str) -> str:
        await self.ledger.reset_usage(target)
        await self.ledger.record_audit(actor, "quota.reset", target, "usage today and this month forgotten")
        return messages.quota_changed(target, "Usage reset")

    async def quota_block(self, actor: str, target: str, blocked: bool) -> str:
        await self.ledger.set_blocked(target, blocked)
        action = "quota.block" if blocked else "quota.unblock"
        await self.ledger.record_audit(actor, action, target, "")
        return messages.quota_changed(target, "Blocked" if blocked else "Block lifted")

    # -- admins: settings -----------------------------------------------------------------------------

    async def settings_show(self, workspace: str) -> str:
        policy = await self.policy(workspace)
        return messages.settings_show(workspace, [(k, policy.shown(k)) for k in SETTING_KEYS])

    async def settings_set(self, actor: str, workspace: str, key: str, value: str) -> str:
        parsed = parse_setting(key, value)
        key = key.strip().lower().replace("-", "_")
        key = "format" if key == "output_format" else key
        data = await self.ledger.workspace_settings(workspace)
        if parsed is None:
            data.pop(key, None)
        else:
            data[key] = parsed
        policy = WorkspacePolicy.from_dict(data)
        await self.ledger.set_workspace_settings(workspace, policy.to_dict())
        shown = policy.shown(key)
        await self.ledger.record_audit(actor, "settings.set", workspace, f"{key}={shown}")
        return messages.setting_changed(workspace, key, shown)

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
            workspace or "every workspace",
            [("Today", today.jobs, today.images), ("This month", month.jobs, month.images)],
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


def _short_time(iso: str) -> str:
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _model_name(key: str) -> str:
    try:
        return get_model(key).name
    except InvalidRequest:
        return key


def _asked_size(request: dict[str, Any]) -> str:
    if request.get("width") and request.get("height"):
        return f"{request['width']}x{request['height']}"
    return str(request.get("resolution") or "default")

"""A server's or workspace's rules, as values: its settings (defaults, allowed channels, batch
size, the shared pool, who may press buttons), how an admin's words become a setting, and the
resolution tier a request is charged as. Workspaces are named "<platform>:<id>"."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from bot import messages
from bot.config import MAX_LIMIT
from bot.errors import InvalidRequest
from bot.numbers import whole_number
from bot.request.models import Requester
from bot.request.validation import (
    _TIER_SIDE,
    MAX_OUTPUTS,
    MODELS,
    ValidatedRequest,
    get_model,
)

__all__ = [
    "BUTTON_RULES",
    "MAX_GRANT",
    "SETTING_KEYS",
    "WorkspacePolicy",
    "clears",
    "parse_setting",
    "plain_channel",
    "setting_key",
    "tier_of",
    "workspace_key",
]

SETTING_KEYS = ("model", "resolution", "watermark", "format", "channels", "pool", "max_batch", "buttons")
# The numbers an admin sets, on every surface (Discord's options declare the same ranges): a
# limit or pool 0 (none through) to MAX_LIMIT (bot.config, which holds the defaults to it too),
# and extra images for today.
MAX_GRANT = 10_000
# Who may press Re-roll, Variations and Edit on a result: anyone (paying for it), or its owner.
BUTTON_RULES = ("anyone", "owner")
_CLEAR = {"none", "off", "default", "clear", "-", ""}
_CHANNEL = re.compile(r"<#([A-Za-z0-9]+)(?:\|[^>]*)?>|#?([A-Za-z0-9]+)")


def plain_channel(channel: str) -> str:
    """A channel written where it can't be linked (the audit trail, the shell): #id."""
    return f"#{channel}"


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

    def defaults(self, fit: str | None = None) -> dict[str, object]:
        """Request defaults for compose_new (flags the user types still win). `fit`: the model
        the request will be made with; a resolution or format it doesn't make is left out (its
        own default then applies), since a default nobody typed must never refuse a request:
        `resolution 4K` with 5.0 lite refused every plain request, or any typed `--model 5.0-lite`."""
        spec = get_model(fit) if fit else None
        out: dict[str, object] = {}
        if self.model:
            out["model"] = self.model
        if self.resolution:
            if "x" in self.resolution:
                w, _, h = self.resolution.partition("x")
                if spec is None or spec.makes(int(w), int(h)):
                    out["width"], out["height"] = int(w), int(h)
            elif spec is None or self.resolution in spec.tiers:
                out["resolution"] = self.resolution
        if self.watermark is not None:
            out["watermark"] = self.watermark
        if self.format and (spec is None or self.format in spec.output_formats):
            out["output_format"] = self.format
        return out

    def allows(self, requester: Requester) -> bool:
        """The channel list admits the requester: an allowed channel, a thread of one, or a
        direct conversation with the bot (on Discord a DM has no server; on Slack the same rule)."""
        if not self.channels or requester.direct:
            return True
        return requester.channel_id in self.channels or (
            requester.parent_channel_id is not None and requester.parent_channel_id in self.channels
        )

    def audited(self, key: str) -> str:
        """`key`'s value in the audit trail: the same English whoever changed it, a channel
        as its id (#C123)."""
        return self._shown(key, plain_channel, lambda state: state)

    def shown(self, key: str, channel: Callable[[str], str]) -> str:
        """`key`'s value for an admin to read: what they would type (a number, a model, anyone,
        on/off) as typed, a state ("no limit") in the current language, and each channel as
        `channel` writes it where they read it (a link on Discord and Slack)."""
        return self._shown(key, channel, messages.setting_state)

    def _shown(self, key: str, channel: Callable[[str], str], state: Callable[[str], str]) -> str:
        value = getattr(self, key)
        if key == "channels":
            return ", ".join(channel(c) for c in value) if value else state("everywhere")
        if value is None:
            if key == "buttons":
                return "anyone"
            return state("no limit" if key in ("pool", "max_batch") else "default")
        if isinstance(value, bool):
            return "on" if value else "off"
        return str(value)


def clears(value: str) -> bool:
    """The value an admin typed clears the setting (`none`, `off`, `default`)."""
    return value.strip().lower() in _CLEAR


def setting_key(typed: str) -> str:
    """The setting an admin named (`Max-Batch`, `output_format` too). Raises InvalidRequest."""
    key = typed.strip().lower().replace("-", "_")
    key = "format" if key == "output_format" else key
    if key not in SETTING_KEYS:
        raise InvalidRequest(messages.bad_setting(key, list(SETTING_KEYS)))
    return key


def parse_setting(key: str, value: str) -> Any:
    """A setting's value from what an admin typed; None clears it. Raises InvalidRequest."""
    key = setting_key(key)
    raw = value.strip()
    if clears(raw):
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
            width, height = int(match.group(1)), int(match.group(2))
            # A size no model makes would refuse every request of the server until changed.
            if not any(spec.makes(width, height) for spec in MODELS.values()):
                widest = max(MODELS.values(), key=lambda spec: spec.max_pixels)
                raise InvalidRequest(
                    messages.size_out_of_range(
                        width, height, widest.name, widest.min_pixels, widest.max_pixels
                    )
                )
            return f"{width}x{height}"
        raise InvalidRequest(messages.bad_setting_value(key, raw, messages.hint_tiers(list(tiers))))
    if key == "watermark":
        if raw.lower() in ("on", "yes", "true", "1"):
            return True
        if raw.lower() in ("no", "false", "0"):
            return False
        raise InvalidRequest(messages.bad_setting_value(key, raw, messages.HINT_ON_OFF))
    if key == "format":
        text = "jpeg" if raw.lower() == "jpg" else raw.lower()
        if text not in ("jpeg", "png"):
            raise InvalidRequest(messages.bad_setting_value(key, raw, messages.HINT_JPEG_PNG))
        return text
    if key == "buttons":
        if raw.lower() not in BUTTON_RULES:
            raise InvalidRequest(
                messages.bad_setting_value(key, raw, messages.hint_one_of(list(BUTTON_RULES)))
            )
        return raw.lower()
    if key == "channels":
        ids = [m.group(1) or m.group(2) for m in _CHANNEL.finditer(raw.replace(",", " "))]
        if not ids:
            raise InvalidRequest(messages.bad_setting_value(key, raw, messages.HINT_CHANNELS))
        return list(dict.fromkeys(ids))
    number = whole_number(raw)
    if number is None:
        raise InvalidRequest(messages.bad_setting_value(key, raw, messages.HINT_WHOLE_OR_NONE))
    if key == "max_batch" and not 1 <= number <= MAX_OUTPUTS:
        raise InvalidRequest(messages.bad_setting_value(key, raw, messages.hint_batch(MAX_OUTPUTS)))
    if key == "pool" and number > MAX_LIMIT:
        raise InvalidRequest(messages.bad_setting_value(key, raw, messages.limit_hint(0, MAX_LIMIT)))
    return number

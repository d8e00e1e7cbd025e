"""Style presets, once for every surface: which styles a workspace offers, what one adds to a
request, and the admin commands that add, change, list, hide and remove them (audited).

A workspace's own style hides the built-in of the same name; a hidden row hides a built-in.
Requests from outside a workspace (DMs, a person's own install) see the built-ins.
"""

from __future__ import annotations

import shlex

from bot import messages
from bot.conversation.compose import option_fields
from bot.conversation.turns import Options
from bot.errors import FlagError, InvalidRequest
from bot.ledger.base import Ledger, StyleRow
from bot.request.flags import parse_text
from bot.request.models import Requester
from bot.request.styles import BUILTIN_STYLES, Style, check_name, close_names
from bot.request.validation import STYLE_WORDS_MAX_CHARS, clean_prompt
from bot.request.workspace import workspace_key

__all__ = ["STYLE_VERBS", "Styles"]


def _style(row: StyleRow) -> Style:
    return Style(row.name, row.suffix, row.aspect, row.resolution, row.model)


# The words of `admin style …` that change a style (`list` and `show` only read).
_PUT, _REMOVE, _HIDE = ("add", "change", "set", "edit"), ("remove", "delete", "rm"), "hide"
STYLE_VERBS = (*_PUT, *_REMOVE, _HIDE)


class Styles:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    async def available(self, workspace: str | None) -> dict[str, Style]:
        """Every style usable in `workspace`, by name."""
        rows = await self.ledger.styles(workspace) if workspace else []
        own = {row.name: row for row in rows}
        found = {name: style for name, style in BUILTIN_STYLES.items() if name not in own}
        found.update({row.name: _style(row) for row in rows if not row.hidden})
        return dict(sorted(found.items()))

    async def names(self, who: Requester) -> list[str]:
        """The style names `who` may pick (autocomplete, a form's select)."""
        return list(await self.available(workspace_key(who)))

    async def find(self, who: Requester, name: str) -> Style:
        """The style `name` where `who` asks, or a refusal that suggests close names (free)."""
        styles = await self.available(workspace_key(who))
        key = check_name(name, "style")
        if key not in styles:
            known = list(styles)
            raise FlagError(messages.unknown_style(key, close_names(key, known), known))
        return styles[key]

    @staticmethod
    def fields(style: Style) -> dict[str, object]:
        """A style's defaults as request fields (checked like the same options in a form)."""
        return {
            **option_fields(Options(style.aspect, style.resolution, model=style.model)),
            "style": style.name,
        }

    async def listing(self, who: Requester) -> str:
        styles = await self.available(workspace_key(who))
        if not styles:
            return messages.NO_STYLES
        return messages.styles_list(
            [
                messages.style_line(s.name, s.suffix, s.defaults_text(), "built-in" if s.builtin else "own")
                for s in styles.values()
            ]
        )

    # -- admins ----------------------------------------------------------------------------------

    async def command(self, actor: str, workspace: str, text: str, prefix: str = "admin") -> str:
        """`list`, `add NAME WORDS [--ar] [--res] [--model]`, `change NAME ...`, `remove NAME`,
        `hide NAME`: the same words on every surface and the CLI."""
        verb, _, rest = text.strip().partition(" ")
        verb = verb.lower()
        name, _, words = rest.strip().partition(" ")
        if verb in ("", "list", "show"):
            return await self.listing_of(workspace)
        if verb in _PUT and name:
            return await self.put(actor, workspace, name, words, change=verb != "add")
        if verb in _REMOVE and name and not words.strip():
            return await self.remove(actor, workspace, name)
        if verb == _HIDE and name and not words.strip():
            return await self.hide(actor, workspace, name)
        return messages.style_help(prefix)

    async def listing_of(self, workspace: str) -> str:
        styles = await self.available(workspace)
        hidden = [row.name for row in await self.ledger.styles(workspace) if row.hidden]
        lines = [
            messages.style_line(s.name, s.suffix, s.defaults_text(), "built-in" if s.builtin else "own")
            for s in styles.values()
        ]
        lines += [messages.style_hidden_line(name) for name in hidden]
        return messages.styles_list(lines) if lines else messages.NO_STYLES

    async def put(
        self,
        actor: str,
        workspace: str,
        name: str,
        words: str,
        *,
        change: bool,
        aspect: str | None = None,
        resolution: str | None = None,
        model: str | None = None,
    ) -> str:
        """Add (or with `change`, update what is given of) a workspace's style. `words` may carry
        --ar, --res and --model; the keyword values (a form's) win over them."""
        key = check_name(name, "style")
        parsed = parse_text(_quoted(words))
        if (
            parsed.count
            or parsed.output_format
            or parsed.watermark is not None
            or parsed.refs
            or parsed.style
        ):
            raise InvalidRequest(messages.STYLE_ONLY_DEFAULTS)
        size = f"{parsed.width}x{parsed.height}" if parsed.width else None
        given = {
            # Cleaned as a prompt is: the words join prompts, and PostgreSQL's text refuses a NUL.
            "suffix": clean_prompt(parsed.prompt) or None,
            "aspect": aspect or parsed.aspect,
            "resolution": resolution or parsed.resolution or size,
            "model": model or parsed.model,
        }
        Styles.fields(Style(key, "", given["aspect"], given["resolution"], given["model"]))  # checks them
        current = {row.name: row for row in await self.ledger.styles(workspace)}.get(key)
        base = _style(current) if current and not current.hidden else BUILTIN_STYLES.get(key)
        if change and base is None:
            raise InvalidRequest(messages.style_not_found(key))
        if not change and current is not None and not current.hidden:  # never replaced unasked
            raise InvalidRequest(messages.style_exists(key))
        if change and base is not None:
            merged = {
                "suffix": base.suffix,
                "aspect": base.aspect,
                "resolution": base.resolution,
                "model": base.model,
                **{k: v for k, v in given.items() if v},
            }
        else:
            merged = given
        if not merged["suffix"]:
            raise InvalidRequest(messages.STYLE_NEEDS_SUFFIX)
        if len(str(merged["suffix"])) > STYLE_WORDS_MAX_CHARS:
            raise InvalidRequest(
                messages.style_words_too_long(len(str(merged["suffix"])), STYLE_WORDS_MAX_CHARS)
            )
        row = StyleRow(
            key, str(merged["suffix"]), merged["aspect"], merged["resolution"], merged["model"], hidden=False
        )
        await self.ledger.put_style(workspace, row)
        style = _style(row)
        detail = f"{key}: {row.suffix} {style.defaults_text()}".strip()
        await self.ledger.record_audit(actor, "style.change" if change else "style.add", workspace, detail)
        return messages.style_changed(workspace, key, "changed" if change else "added")

    async def remove(self, actor: str, workspace: str, name: str) -> str:
        key = check_name(name, "style")
        if not await self.ledger.delete_style(workspace, key):
            raise InvalidRequest(messages.style_not_found(key))
        await self.ledger.record_audit(actor, "style.remove", workspace, key)
        return messages.style_changed(
            workspace, key, "removed-builtin" if key in BUILTIN_STYLES else "removed"
        )

    async def hide(self, actor: str, workspace: str, name: str) -> str:
        key = check_name(name, "style")
        if key not in BUILTIN_STYLES:
            raise InvalidRequest(messages.style_not_found(key))
        own = {row.name: row for row in await self.ledger.styles(workspace)}.get(key)
        if own is not None and not own.hidden:  # the marker would overwrite its words
            raise InvalidRequest(messages.style_hide_own(key))
        await self.ledger.put_style(workspace, StyleRow(key, hidden=True))
        await self.ledger.record_audit(actor, "style.hide", workspace, key)
        return messages.style_changed(workspace, key, "hidden")


def _quoted(words: str) -> str:
    """Words typed in quotes ("soft light, film grain") are the suffix too."""
    try:
        parts = shlex.split(words)
    except ValueError:
        return words
    return " ".join(parts)

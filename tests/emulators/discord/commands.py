"""Application commands: the bot's sync (PUT/GET), pre-seeding, lookup, and the checks Discord's
client makes before it lets a user run one (synced? visible here? permitted?).
"""

from __future__ import annotations

import copy
from typing import Any

from tests.emulators.discord.constants import GUILD_ID, _sid
from tests.emulators.discord.models import _ApiError, _Req
from tests.emulators.discord.permissions import PERMISSIONS


class CommandsMixin:
    """Synced application commands.

    A mixin of :class:`DiscordEmulator` (``emulator.py``); its state is set up in ``server.py``.
    """

    async def _r_put_commands(self, req: _Req) -> Any:
        if req.params["app_id"] != self.application_id:
            raise _ApiError(403, 50001, "Missing Access")
        gid = req.params.get("guild_id")
        if gid is not None and gid not in self.guilds:
            raise _ApiError(403, 50001, "Missing Access")
        self._validate_commands(req.body)
        previous = {(c.get("type", 1), c["name"]): c for c in self.commands.get(gid, [])}
        stored = []
        for cmd in req.body:
            old = previous.get((cmd.get("type", 1), cmd["name"]))
            out = copy.deepcopy(cmd)
            out.setdefault("type", 1)
            out.setdefault("description", "")  # context menus are sent without one
            out["id"] = old["id"] if old else self.snowflake()
            out["application_id"] = self.application_id
            out["version"] = self.snowflake()
            out.setdefault("default_member_permissions", None)
            out.setdefault("nsfw", False)
            if gid is not None:
                out["guild_id"] = gid
            stored.append(out)
        self.commands[gid] = stored
        return copy.deepcopy(stored)

    async def _r_get_commands(self, req: _Req) -> Any:
        return copy.deepcopy(self.commands.get(req.params.get("guild_id"), []))

    def register_commands(self, commands: list[dict[str, Any]], *, guild_id: str | int | None = None) -> None:
        """Pre-seed synced commands without a REST call (as if synced by an earlier run)."""
        gid = _sid(guild_id) if guild_id is not None else None
        stored = []
        for cmd in commands:
            out = copy.deepcopy(cmd)
            out.setdefault("type", 1)
            out.setdefault("description", "")
            out.setdefault("id", self.snowflake())
            out.setdefault("application_id", self.application_id)
            out.setdefault("version", self.snowflake())
            stored.append(out)
        self.commands[gid] = stored

    def find_command(
        self, name: str, *, type: int = 1, guild_id: str | int | None = GUILD_ID
    ) -> dict[str, Any] | None:
        """A synced command by name: guild-scoped first (if ``guild_id``), then global."""
        scopes: list[str | None] = [_sid(guild_id)] if guild_id is not None else []
        scopes.append(None)
        for scope in scopes:
            for cmd in self.commands.get(scope, []):
                if cmd["name"] == name and cmd.get("type", 1) == type:
                    return cmd
        return None

    def _check_command_visible(self, cmd: dict[str, Any], *, where: str, member_perms: int) -> None:
        """Would Discord's client offer this command here?  ``where``: "guild" (a server with the
        bot), "dm" (the bot's DM), "foreign" (a server without it: a user install) or "group" (a
        group DM: a user install).  ``contexts`` are interaction contexts (0 guild, 1 bot DM,
        2 private channel), ``integration_types`` installs (0 guild, 1 user; unset: the guild's)."""
        contexts = cmd.get("contexts")
        installs = cmd.get("integration_types")
        name = cmd["name"]
        if where in ("dm", "group", "foreign") and cmd.get("guild_id"):
            raise ValueError(f"/{name} is a guild command and cannot be used outside its server")
        if where in ("foreign", "group") and 1 not in (installs or [0]):
            raise ValueError(f"/{name} cannot be installed to users (integration_types={installs})")
        if where == "dm":
            if contexts is not None and 1 not in contexts:
                raise ValueError(f"/{name} is not available in bot DMs (contexts={contexts})")
            if contexts is None and cmd.get("dm_permission") is False:
                raise ValueError(f"/{name} has dm_permission=false")
        elif where == "group":
            if contexts is not None and 2 not in contexts:
                raise ValueError(f"/{name} is not available in group DMs (contexts={contexts})")
        else:
            if contexts is not None and 0 not in contexts:
                raise ValueError(f"/{name} is not available in guilds (contexts={contexts})")
            if where == "guild" and installs is not None and 0 not in installs:
                raise ValueError(f"/{name} is a user-install command only (integration_types={installs})")
            required = cmd.get("default_member_permissions")
            is_admin = bool(member_perms & PERMISSIONS["administrator"])
            if where == "guild" and required is not None and not is_admin and int(required) & ~member_perms:
                raise ValueError(f"member lacks default_member_permissions={required} for /{name}")

    def _command_for(
        self, name: str, ctype: int, *, dm: bool, guild_id: str = GUILD_ID
    ) -> dict[str, Any] | None:
        cmd = self.find_command(name, type=ctype, guild_id=None if dm else guild_id)
        if cmd is None and self.strict_commands:
            known = sorted(c["name"] for scope in self.commands.values() for c in scope)
            raise LookupError(
                f"command {name!r} (type {ctype}) has not been synced; call tree.sync() first "
                f"or emu.register_commands() (synced: {known}) or DiscordEmulator(strict_commands=False)"
            )
        return cmd

"""Users running commands: the INTERACTION_CREATE envelope, slash commands (options checked against
the synced schema and resolved), autocomplete and context-menu commands.
"""

from __future__ import annotations

import copy
import secrets
import time
from collections.abc import Mapping, Sequence
from typing import Any

from tests.emulators.discord.constants import (
    CT_GROUP_DM,
    CTX_BOT_DM,
    CTX_GUILD,
    CTX_PRIVATE_CHANNEL,
    GUILD_ID,
    GUILD_INSTALL,
    HUMAN_USER_ID,
    IT_APPLICATION_COMMAND,
    IT_AUTOCOMPLETE,
    LOCALES,
    TEXT_CHANNEL_ID,
    USER_INSTALL,
    _sid,
)
from tests.emulators.discord.models import EmulatedInteraction
from tests.emulators.discord.permissions import PERMISSIONS, RESPONSE_PERMISSIONS, _perm_bits


class InteractionsMixin:
    """Interactions a user sends.

    A mixin of :class:`DiscordEmulator` (``emulator.py``); its state is set up in ``server.py``.
    """

    def _interaction_envelope(
        self,
        itype: int,
        data: dict[str, Any] | None,
        *,
        user_id: str | int = HUMAN_USER_ID,
        channel_id: str | int | None = None,
        dm: bool = False,
        permissions: int | str | None = None,
        locale: str = "en-US",
        attachment_size_limit: int | None = None,
        message: dict[str, Any] | None = None,
        owners: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """An INTERACTION_CREATE payload.  Where the bot is not a member (a server of
        ``add_foreign_guild()``, a ``group_dm()``) it is a user install's: ``context`` 0 or 2,
        ``authorizing_integration_owners`` only ``{"1": <installing user>}`` (``owners`` overrides,
        e.g. a button pressed by someone else on that user's message) and ``app_permissions`` of an
        app without a bot user there (Discord's change log: @everyone's, limited to what an
        interaction response can use)."""
        if locale not in LOCALES:
            raise ValueError(f"{locale!r} is not a Discord locale")
        uid = _sid(user_id)
        token = "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48)
        env: dict[str, Any] = {
            "id": self.snowflake(),
            "application_id": self.application_id,
            "type": itype,
            "token": token,
            "version": 1,
            "locale": locale,
            "entitlements": [],
            "attachment_size_limit": attachment_size_limit or self.upload_limit,
        }
        if data is not None:
            env["data"] = data
        cid = _sid(channel_id) if channel_id is not None else None
        ch = self.channels.get(cid) if cid is not None else None
        if dm:
            ch = self.dm_channel(uid)
            env["channel_id"] = ch["id"]
            env["channel"] = copy.deepcopy(ch)
            env["user"] = self.user(uid)
            env["context"] = CTX_BOT_DM
            env["authorizing_integration_owners"] = dict(owners or {GUILD_INSTALL: "0"})
            env["app_permissions"] = str(
                _perm_bits(
                    [
                        "view_channel",
                        "send_messages",
                        "embed_links",
                        "attach_files",
                        "read_message_history",
                        "add_reactions",
                        "use_external_emojis",
                    ]
                )
            )
        elif ch is not None and ch["type"] == CT_GROUP_DM:
            if uid not in {u["id"] for u in ch["recipients"]}:
                raise ValueError(f"user {uid} is not in group DM {cid}")
            self._require_user_install()
            chan = {
                k: copy.deepcopy(ch[k]) for k in ("id", "type", "name", "flags", "last_message_id") if k in ch
            }
            chan["recipients"] = [u for u in copy.deepcopy(ch["recipients"]) if u["id"] != uid]
            env.update(
                channel_id=ch["id"],
                channel=chan,
                user=self.user(uid),
                context=CTX_PRIVATE_CHANNEL,
                authorizing_integration_owners=dict(owners or {USER_INSTALL: uid}),
                app_permissions=str(RESPONSE_PERMISSIONS & ~PERMISSIONS["use_external_emojis"]),
            )
        else:
            cid = cid if cid is not None else TEXT_CHANNEL_ID
            ch = self._channel_for_builder(cid)
            if uid not in self.members:
                raise ValueError(f"user {uid} is not a member of the guild; use add_user() or dm=True")
            perms = int(permissions) if permissions is not None else self.permissions_for(uid, cid)
            chan = copy.deepcopy(ch)
            chan["permissions"] = str(perms)
            gid = self._guild_of_channel(cid)
            foreign = gid in self.foreign_guilds
            if foreign:
                self._require_user_install()
                everyone = int(self.roles[gid]["permissions"])
                app_perms = everyone & RESPONSE_PERMISSIONS
                default_owners = {USER_INSTALL: uid}
            else:
                app_perms = self.permissions_for(self.bot_user_id, cid)
                default_owners = {GUILD_INSTALL: gid}
            env.update(
                guild_id=gid,
                guild={"id": gid, "locale": self.guild_locales.get(gid, "en-US"), "features": []},
                guild_locale=self.guild_locales.get(gid, "en-US"),
                channel_id=cid,
                channel=chan,
                member=self.member_payload(uid, permissions=perms, guild_id=gid),
                context=CTX_GUILD,
                authorizing_integration_owners=dict(owners or default_owners),
                app_permissions=str(app_perms),
            )
        if message is not None:
            env["message"] = message
        return env

    def _require_user_install(self) -> None:
        if not self.user_install:
            raise ValueError(
                "the application does not allow user installs (DiscordEmulator(user_install=True))"
            )

    def _where(self, channel_id: str | int | None, *, dm: bool) -> str:
        """Where an interaction comes from: "dm" (the bot's DM), "guild" (a server with the bot),
        "foreign" (a server without it) or "group" (a group DM)."""
        if dm:
            return "dm"
        ch = self.channels.get(_sid(channel_id)) if channel_id is not None else None
        if ch is not None and ch["type"] == CT_GROUP_DM:
            return "group"
        if ch is not None and ch.get("guild_id") in self.foreign_guilds:
            return "foreign"
        return "guild"

    def _channel_for_builder(self, cid: str) -> dict[str, Any]:
        ch = self.channels.get(cid)
        if ch is None:
            raise ValueError(f"unknown channel {cid}")
        return ch

    async def send_interaction(self, payload: dict[str, Any]) -> EmulatedInteraction:
        """Dispatch a fully built INTERACTION_CREATE payload and track its token."""
        await self._require_session(guild_id=payload.get("guild_id"))
        sess = self._route("INTERACTION_CREATE", payload)
        it = EmulatedInteraction(
            emu=self,
            id=payload["id"],
            token=payload["token"],
            type=payload["type"],
            payload=payload,
            created_at=time.monotonic(),
            shard=sess.shard_id if sess else None,
            session_id=sess.session_id if sess else None,
        )
        self.interactions[it.token] = it
        await self._emit("INTERACTION_CREATE", copy.deepcopy(payload), force=True, session=sess)
        it.created_at = time.monotonic()
        return it

    # ------------------------------------------------------------------ command options

    def _resolve_value(
        self, otype: int, value: Any, resolved: dict[str, dict[str, Any]], *, dm: bool, where: str
    ) -> Any:
        if otype == 11:
            if isinstance(value, tuple):
                value = self.add_cdn_file(*value)
            if not isinstance(value, Mapping) or "url" not in value:
                raise ValueError(
                    f"{where}: attachment option needs an add_cdn_file() dict or (name, bytes) tuple"
                )
            att = {**copy.deepcopy(dict(value)), "ephemeral": True}
            resolved.setdefault("attachments", {})[att["id"]] = att
            return att["id"]
        if otype in (6, 9) and (isinstance(value, Mapping) or _sid(value) in self.users):
            uid = _sid(value)
            resolved.setdefault("users", {})[uid] = self.user(uid)
            if not dm and uid in self.members:
                resolved.setdefault("members", {})[uid] = self.member_payload(
                    uid, with_user=False, permissions=self.permissions_for(uid, None)
                )
            return uid
        if otype in (8, 9):
            rid = _sid(value)
            if rid not in self.roles:
                raise ValueError(f"{where}: unknown role {rid}")
            resolved.setdefault("roles", {})[rid] = copy.deepcopy(self.roles[rid])
            return rid
        if otype == 6:
            raise ValueError(f"{where}: unknown user {value!r}")
        if otype == 7:
            cid = _sid(value)
            ch = self.channels.get(cid)
            if ch is None:
                raise ValueError(f"{where}: unknown channel {cid}")
            part: dict[str, Any] = {
                k: ch[k] for k in ("id", "name", "type", "parent_id", "thread_metadata") if k in ch
            }
            part["permissions"] = str(self.permissions_for(HUMAN_USER_ID, cid))
            resolved.setdefault("channels", {})[cid] = part
            return cid
        if otype == 3 and not isinstance(value, str):
            raise ValueError(f"{where}: expected str, got {value!r}")
        if otype == 4 and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError(f"{where}: expected int, got {value!r}")
        if otype == 10 and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ValueError(f"{where}: expected number, got {value!r}")
        if otype == 5 and not isinstance(value, bool):
            raise ValueError(f"{where}: expected bool, got {value!r}")
        return value

    @staticmethod
    def _infer_type(value: Any) -> int:
        if isinstance(value, bool):
            return 5
        if isinstance(value, int):
            return 4
        if isinstance(value, float):
            return 10
        if isinstance(value, tuple) or (isinstance(value, Mapping) and "url" in value):
            return 11
        if isinstance(value, Mapping) and "username" in value:
            return 6
        return 3

    def _build_options(
        self,
        schema: list[dict[str, Any]] | None,
        given: Mapping[str, Any],
        resolved: dict[str, dict[str, Any]],
        *,
        dm: bool,
        where: str,
        focused: str | None = None,
    ) -> list[dict[str, Any]]:
        by_name = {o["name"]: o for o in schema or []}
        out: list[dict[str, Any]] = []
        for name, value in given.items():
            spec = by_name.get(name)
            if schema is not None and spec is None:
                raise ValueError(f"{where}: unknown option {name!r}; declared: {sorted(by_name)}")
            otype = spec["type"] if spec else self._infer_type(value)
            opt: dict[str, Any] = {"name": name, "type": otype}
            if name == focused:
                opt["value"] = value if isinstance(value, str) else str(value)
                opt["focused"] = True
                out.append(opt)
                continue
            opt["value"] = self._resolve_value(
                otype, value, resolved, dm=dm, where=f"{where} option {name!r}"
            )
            if spec is not None:
                self._check_constraints(spec, opt["value"], f"{where} option {name!r}")
            out.append(opt)
        if schema is not None and focused is None:
            missing = [o["name"] for o in schema if o.get("required") and o["name"] not in given]
            if missing:
                raise ValueError(f"{where}: missing required options {missing}")
        return out

    @staticmethod
    def _check_constraints(spec: Mapping[str, Any], value: Any, where: str) -> None:
        choices = spec.get("choices")
        if choices and value not in [c["value"] for c in choices]:
            raise ValueError(
                f"{where}: {value!r} is not one of the declared choices {[c['value'] for c in choices]}"
            )
        if isinstance(value, int | float) and not isinstance(value, bool):
            if spec.get("min_value") is not None and value < spec["min_value"]:
                raise ValueError(f"{where}: {value} < min_value {spec['min_value']}")
            if spec.get("max_value") is not None and value > spec["max_value"]:
                raise ValueError(f"{where}: {value} > max_value {spec['max_value']}")
        if isinstance(value, str) and spec.get("type") == 3:
            if spec.get("min_length") is not None and len(value) < spec["min_length"]:
                raise ValueError(f"{where}: shorter than min_length {spec['min_length']}")
            if spec.get("max_length") is not None and len(value) > spec["max_length"]:
                raise ValueError(f"{where}: longer than max_length {spec['max_length']}")

    def _command_data(
        self,
        name: str,
        options: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None,
        *,
        dm: bool,
        focused: str | None = None,
        resolved: Mapping[str, Any] | None = None,
        guild_id: str = GUILD_ID,
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        parts = name.split()
        cmd = self._command_for(parts[0], 1, dm=dm, guild_id=guild_id)
        data: dict[str, Any] = {"id": cmd["id"] if cmd else self.snowflake(), "name": parts[0], "type": 1}
        if cmd and cmd.get("guild_id"):
            data["guild_id"] = cmd["guild_id"]
        res: dict[str, dict[str, Any]] = {k: dict(v) for k, v in (resolved or {}).items()}
        if options is not None and not isinstance(options, Mapping):
            leaf = [dict(o) for o in options]  # raw options, passed through unvalidated
        else:
            schema: list[dict[str, Any]] | None = (cmd.get("options") or []) if cmd else None
            for sub in parts[1:]:
                if schema is not None:
                    match = [o for o in schema if o["name"] == sub and o.get("type") in (1, 2)]
                    if not match:
                        raise ValueError(f"/{name}: no subcommand/group {sub!r}")
                    schema = match[0].get("options") or []
            leaf = self._build_options(schema, options or {}, res, dm=dm, where=f"/{name}", focused=focused)
        # Wrap leaf options into subcommand (type 1) / group (type 2) layers.
        nested: list[dict[str, Any]] = leaf
        subs = parts[1:]
        for depth, sub in reversed(list(enumerate(subs))):
            kind = 1 if depth == len(subs) - 1 else 2
            nested = [{"name": sub, "type": kind, "options": nested}]
        if nested:
            data["options"] = nested
        if res:
            data["resolved"] = res
        return data, cmd

    # ------------------------------------------------------------------ commands

    def set_guild_locale(self, locale: str, guild_id: str | int = GUILD_ID) -> None:
        """The server's language (Server Settings -> Community -> Server Primary Language):
        its interactions' ``guild_locale`` and its GUILD_CREATE ``preferred_locale``."""
        if locale not in LOCALES:
            raise ValueError(f"{locale!r} is not a Discord locale")
        self.guild_locales[_sid(guild_id)] = locale

    async def send_slash_command(
        self,
        name: str,
        options: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
        *,
        user_id: str | int = HUMAN_USER_ID,
        channel_id: str | int | None = None,
        dm: bool = False,
        permissions: int | str | None = None,
        locale: str = "en-US",
        attachment_size_limit: int | None = None,
        resolved: Mapping[str, Any] | None = None,
    ) -> EmulatedInteraction:
        """A user runs ``/name`` (``"group sub"`` for subcommands).

        ``options`` maps option names to values; types come from the synced command (attachment
        values: a dict from :meth:`add_cdn_file` or a ``(filename, bytes[, content_type])`` tuple;
        users/channels/roles: their ids).  A list of raw option dicts is passed through unvalidated.
        ``dm=True`` sends ``user`` instead of ``member`` from a DM channel.
        """
        where = self._where(channel_id, dm=dm)
        data, cmd = self._command_data(
            name,
            options,
            dm=where != "guild",
            resolved=resolved,
            guild_id=self._guild_of_channel(channel_id),
        )
        perms = (
            int(permissions)
            if permissions is not None
            else self.permissions_for(user_id, channel_id or TEXT_CHANNEL_ID)
        )
        if cmd is not None:
            self._check_command_visible(cmd, where=where, member_perms=perms)
        env = self._interaction_envelope(
            IT_APPLICATION_COMMAND,
            data,
            user_id=user_id,
            channel_id=channel_id,
            dm=dm,
            permissions=permissions,
            locale=locale,
            attachment_size_limit=attachment_size_limit,
        )
        return await self.send_interaction(env)

    async def send_autocomplete(
        self,
        name: str,
        options: Mapping[str, Any],
        focused: str,
        *,
        user_id: str | int = HUMAN_USER_ID,
        channel_id: str | int | None = None,
        dm: bool = False,
    ) -> EmulatedInteraction:
        """Autocomplete (type 4) for option ``focused`` of ``/name``; answer lands in ``.choices``."""
        data, _ = self._command_data(
            name, options, dm=dm, focused=focused, guild_id=self._guild_of_channel(channel_id)
        )
        env = self._interaction_envelope(IT_AUTOCOMPLETE, data, user_id=user_id, channel_id=channel_id, dm=dm)
        return await self.send_interaction(env)

    async def send_message_command(
        self,
        name: str,
        target_message_id: str | int,
        *,
        user_id: str | int = HUMAN_USER_ID,
        dm: bool = False,
        permissions: int | str | None = None,
        locale: str = "en-US",
    ) -> EmulatedInteraction:
        """A user runs the message context-menu command ``name`` on a stored message."""
        mid = _sid(target_message_id)
        if mid not in self.messages:
            raise ValueError(f"unknown message {mid}")
        target = self.messages[mid]
        where = self._where(target["channel_id"], dm=dm)
        cmd = self._command_for(
            name, 3, dm=where != "guild", guild_id=self._guild_of_channel(target["channel_id"])
        )
        data: dict[str, Any] = {
            "id": cmd["id"] if cmd else self.snowflake(),
            "name": name,
            "type": 3,
            "target_id": mid,
            "resolved": {"messages": {mid: self.message_payload(mid)}},
        }
        if cmd and cmd.get("guild_id"):
            data["guild_id"] = cmd["guild_id"]
        channel_id = target["channel_id"]
        perms = int(permissions) if permissions is not None else self.permissions_for(user_id, channel_id)
        if cmd is not None:
            self._check_command_visible(cmd, where=where, member_perms=perms)
        env = self._interaction_envelope(
            IT_APPLICATION_COMMAND,
            data,
            user_id=user_id,
            channel_id=None if dm else channel_id,
            dm=dm,
            permissions=permissions,
            locale=locale,
        )
        return await self.send_interaction(env)

    async def send_user_command(
        self, name: str, target_user_id: str | int, *, user_id: str | int = HUMAN_USER_ID, dm: bool = False
    ) -> EmulatedInteraction:
        """A user runs the user context-menu command ``name`` on ``target_user_id``."""
        tid = _sid(target_user_id)
        cmd = self._command_for(name, 2, dm=dm)
        resolved: dict[str, Any] = {"users": {tid: self.user(tid)}}
        if not dm and tid in self.members:
            resolved["members"] = {
                tid: self.member_payload(tid, with_user=False, permissions=self.permissions_for(tid, None))
            }
        data = {
            "id": cmd["id"] if cmd else self.snowflake(),
            "name": name,
            "type": 2,
            "target_id": tid,
            "resolved": resolved,
        }
        if cmd and cmd.get("guild_id"):
            data["guild_id"] = cmd["guild_id"]
        env = self._interaction_envelope(IT_APPLICATION_COMMAND, data, user_id=user_id, dm=dm)
        return await self.send_interaction(env)

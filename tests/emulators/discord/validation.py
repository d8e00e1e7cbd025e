"""Discord's payload checks, answered with its error codes: command definitions, message bodies
(content, embeds, files, upload size), components and thread bodies.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from tests.emulators.discord.constants import _COMMAND_NAME_RE, FLAG_IS_COMPONENTS_V2, MAX_CONTENT, MAX_FILES
from tests.emulators.discord.models import _ApiError, _form_error, _Upload


class ValidationMixin:
    """Payload and limit checks.

    A mixin of :class:`DiscordEmulator` (``emulator.py``); its state is set up in ``server.py``.
    """

    def _validate_commands(self, body: Any) -> None:
        if not isinstance(body, list):
            raise _form_error("_root", "BASE_TYPE_ARRAY", "Must be an array.")
        seen: set[tuple[int, str]] = set()
        for i, cmd in enumerate(body):
            ctype = cmd.get("type", 1)
            name = cmd.get("name", "")
            if (ctype, name) in seen:
                raise _form_error(
                    f"{i}.name",
                    "APPLICATION_COMMANDS_DUPLICATE_NAME",
                    "Application command names must be unique",
                )
            seen.add((ctype, name))
            if ctype == 1:
                if not _COMMAND_NAME_RE.match(name) or name != name.lower():
                    raise _form_error(
                        f"{i}.name", "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid"
                    )
                if not 1 <= len(cmd.get("description", "")) <= 100:
                    raise _form_error(
                        f"{i}.description", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
                    )
                self._validate_options(cmd.get("options") or [], f"{i}.options")
            else:
                if not 1 <= len(name) <= 32:
                    raise _form_error(
                        f"{i}.name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length."
                    )
                if cmd.get("description"):
                    raise _form_error(
                        f"{i}.description",
                        "APPLICATION_COMMAND_INVALID_DESCRIPTION",
                        "Context menu commands cannot have description",
                    )

    def _validate_options(self, options: list[dict[str, Any]], where: str) -> None:
        if len(options) > 25:
            raise _form_error(where, "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        optional_seen = False
        for j, opt in enumerate(options):
            here = f"{where}.{j}"
            if not _COMMAND_NAME_RE.match(opt.get("name", "")) or opt["name"] != opt["name"].lower():
                raise _form_error(
                    f"{here}.name", "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid"
                )
            if not 1 <= len(opt.get("description", "")) <= 100:
                raise _form_error(
                    f"{here}.description", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
                )
            if opt.get("type") in (1, 2):
                self._validate_options(opt.get("options") or [], f"{here}.options")
                continue
            if opt.get("required"):
                if optional_seen:
                    raise _form_error(
                        here,
                        "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                        "Required options must be placed before non-required options",
                    )
            else:
                optional_seen = True
            if len(opt.get("choices") or []) > 25:
                raise _form_error(f"{here}.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")

    def _validate_message(
        self, body: Mapping[str, Any], uploads: Sequence[_Upload], *, creating: bool
    ) -> None:
        content = body.get("content")
        if content is not None and not isinstance(content, str):
            raise _form_error("content", "BASE_TYPE_STRING", "Must be a string.")
        if content and len(content) > MAX_CONTENT:
            raise _form_error("content", "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_CONTENT} or fewer in length.")
        embeds = body.get("embeds") or []
        if len(embeds) > 10:
            raise _form_error("embeds", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
        total = 0
        for i, e in enumerate(embeds):
            if len(e.get("title") or "") > 256:
                raise _form_error(
                    f"embeds.{i}.title", "BASE_TYPE_MAX_LENGTH", "Must be 256 or fewer in length."
                )
            if len(e.get("description") or "") > 4096:
                raise _form_error(
                    f"embeds.{i}.description", "BASE_TYPE_MAX_LENGTH", "Must be 4096 or fewer in length."
                )
            if len(e.get("fields") or []) > 25:
                raise _form_error(
                    f"embeds.{i}.fields", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."
                )
            total += len(e.get("title") or "") + len(e.get("description") or "")
            total += sum(len(f.get("name", "")) + len(f.get("value", "")) for f in e.get("fields") or [])
            total += len((e.get("footer") or {}).get("text", "")) + len(
                (e.get("author") or {}).get("name", "")
            )
        if total > 6000:
            raise _form_error("embeds", "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")
        if len(uploads) > MAX_FILES:
            raise _form_error("files", "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_FILES} or fewer in length.")
        if sum(len(u.data) for u in uploads) > self.upload_limit:
            raise _ApiError(413, 40005, "Request entity too large")
        self._validate_components(body.get("components") or [], int(body.get("flags") or 0))
        if creating:
            has_any = bool(
                content
                or embeds
                or uploads
                or body.get("components")
                or body.get("sticker_ids")
                or body.get("poll")
            )
            if not has_any:
                raise _ApiError(400, 50006, "Cannot send an empty message")

    @staticmethod
    def _validate_components(components: list[dict[str, Any]], flags: int) -> None:
        if not components:
            return
        custom_ids: set[str] = set()

        def walk(items: Iterable[dict[str, Any]], where: str) -> None:
            for i, c in enumerate(items):
                cid = c.get("custom_id")
                if cid is not None:
                    if not 1 <= len(cid) <= 100:
                        raise _form_error(
                            f"{where}.{i}.custom_id",
                            "BASE_TYPE_BAD_LENGTH",
                            "Must be between 1 and 100 in length.",
                        )
                    if cid in custom_ids:
                        raise _form_error(
                            f"{where}.{i}.custom_id",
                            "COMPONENT_CUSTOM_ID_DUPLICATED",
                            "Component custom id cannot be duplicated",
                        )
                    custom_ids.add(cid)
                if c.get("type") == 2 and c.get("style") != 5 and c.get("style") != 6 and cid is None:
                    raise _form_error(
                        f"{where}.{i}.custom_id", "BASE_TYPE_REQUIRED", "This field is required"
                    )
                for key in ("components", "items"):
                    if isinstance(c.get(key), list):
                        walk(c[key], f"{where}.{i}.{key}")
                for key in ("accessory", "component"):
                    if isinstance(c.get(key), dict):
                        walk([c[key]], f"{where}.{i}.{key}")

        if not flags & FLAG_IS_COMPONENTS_V2:
            if len(components) > 5:
                raise _form_error("components", "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
            for i, row in enumerate(components):
                if row.get("type") != 1:
                    raise _form_error(
                        f"components.{i}.type", "UNION_TYPE_CHOICES", 'Value of field "type" must be 1.'
                    )
                if len(row.get("components") or []) > 5:
                    raise _form_error(
                        f"components.{i}.components", "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length."
                    )
        walk(components, "components")

    @staticmethod
    def _validate_thread_body(body: Mapping[str, Any]) -> str:
        name = body.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            raise _form_error("name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
        duration = body.get("auto_archive_duration")
        if duration is not None and duration not in (60, 1440, 4320, 10080):
            raise _form_error(
                "auto_archive_duration", "BASE_TYPE_CHOICES", "Value must be one of {60, 1440, 4320, 10080}."
            )
        return name

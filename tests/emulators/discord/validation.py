"""Discord's payload checks, answered with its error codes: command definitions, message bodies
(content, embeds, files, upload size), components and thread bodies.

Components V2 (the message flag IS_COMPONENTS_V2, 1 << 15), as the developer docs describe them
(Component Reference; Create Message / Edit Message; Execute Webhook):

* a V2 message carries only components: ``content``, ``embeds``, ``poll`` or ``sticker_ids`` are
  refused (400, 50035 ``MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2``, the code Discord
  answers with); an edit that turns a message into V2 must reset the ones it has (``content``
  null, ``embeds`` []), and the flag can't be removed once set;
* at most 40 components, nested ones counted (``COMPONENT_MAX_TOTAL_COMPONENTS_EXCEEDED``);
  top-level and Container children of the documented types only; 1-10 items a MediaGallery;
  all TextDisplays together at most 4000 characters (discord-api-docs PR #8562);
* a modal (the MODAL callback): Labels (text 1-45, description 100, one input), Text Displays
  and legacy Action Rows at the top level; Text Input limits (placeholder 100, lengths 0-4000);
* an ``attachment://<filename>`` media reference must name a file of the message (uploaded with
  it, or kept on an edit); the code name ``UNFURLED_MEDIA_ITEM_ATTACHMENT_NOT_FOUND`` is ours.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from tests.emulators.discord.cdn import _sanitize_filename
from tests.emulators.discord.constants import (
    _COMMAND_NAME_RE,
    C_ACTION_ROW,
    C_BUTTON,
    C_CONTAINER,
    C_LABEL,
    C_MEDIA_GALLERY,
    C_TEXT_DISPLAY,
    C_TEXT_INPUT,
    FLAG_IS_COMPONENTS_V2,
    IN_LABEL,
    LOCALES,
    MAX_CONTENT,
    MAX_FILES,
    MAX_GALLERY_ITEMS,
    MAX_V2_COMPONENTS,
    MAX_V2_TEXT,
    MODAL_TOP_LEVEL,
    V2_IN_CONTAINER,
    V2_TOP_LEVEL,
)
from tests.emulators.discord.models import _ApiError, _form_error, _Upload

_LEGACY = "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2"


def walk_components(
    components: Iterable[Mapping[str, Any]], where: str = "components"
) -> Iterable[tuple[str, Mapping[str, Any]]]:
    """Every component with its form path (``components.0.components.2``), depth first."""
    for i, c in enumerate(components):
        here = f"{where}.{i}"
        yield here, c
        if isinstance(c.get("components"), list):
            yield from walk_components(c["components"], f"{here}.components")
        for key in ("accessory", "component"):
            if isinstance(c.get(key), Mapping):
                yield f"{here}.{key}", c[key]
                if isinstance(c[key].get("components"), list):
                    yield from walk_components(c[key]["components"], f"{here}.{key}.components")


def media_refs(components: Iterable[Mapping[str, Any]]) -> Iterable[tuple[str, dict[str, Any]]]:
    """Every unfurled media item (gallery items, thumbnails, files) with its form path."""
    for path, c in walk_components(components):
        for j, item in enumerate(c.get("items") or []):
            if isinstance(item, dict) and isinstance(item.get("media"), dict):
                yield f"{path}.items.{j}.media.url", item["media"]
        for key in ("media", "file"):
            if isinstance(c.get(key), dict):
                yield f"{path}.{key}.url", c[key]


def text_of(components: Iterable[Mapping[str, Any]]) -> list[str]:
    """The contents of every TextDisplay, in order."""
    return [
        str(c.get("content") or "") for _, c in walk_components(components) if c.get("type") == C_TEXT_DISPLAY
    ]


def _top_level(components: Sequence[Mapping[str, Any]], allowed: tuple[int, ...], where: str) -> None:
    for i, c in enumerate(components):
        if c.get("type") not in allowed:
            raise _form_error(
                f"{where}.{i}.type", "UNION_TYPE_CHOICES", f'Value of field "type" must be one of {allowed}.'
            )


def _text_total(components: Sequence[Mapping[str, Any]], where: str) -> None:
    if sum(len(t) for t in text_of(components)) > MAX_V2_TEXT:
        raise _form_error(
            where,
            "BASE_TYPE_MAX_LENGTH",
            f"The text of all text displays must be {MAX_V2_TEXT} or fewer in length.",
        )


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
            self._validate_localizations(cmd, f"{i}", chat_input=ctype == 1)
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

    @staticmethod
    def _validate_localizations(item: Mapping[str, Any], where: str, *, chat_input: bool) -> None:
        """``name_localizations`` / ``description_localizations``: Discord locales only, each value
        following the rules of the field it localizes (a CHAT_INPUT name: the name regex, in lower
        case; a context menu's name: 1-32 characters; a description: 1-100)."""
        for field in ("name_localizations", "description_localizations"):
            localized = item.get(field)
            if localized is None:
                continue
            if not isinstance(localized, Mapping):
                raise _form_error(
                    f"{where}.{field}", "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType"
                )
            for locale, text in localized.items():
                here = f"{where}.{field}.{locale}"
                if locale not in LOCALES:
                    raise _form_error(here, "LOCALE_INVALID", "Invalid locale")  # name is ours
                if not isinstance(text, str):
                    raise _form_error(here, "BASE_TYPE_STRING", "Must be a string.")
                if field == "description_localizations":
                    if not 1 <= len(text) <= 100:
                        raise _form_error(
                            here, "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
                        )
                elif chat_input:
                    if not _COMMAND_NAME_RE.match(text) or text != text.lower():
                        raise _form_error(here, "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
                elif not 1 <= len(text) <= 32:
                    raise _form_error(here, "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length.")

    def _validate_options(self, options: list[dict[str, Any]], where: str) -> None:
        if len(options) > 25:
            raise _form_error(where, "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        optional_seen = False
        for j, opt in enumerate(options):
            here = f"{where}.{j}"
            self._validate_localizations(opt, here, chat_input=True)
            for k, choice in enumerate(opt.get("choices") or []):
                if not 1 <= len(str(choice.get("name", ""))) <= 100:
                    raise _form_error(
                        f"{here}.choices.{k}.name",
                        "BASE_TYPE_BAD_LENGTH",
                        "Must be between 1 and 100 in length.",
                    )
                for locale, text in (choice.get("name_localizations") or {}).items():
                    if locale not in LOCALES or not 1 <= len(str(text)) <= 100:
                        raise _form_error(
                            f"{here}.choices.{k}.name_localizations.{locale}",
                            "BASE_TYPE_BAD_LENGTH",
                            "Must be between 1 and 100 in length.",
                        )
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
        self,
        body: Mapping[str, Any],
        uploads: Sequence[_Upload],
        *,
        creating: bool,
        existing: Mapping[str, Any] | None = None,
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
        self._validate_attachment_ids(body, uploads, existing)
        was_v2 = existing is not None and bool(int(existing.get("flags") or 0) & FLAG_IS_COMPONENTS_V2)
        flags = body.get("flags")
        if was_v2 and flags is not None and not int(flags) & FLAG_IS_COMPONENTS_V2:
            raise _form_error(
                "flags",
                "MESSAGE_CANNOT_REMOVE_COMPONENTS_V2_FLAG",
                "The IS_COMPONENTS_V2 flag cannot be removed",
            )
        v2 = was_v2 or bool(int(flags or 0) & FLAG_IS_COMPONENTS_V2)
        if v2:
            self._validate_v2_body(body, existing if not was_v2 else None)
        components = body.get("components")
        if components is None and v2 and existing is not None:
            components = existing.get("components")  # an edit keeps them: check them against the files
        self._validate_components(components or [], FLAG_IS_COMPONENTS_V2 if v2 else 0)
        if v2:
            self._validate_media_refs(components or [], self._attachment_names(body, uploads, existing))
            if existing is not None and body.get("components") is None:
                self._validate_kept_media(existing, body)
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
    def _validate_v2_body(body: Mapping[str, Any], becoming: Mapping[str, Any] | None) -> None:
        """No legacy fields beside V2 components; a message turned into V2 resets the ones it has."""
        for key in ("content", "embeds", "poll", "sticker_ids"):
            if body.get(key):
                raise _form_error(
                    key, _LEGACY, f"The '{key}' field cannot be used when using MessageFlags.IS_COMPONENTS_V2"
                )
        if becoming is None:
            return
        if becoming.get("content") and not ("content" in body and body["content"] is None):
            raise _form_error(
                "content",
                _LEGACY,
                "The 'content' field cannot be used when using MessageFlags.IS_COMPONENTS_V2",
            )
        if becoming.get("embeds") and body.get("embeds") != []:
            raise _form_error(
                "embeds",
                _LEGACY,
                "The 'embeds' field cannot be used when using MessageFlags.IS_COMPONENTS_V2",
            )

    @staticmethod
    def _validate_attachment_ids(
        body: Mapping[str, Any], uploads: Sequence[_Upload], existing: Mapping[str, Any] | None
    ) -> None:
        """Each ``attachments`` entry names a file of the message (an edit keeps it) or the index
        of a file uploaded with the request; anything else is an unknown attachment."""
        kept = {str(a["id"]) for a in (existing or {}).get("attachments") or []}
        slots = {str(u.slot if u.slot is not None else i) for i, u in enumerate(uploads)}
        for j, entry in enumerate(body.get("attachments") or []):
            sid = str(entry.get("id") if isinstance(entry, Mapping) else entry)
            if sid not in kept and sid not in slots:
                raise _form_error(f"attachments.{j}.id", "ATTACHMENT_NOT_FOUND", "Unknown attachment")

    @staticmethod
    def _validate_kept_media(existing: Mapping[str, Any], body: Mapping[str, Any]) -> None:
        """An edit that keeps a V2 message's components but drops a file its gallery shows."""
        meta = body.get("attachments")
        if meta is None:
            return
        kept = {str(entry.get("id")) for entry in meta}
        for path, media in media_refs(list(existing.get("components") or [])):
            if media.get("attachment_id") and str(media["attachment_id"]) not in kept:
                raise _form_error(
                    path,
                    "UNFURLED_MEDIA_ITEM_ATTACHMENT_NOT_FOUND",
                    f"Attachment {media['attachment_id']} is shown by the message but not kept",
                )

    @staticmethod
    def _attachment_names(
        body: Mapping[str, Any], uploads: Sequence[_Upload], existing: Mapping[str, Any] | None
    ) -> set[str]:
        """Filenames the message will have: uploads (as named in ``attachments``) and kept ones;
        on an edit that lists ``attachments``, only those listed (API v10)."""
        kept = list((existing or {}).get("attachments") or [])
        meta = body.get("attachments")
        names: set[str] = set()
        if meta is None:
            names |= {a["filename"] for a in kept}
            meta = []
        by_id = {a["id"]: a for a in kept}
        by_index = {u.slot if u.slot is not None else i: u for i, u in enumerate(uploads)}
        used: set[int] = set()
        for entry in meta:
            sid = str(entry.get("id"))
            if sid in by_id:
                names.add(by_id[sid]["filename"])
                continue
            try:
                idx = int(sid)
            except ValueError:
                continue
            upload = by_index.get(idx)
            if upload is not None:
                used.add(idx)
                names.add(_sanitize_filename(entry.get("filename") or upload.filename))
        if existing is not None and body.get("attachments") is not None:
            return names
        names |= {_sanitize_filename(u.filename) for i, u in by_index.items() if i not in used}
        return names

    @staticmethod
    def _validate_media_refs(components: list[dict[str, Any]], names: set[str]) -> None:
        for path, media in media_refs(components):
            url = str(media.get("url") or "")
            if (
                url.startswith("attachment://")
                and _sanitize_filename(url[len("attachment://") :]) not in names
            ):
                raise _form_error(
                    path,
                    "UNFURLED_MEDIA_ITEM_ATTACHMENT_NOT_FOUND",
                    f"Attachment {url[len('attachment://') :]!r} is not part of this message",
                )

    @staticmethod
    def _validate_components(components: list[dict[str, Any]], flags: int) -> None:
        if not components:
            return
        custom_ids: set[str] = set()
        for path, c in walk_components(components):
            cid = c.get("custom_id")
            if cid is not None:
                if not 1 <= len(cid) <= 100:
                    raise _form_error(
                        f"{path}.custom_id", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
                    )
                if cid in custom_ids:
                    raise _form_error(
                        f"{path}.custom_id",
                        "COMPONENT_CUSTOM_ID_DUPLICATED",
                        "Component custom id cannot be duplicated",
                    )
                custom_ids.add(cid)
            if c.get("type") == C_BUTTON and c.get("style") not in (5, 6) and cid is None:
                raise _form_error(f"{path}.custom_id", "BASE_TYPE_REQUIRED", "This field is required")
            if c.get("type") == C_BUTTON and len(c.get("label") or "") > 80:  # a button's label
                raise _form_error(f"{path}.label", "BASE_TYPE_MAX_LENGTH", "Must be 80 or fewer in length.")
            if c.get("type") == C_ACTION_ROW and len(c.get("components") or []) > 5:
                raise _form_error(
                    f"{path}.components", "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length."
                )

        if not flags & FLAG_IS_COMPONENTS_V2:
            if len(components) > 5:
                raise _form_error("components", "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
            for i, row in enumerate(components):
                if row.get("type") != C_ACTION_ROW:
                    raise _form_error(
                        f"components.{i}.type", "UNION_TYPE_CHOICES", 'Value of field "type" must be 1.'
                    )
            return

        if sum(1 for _ in walk_components(components)) > MAX_V2_COMPONENTS:
            raise _form_error(
                "components",
                "COMPONENT_MAX_TOTAL_COMPONENTS_EXCEEDED",
                f"The maximum number of components ({MAX_V2_COMPONENTS}) was exceeded",
            )
        _top_level(components, V2_TOP_LEVEL, "components")
        for i, c in enumerate(components):
            if c.get("type") == C_CONTAINER:
                for j, child in enumerate(c.get("components") or []):
                    if child.get("type") not in V2_IN_CONTAINER:
                        raise _form_error(
                            f"components.{i}.components.{j}.type",
                            "UNION_TYPE_CHOICES",
                            f'Value of field "type" must be one of {V2_IN_CONTAINER}.',
                        )
        for path, c in walk_components(components):
            if c.get("type") == C_MEDIA_GALLERY and not 1 <= len(c.get("items") or []) <= MAX_GALLERY_ITEMS:
                raise _form_error(
                    f"{path}.items",
                    "BASE_TYPE_BAD_LENGTH",
                    f"Must be between 1 and {MAX_GALLERY_ITEMS} in length.",
                )
        _text_total(components, "components")

    @staticmethod
    def _validate_modal(data: Mapping[str, Any]) -> None:
        """A MODAL callback's components: the documented top-level types; a Label's text (1-45),
        description (100) and one input; a Text Input's limits (custom id 1-100, placeholder 100,
        min/max length within 0-4000, value 4000); a Text Display's content."""
        components = list(data.get("components") or [])
        _top_level(components, MODAL_TOP_LEVEL, "data.components")
        for i, c in enumerate(components):
            if c.get("type") == C_LABEL:
                if not 1 <= len(c.get("label") or "") <= 45:
                    raise _form_error(
                        f"data.components.{i}.label",
                        "BASE_TYPE_BAD_LENGTH",
                        "Must be between 1 and 45 in length.",
                    )
                if len(c.get("description") or "") > 100:
                    raise _form_error(
                        f"data.components.{i}.description",
                        "BASE_TYPE_MAX_LENGTH",
                        "Must be 100 or fewer in length.",
                    )
                if not isinstance(c.get("component"), Mapping) or c["component"].get("type") not in IN_LABEL:
                    raise _form_error(
                        f"data.components.{i}.component", "UNION_TYPE_CHOICES", f"Must be one of {IN_LABEL}."
                    )
            if c.get("type") == C_TEXT_DISPLAY and not c.get("content"):
                raise _form_error(
                    f"data.components.{i}.content", "BASE_TYPE_REQUIRED", "This field is required"
                )
        custom_ids: set[str] = set()
        for path, c in walk_components(components, "data.components"):
            if c.get("type") != C_TEXT_INPUT:
                continue
            cid = str(c.get("custom_id") or "")
            if not 1 <= len(cid) <= 100 or cid in custom_ids:
                raise _form_error(
                    f"{path}.custom_id", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
                )
            custom_ids.add(cid)
            in_row = not path.endswith(".component")
            if in_row and not 1 <= len(c.get("label") or "") <= 45:  # a Label names it otherwise
                raise _form_error(
                    f"{path}.label", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 45 in length."
                )
            for key, low, high in (("min_length", 0, 4000), ("max_length", 1, 4000)):
                if key in c and not low <= int(c[key]) <= high:
                    raise _form_error(
                        f"{path}.{key}", "NUMBER_TYPE_MAX", f"int value should be between {low} and {high}."
                    )
            if len(c.get("placeholder") or "") > 100:
                raise _form_error(
                    f"{path}.placeholder", "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length."
                )
            if len(c.get("value") or "") > 4000:
                raise _form_error(f"{path}.value", "BASE_TYPE_MAX_LENGTH", "Must be 4000 or fewer in length.")
        _text_total(components, "data.components")

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

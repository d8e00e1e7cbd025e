"""Block Kit as Slack checks it: the blocks and views the emulator refuses, with Slack's messages.

Slack answers a view it will not show with ``invalid_arguments`` and a list of
``response_metadata.messages`` such as ``[ERROR] must be less than 101 items
[json-pointer:/view/blocks]``; a message's blocks with ``invalid_blocks``. The limits below are
the documented ones (docs.slack.dev/reference/block-kit, /reference/views):

* a view has at most 100 blocks, a message at most 50; ``block_id`` at most 255 characters and
  unique within the view or message;
* a modal's ``title``, ``submit`` and ``close`` are plain text of at most 24 characters, and a
  modal with an input block needs ``submit``; ``private_metadata`` at most 3000 characters,
  ``callback_id`` at most 255;
* section text at most 3000 characters (at least 1), at most 10 fields of 2000; a header's plain
  text at most 150; a context block 1 to 10 elements; an actions block 1 to 25;
* a button's text at most 75 characters, ``value`` 2000, ``url`` 3000, ``action_id`` 255;
* an image (block or element) needs ``alt_text`` (at most 2000) and exactly one of ``image_url``
  (at most 3000, http or https) and ``slack_file`` (``{"id"}`` or ``{"url"}``, not both, a png,
  jpg, jpeg or gif file the app can see);
* an input's label at most 2000 characters, hint 2000, a plain_text_input's placeholder 150 and
  ``max_length`` at most 3000; a static select 1 to 100 options of text 75 and value 150, its
  ``initial_option`` one of them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

VIEW_MAX_BLOCKS = 100
MESSAGE_MAX_BLOCKS = 50
SLACK_FILE_TYPES = ("png", "jpg", "jpeg", "gif")

# file id -> the file object, for slack_file references (None: any id is accepted).
FileLookup = Callable[[str], Mapping[str, Any] | None]


class _Check:
    def __init__(self, files: FileLookup | None) -> None:
        self.files = files
        self.errors: list[str] = []

    def fail(self, pointer: str, what: str) -> None:
        self.errors.append(f"[ERROR] {what} [json-pointer:{pointer}]")

    def length(self, value: Any, pointer: str, most: int, *, least: int = 0) -> None:
        if not isinstance(value, str):
            self.fail(pointer, "must be a string")
        elif len(value) > most:
            self.fail(pointer, f"must be less than {most + 1} characters")
        elif len(value) < least:
            self.fail(pointer, f"must be more than {least - 1} characters")

    def text(self, obj: Any, pointer: str, most: int, *, plain: bool = False, required: bool = True) -> None:
        if obj is None and not required:
            return
        if not isinstance(obj, Mapping):
            self.fail(pointer, "must provide an object")
            return
        kinds = ("plain_text",) if plain else ("plain_text", "mrkdwn")
        if obj.get("type") not in kinds:
            self.fail(f"{pointer}/type", f"must be one of {', '.join(kinds)}")
        self.length(obj.get("text"), f"{pointer}/text", most, least=1)

    # -- elements ---------------------------------------------------------------------------------

    def image(self, obj: Mapping[str, Any], pointer: str) -> None:
        self.length(obj.get("alt_text"), f"{pointer}/alt_text", 2000, least=1)
        has_url, has_file = "image_url" in obj, "slack_file" in obj
        if has_url == has_file:
            self.fail(pointer, "must provide exactly one of image_url or slack_file")
        if has_url:
            url = obj["image_url"]
            self.length(url, f"{pointer}/image_url", 3000, least=1)
            if isinstance(url, str) and not url.startswith(("http://", "https://")):
                self.fail(f"{pointer}/image_url", "must be a publicly hosted http(s) URL")
        if has_file:
            self.slack_file(obj["slack_file"], f"{pointer}/slack_file")
        if obj.get("type") == "image" and "title" in obj:  # the image block's optional title
            self.text(obj["title"], f"{pointer}/title", 2000, plain=True)

    def slack_file(self, ref: Any, pointer: str) -> None:
        if not isinstance(ref, Mapping) or ("id" in ref) == ("url" in ref):
            self.fail(pointer, "must provide exactly one of id or url")
            return
        if "url" in ref:
            self.length(ref["url"], f"{pointer}/url", 3000, least=1)
            return
        if self.files is None:
            return
        info = self.files(str(ref["id"]))
        if info is None:
            self.fail(f"{pointer}/id", "no such file")
        elif str(info.get("filetype", "")).lower() not in SLACK_FILE_TYPES:
            self.fail(f"{pointer}/id", f"must be an image of type {', '.join(SLACK_FILE_TYPES)}")

    def button(self, obj: Mapping[str, Any], pointer: str) -> None:
        self.text(obj.get("text"), f"{pointer}/text", 75, plain=True)
        self.action_id(obj, pointer)
        if "value" in obj:
            self.length(obj["value"], f"{pointer}/value", 2000)
        if "url" in obj:
            self.length(obj["url"], f"{pointer}/url", 3000)
        if "style" in obj and obj["style"] not in ("primary", "danger"):
            self.fail(f"{pointer}/style", "must be one of primary, danger")

    def action_id(self, obj: Mapping[str, Any], pointer: str) -> None:
        if "action_id" in obj:
            self.length(obj["action_id"], f"{pointer}/action_id", 255, least=1)

    def select(self, obj: Mapping[str, Any], pointer: str) -> None:
        self.action_id(obj, pointer)
        self.text(obj.get("placeholder"), f"{pointer}/placeholder", 150, plain=True, required=False)
        options = obj.get("options")
        if not isinstance(options, list) or not 1 <= len(options) <= 100:
            self.fail(f"{pointer}/options", "must provide 1 to 100 options")
            return
        values = []
        for n, option in enumerate(options):
            at = f"{pointer}/options/{n}"
            if not isinstance(option, Mapping):
                self.fail(at, "must provide an object")
                continue
            self.text(option.get("text"), f"{at}/text", 75, plain=True)
            self.length(option.get("value"), f"{at}/value", 150, least=1)
            values.append(option.get("value"))
        initial = obj.get("initial_option")
        if initial is not None and (not isinstance(initial, Mapping) or initial.get("value") not in values):
            self.fail(f"{pointer}/initial_option", "must match one of the options")

    def input_element(self, obj: Any, pointer: str) -> None:
        if not isinstance(obj, Mapping):
            self.fail(pointer, "must provide an object")
            return
        kind = obj.get("type")
        if kind == "plain_text_input":
            self.action_id(obj, pointer)
            self.text(obj.get("placeholder"), f"{pointer}/placeholder", 150, plain=True, required=False)
            if "max_length" in obj and not (
                isinstance(obj["max_length"], int) and 1 <= obj["max_length"] <= 3000
            ):
                self.fail(f"{pointer}/max_length", "must be between 1 and 3000")
            if "initial_value" in obj:
                self.length(obj["initial_value"], f"{pointer}/initial_value", 3000)
        elif kind == "static_select":
            self.select(obj, pointer)
        else:
            self.fail(f"{pointer}/type", f"unsupported element type {kind!r}")

    # -- blocks -----------------------------------------------------------------------------------

    def block(self, obj: Any, pointer: str, *, surface: str) -> None:
        if not isinstance(obj, Mapping):
            self.fail(pointer, "must provide an object")
            return
        if "block_id" in obj:
            self.length(obj["block_id"], f"{pointer}/block_id", 255, least=1)
        kind = obj.get("type")
        if kind == "section":
            if "text" not in obj and "fields" not in obj:
                self.fail(pointer, "must provide text or fields")
            if "text" in obj:
                self.text(obj["text"], f"{pointer}/text", 3000)
            if "fields" in obj:
                fields = obj["fields"]
                if not isinstance(fields, list) or not 1 <= len(fields) <= 10:
                    self.fail(f"{pointer}/fields", "must provide 1 to 10 items")
                else:
                    for n, field in enumerate(fields):
                        self.text(field, f"{pointer}/fields/{n}", 2000)
            accessory = obj.get("accessory")
            if accessory is not None:
                self.element(accessory, f"{pointer}/accessory")
        elif kind == "header":
            self.text(obj.get("text"), f"{pointer}/text", 150, plain=True)
        elif kind == "divider":
            pass
        elif kind == "context":
            elements = obj.get("elements")
            if not isinstance(elements, list) or not 1 <= len(elements) <= 10:
                self.fail(f"{pointer}/elements", "must provide 1 to 10 items")
                return
            for n, element in enumerate(elements):
                at = f"{pointer}/elements/{n}"
                if isinstance(element, Mapping) and element.get("type") == "image":
                    self.image(element, at)
                else:
                    self.text(element, at, 3000)
        elif kind == "actions":
            elements = obj.get("elements")
            if not isinstance(elements, list) or not 1 <= len(elements) <= 25:
                self.fail(f"{pointer}/elements", "must provide 1 to 25 items")
                return
            for n, element in enumerate(elements):
                self.element(element, f"{pointer}/elements/{n}")
        elif kind == "image":
            self.image(obj, pointer)
        elif kind == "input":
            if surface == "home":
                self.fail(f"{pointer}/type", "input blocks are not allowed in a Home tab")
            self.text(obj.get("label"), f"{pointer}/label", 2000, plain=True)
            self.text(obj.get("hint"), f"{pointer}/hint", 2000, plain=True, required=False)
            self.input_element(obj.get("element"), f"{pointer}/element")
        else:
            self.fail(f"{pointer}/type", f"unsupported block type {kind!r}")

    def element(self, obj: Any, pointer: str) -> None:
        if not isinstance(obj, Mapping):
            self.fail(pointer, "must provide an object")
            return
        kind = obj.get("type")
        if kind == "button":
            self.button(obj, pointer)
        elif kind == "image":
            self.image(obj, pointer)
        elif kind == "static_select":
            self.select(obj, pointer)
        else:
            self.fail(f"{pointer}/type", f"unsupported element type {kind!r}")

    def blocks(self, blocks: Any, pointer: str, *, most: int, surface: str) -> None:
        if not isinstance(blocks, list):
            self.fail(pointer, "must provide an array")
            return
        if len(blocks) > most:
            self.fail(pointer, f"must be less than {most + 1} items")
        seen: set[str] = set()
        for n, block in enumerate(blocks):
            self.block(block, f"{pointer}/{n}", surface=surface)
            block_id = block.get("block_id") if isinstance(block, Mapping) else None
            if isinstance(block_id, str):
                if block_id in seen:
                    self.fail(f"{pointer}/{n}/block_id", f"duplicate block_id {block_id!r}")
                seen.add(block_id)


def view_errors(view: Mapping[str, Any], files: FileLookup | None = None) -> list[str]:
    """What Slack says of a view (views.open / push / update / publish); empty when it is fine."""
    check = _Check(files)
    kind = view.get("type")
    if kind not in ("modal", "home"):
        check.fail("/view/type", "must be one of modal, home")
        return check.errors
    check.blocks(view.get("blocks"), "/view/blocks", most=VIEW_MAX_BLOCKS, surface=str(kind))
    if "private_metadata" in view:
        check.length(view["private_metadata"], "/view/private_metadata", 3000)
    if "callback_id" in view:
        check.length(view["callback_id"], "/view/callback_id", 255)
    if kind == "modal":
        check.text(view.get("title"), "/view/title", 24, plain=True)
        check.text(view.get("submit"), "/view/submit", 24, plain=True, required=False)
        check.text(view.get("close"), "/view/close", 24, plain=True, required=False)
        blocks = view.get("blocks") if isinstance(view.get("blocks"), list) else []
        has_input = any(isinstance(b, Mapping) and b.get("type") == "input" for b in blocks)
        if has_input and "submit" not in view:
            check.fail("/view", "submit is required when the view has an input block")
    return check.errors


def message_block_errors(blocks: Any, files: FileLookup | None = None) -> list[str]:
    """What Slack says of a message's blocks (chat.postMessage / update / postEphemeral)."""
    check = _Check(files)
    check.blocks(blocks, "/blocks", most=MESSAGE_MAX_BLOCKS, surface="message")
    return check.errors

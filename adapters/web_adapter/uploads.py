"""Files sent with a request -> the conversation's `Attachments`, checked like a chat's.

The page sends each attached file as a multipart part, in order. A file over the per-image limit
is not sent at all: the page declares it instead (a `declared` part: name, size, type), the way
Discord and Slack declare an attachment's size before anything is downloaded. The body as a whole
is capped by aiohttp's `client_max_size` (MAX_BODY): past it the server stops reading.

When the conversation asks (`load`, after the text's flags passed), the checks run as in a chat
(bot.conversation.attachments): the count, every declared type and size, then each file's bytes
and Seedream's limits on a reference. Any refusal comes before the engine sees a request, so
nothing is charged. Only images that passed are ever served back.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from bot import messages
from bot.conversation.attachments import AttachedFiles, Declared
from bot.conversation.turns import Options
from bot.errors import InvalidImage, InvalidRequest
from bot.numbers import whole_number
from bot.request.flags import cast_names
from bot.request.models import ImageInput
from bot.request.validation import MAX_REFERENCES, REFERENCE_MAX_BYTES

__all__ = ["MAX_BODY", "Form", "Upload", "WebAttachments", "posted", "read_form"]

log = logging.getLogger(__name__)

# Every reference at the size a host takes (a few full-size photos, which are shrunk to it),
# plus room for the text and options.
MAX_BODY = MAX_REFERENCES * REFERENCE_MAX_BYTES + 1024 * 1024
_NAME_MAX = 200


@dataclass(frozen=True, slots=True)
class Upload:
    name: str
    data: bytes | None  # None: declared by the page, not sent (over the per-image limit)
    declared_size: int | None
    declared_type: str


class WebAttachments(AttachedFiles[Upload]):
    """A request's files, as the conversation's `Attachments` (the checks are the core's).
    `on_loaded` gets them once every check passed (the page then shows them)."""

    def __init__(
        self, uploads: list[Upload], on_loaded: Callable[[list[ImageInput]], None] | None = None
    ) -> None:
        super().__init__(uploads)
        self.on_loaded = on_loaded

    async def declared(self) -> list[Declared[Upload]]:
        return [Declared(u.name, u.declared_type, u.declared_size, u) for u in self.items]

    async def fetch(self, item: Declared[Upload]) -> bytes:
        if item.source.data is None:  # declared small enough, yet not sent
            raise InvalidImage(messages.not_an_image(item.name))
        return item.source.data

    def loaded(self, images: list[ImageInput]) -> None:
        if self.on_loaded is not None:
            self.on_loaded(images)


@dataclass(frozen=True, slots=True)
class Form:
    text: str
    options: Options
    uploads: list[Upload]
    job: str  # the result a reply edits ("" for the thread's latest)


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # a pair is one code point in a str: these are alone


def sound(text: str) -> str:
    """Text as UTF-8 can carry it: a lone surrogate (half of a pair, sent as JSON's \\ud800 or in
    UTF-7) becomes U+FFFD. Kept in the timeline, it made every page's event stream fail."""
    return _LONE_SURROGATE.sub("\ufffd", text)


def _name(raw: object, n: int) -> str:
    name = sound(str(raw or "")).replace("\\", "/").rsplit("/", 1)[-1].strip()
    return name[:_NAME_MAX] or f"image {n}"


def _declared(raw: str, n: int) -> Upload:
    try:
        info = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: "[[[[…" nested past Python's stack
        info = None
    if not isinstance(info, dict):
        raise web.HTTPBadRequest(text="a declared file needs name, size and type")
    size = info.get("size")
    return Upload(
        _name(info.get("name"), n),
        None,
        size if isinstance(size, int) and not isinstance(size, bool) else None,
        sound(str(info.get("type") or "")),
    )


def _count(raw: str) -> int | None:
    text = raw.strip()
    if not text:
        return None
    count = whole_number(text)
    if count is None:
        raise InvalidRequest(messages.bad_flag_value("count", text, messages.HINT_WHOLE))
    return count


def _watermark(raw: str) -> bool | None:
    return {"on": True, "off": False}.get(raw.strip().lower())


async def posted(request: web.Request) -> Mapping[str, str | bytes | bytearray | web.FileField]:
    """The request's form fields. InvalidRequest for a body no page of ours sends: aiohttp
    raises UnicodeDecodeError for text that is not UTF-8, LookupError for an unknown charset,
    ValueError for broken multipart, HttpProcessingError for a part's header with a control
    character (a file named with ESC), RuntimeError for an unknown Content-Transfer-Encoding;
    each was a 500 with a traceback."""
    try:
        return await request.post()
    except (UnicodeDecodeError, LookupError, ValueError, HttpProcessingError, RuntimeError):
        log.info("web: %s %s: a form that could not be read", request.method, request.path)
        raise InvalidRequest(messages.WEB_STALE_PAGE) from None


async def read_form(request: web.Request) -> Form:
    """The request's text, options and files, in the order sent. Raises aiohttp's
    HTTPRequestEntityTooLarge past MAX_BODY (the app's client_max_size), InvalidRequest for a
    malformed count or a form no page of ours sends."""
    form = await posted(request)
    uploads: list[Upload] = []
    for key, value in form.items():
        n = len(uploads) + 1
        if key == "image" and isinstance(value, web.FileField):
            data = await asyncio.to_thread(value.file.read)
            uploads.append(Upload(_name(value.filename, n), data, len(data), value.content_type or ""))
        elif key == "declared" and isinstance(value, str):
            uploads.append(_declared(value, n))

    def text(name: str) -> str:
        value = form.get(name)
        return sound(value) if isinstance(value, str) else ""

    options = Options(
        aspect=text("aspect").strip() or None,
        resolution=text("resolution").strip() or None,
        count=_count(text("count")),
        model=text("model").strip() or None,
        output_format=text("format").strip() or None,
        watermark=_watermark(text("watermark")),
        style=text("style").strip() or None,
        refs=cast_names(text("ref")),
    )
    return Form(text("text"), options, uploads, text("job").strip())

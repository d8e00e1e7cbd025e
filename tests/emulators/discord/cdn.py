"""Attachments: files uploaded with a message become CDN objects behind signed URLs (``/cdn``,
``/media``); ``attachment://`` references in embeds resolve to them.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import mimetypes
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web

from tests.emulators.discord.constants import TEXT_CHANNEL_ID, _sid
from tests.emulators.discord.models import Recorded, _form_error, _Upload


def _sanitize_filename(name: str) -> str:
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", name)
    return cleaned or "unknown"


def _sniff_content_type(data: bytes, filename: str) -> str:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    guessed = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    if guessed.startswith("text/"):
        guessed += "; charset=utf-8"
    return guessed


def _image_size(data: bytes) -> tuple[int, int] | None:
    try:
        import io

        from PIL import Image

        with Image.open(io.BytesIO(data)) as img:
            return int(img.width), int(img.height)
    except Exception:
        return None


class CdnMixin:
    """The CDN and attachment objects.

    A mixin of :class:`DiscordEmulator` (``emulator.py``); its state is set up in ``server.py``.
    """

    def _sign(self, key: str) -> str:
        issued = int(time.time())
        expires = issued + 86400
        hm = hmac.new(self._cdn_secret, f"{key}|{expires:x}|{issued:x}".encode(), hashlib.sha256).hexdigest()
        return f"?ex={expires:x}&is={issued:x}&hm={hm}&"

    def _cdn_store(
        self, channel_id: str, filename: str, data: bytes, content_type: str | None
    ) -> dict[str, Any]:
        att_id = self.snowflake()
        filename = _sanitize_filename(filename)
        ctype = content_type or _sniff_content_type(data, filename)
        key = f"attachments/{channel_id}/{att_id}/{filename}"
        self._cdn[key] = (data, ctype)
        sig = self._sign(key)
        att: dict[str, Any] = {
            "id": att_id,
            "filename": filename,
            "size": len(data),
            "url": f"{self.cdn_base}/{key}{sig}",
            "proxy_url": f"{self.media_base}/{key}{sig}",
            "content_type": ctype,
        }
        if ctype.startswith("image/"):
            dims = _image_size(data)
            if dims:
                att["width"], att["height"] = dims
        return att

    def add_cdn_file(
        self,
        filename: str,
        data: bytes,
        content_type: str | None = None,
        *,
        channel_id: str | int = TEXT_CHANNEL_ID,
        description: str | None = None,
    ) -> dict[str, Any]:
        """Host ``data`` on the emulator's CDN and return a Discord attachment object for it."""
        att = self._cdn_store(_sid(channel_id), filename, data, content_type)
        if description is not None:
            att["description"] = description
        return att

    def cdn_bytes(self, url: str) -> bytes:
        """Bytes behind an emulator CDN URL (e.g. ``message["attachments"][0]["url"]``)."""
        key = re.sub(r"^.*?/(?:cdn|media)/", "", url).split("?", 1)[0]
        return self._cdn[key][0]

    def _serve_cdn(self, rec: Recorded, request: web.Request) -> web.Response:
        key = rec.path.split("/", 2)[2]
        entry = self._cdn.get(key)
        if entry is None:
            return web.Response(status=404, text="Not Found")
        if self.require_cdn_signature:
            q = request.query
            try:
                expires = int(q["ex"], 16)
                issued = int(q["is"], 16)
            except (KeyError, ValueError):
                return web.Response(status=404, text="This content is no longer available.")
            want = hmac.new(
                self._cdn_secret, f"{key}|{expires:x}|{issued:x}".encode(), hashlib.sha256
            ).hexdigest()
            if not hmac.compare_digest(want, q.get("hm", "")) or expires < time.time():
                return web.Response(status=404, text="This content is no longer available.")
        data, ctype = entry
        return web.Response(status=200, body=data, headers={"Content-Type": ctype.split(";")[0]})

    def _attachments_from_body(
        self,
        channel_id: str,
        body: Mapping[str, Any],
        uploads: Sequence[_Upload],
        existing: Sequence[dict[str, Any]] = (),
        *,
        editing: bool = False,
    ) -> list[dict[str, Any]]:
        """Resolve ``attachments`` metadata + ``files[N]`` parts into attachment objects (kept ones
        first). An edit that sends ``attachments`` leaves the message exactly those: kept ones by
        id, new ones by upload index (API v10: "the attachments array must contain all attachments
        that should be present after edit, including retained and new attachments")."""
        by_index = {u.slot if u.slot is not None else i: u for i, u in enumerate(uploads)}
        existing_by_id = {a["id"]: a for a in existing}
        meta = body.get("attachments")
        result: list[dict[str, Any]] = []
        used: set[int] = set()
        if meta is None:
            result.extend(copy.deepcopy(list(existing)))
            meta = []
        for j, entry in enumerate(meta):
            raw_id = entry.get("id")
            sid = str(raw_id)
            if sid in existing_by_id:
                kept = copy.deepcopy(existing_by_id[sid])
                if "description" in entry:
                    kept["description"] = entry["description"]
                result.append(kept)
                continue
            try:
                idx = int(raw_id)
            except (TypeError, ValueError):
                raise _form_error(
                    f"attachments.{j}.id", "ATTACHMENT_NOT_FOUND", "Unknown attachment"
                ) from None
            upload = by_index.get(idx)
            if upload is None:
                raise _form_error(f"attachments.{j}.id", "ATTACHMENT_NOT_FOUND", "Unknown attachment")
            used.add(idx)
            att = self._cdn_store(channel_id, entry.get("filename") or upload.filename, upload.data, None)
            if entry.get("description"):
                att["description"] = entry["description"]
            result.append(att)
        if editing and body.get("attachments") is not None:
            return result
        for idx, upload in sorted(by_index.items()):
            if idx not in used:  # files without metadata are still attached, as Discord does
                result.append(self._cdn_store(channel_id, upload.filename, upload.data, None))
        return result

    @staticmethod
    def _resolve_embed_attachments(
        embeds: list[dict[str, Any]], attachments: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        by_name = {a["filename"]: a for a in attachments}
        out = []
        for e in embeds:
            e = copy.deepcopy(e)
            e.setdefault("type", "rich")
            e["content_scan_version"] = 0
            for key in ("image", "thumbnail"):
                media = e.get(key)
                if isinstance(media, dict) and str(media.get("url", "")).startswith("attachment://"):
                    att = by_name.get(_sanitize_filename(media["url"][len("attachment://") :]))
                    if att is not None:
                        media.update({"url": att["url"], "proxy_url": att["proxy_url"]})
                        if "width" in att:
                            media.update({"width": att["width"], "height": att["height"]})
            out.append(e)
        return out

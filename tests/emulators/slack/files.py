"""Files: the private file host (bytes only for the bot token, else Slack's sign-in page), the
``files.getUploadURLExternal`` -> upload URL -> ``files.completeUploadExternal`` flow,
``files.info`` and ``files.list``.
"""

from __future__ import annotations

import mimetypes
import secrets
import time
from typing import Any
from urllib.parse import quote

from aiohttp import web

from tests.emulators.slack.constants import BOT_USER_ID, TEAM_ID, USER_ID
from tests.emulators.slack.models import RecordedRequest, _ApiError

LOGIN_PAGE_HTML = """<!DOCTYPE html>
<html lang="en-US">
<head><meta charset="utf-8"><title>Slack</title></head>
<body class="signin">
<h1>Sign in to seedtest</h1>
<form id="signin_form" action="/signin" method="post">
<input type="email" name="email" placeholder="name@work-email.com">
<button type="submit" id="signin_btn">Sign In</button>
</form>
</body>
</html>
"""


def _filetype(name: str, mimetype: str) -> str:
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext in ("jpg", "jpeg"):
        return "jpg"
    if ext:
        return ext
    if mimetype.startswith("text/"):
        return "text"
    return "binary"


class FilesMixin:
    """Hosted files and uploads.

    A mixin of :class:`SlackEmulator` (``emulator.py``); its state is set up in ``server.py``.
    """

    def add_file(
        self,
        name: str,
        data: bytes,
        mimetype: str | None = None,
        *,
        title: str | None = None,
        user: str = USER_ID,
        serve_html: bool = False,
        file_id: str | None = None,
    ) -> dict[str, Any]:
        """Put a file on the private file host and return its Slack file object.

        ``url_private``/``url_private_download`` serve ``data`` only with
        ``Authorization: Bearer <bot token>``; otherwise (or always, with ``serve_html=True``,
        which mimics a token lacking ``files:read``) they answer 200 with an HTML login page.
        Pass the returned dict in ``files=[...]`` of the event builders.
        """
        if not self.port:
            raise RuntimeError("start the emulator before add_file(): file URLs need its port")
        mimetype = mimetype or mimetypes.guess_type(name)[0] or "application/octet-stream"
        file_id = file_id or self._new_id("F")
        now = int(time.time())
        quoted = quote(name)
        ftype = _filetype(name, mimetype)
        info: dict[str, Any] = {
            "id": file_id,
            "created": now,
            "timestamp": now,
            "name": name,
            "title": title or name,
            "mimetype": mimetype,
            "filetype": ftype,
            "pretty_type": ftype.upper(),
            "user": user,
            "user_team": TEAM_ID,
            "editable": False,
            "size": len(data),
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": True,
            "public_url_shared": False,
            "display_as_bot": False,
            "username": "",
            "url_private": f"{self.base_url}/files-pri/{TEAM_ID}-{file_id}/{quoted}",
            "url_private_download": f"{self.base_url}/files-pri/{TEAM_ID}-{file_id}/download/{quoted}",
            "permalink": f"{self.base_url}/files/{user}/{file_id}/{quoted}",
            "permalink_public": f"{self.base_url}/{TEAM_ID}-{file_id}-{secrets.token_hex(5)}",
            "has_rich_preview": False,
            "file_access": "visible",
            "channels": [],
            "groups": [],
            "ims": [],
            "shares": {},
        }
        self.files[file_id] = info
        self._file_data[file_id] = bytes(data)
        if serve_html:
            self._html_files.add(file_id)
        return dict(info)

    def file_bytes(self, file_id: str) -> bytes:
        """The bytes behind a file (added with :meth:`add_file` or uploaded by the bot)."""
        return self._file_data[file_id]

    def uploaded_files(self) -> list[dict[str, Any]]:
        """Uploads (``files.getUploadURLExternal`` sessions) in order, each with ``file_id``,
        ``filename``, ``length`` (declared), ``data`` (bytes received or ``None``),
        ``completed`` and, once completed, ``title``, ``channel``, ``thread_ts``."""
        return list(self.uploads.values())

    # ------------------------------------------------------------------ Web API

    def _files_get_upload_url_external(self, p: dict[str, Any], _r: RecordedRequest) -> dict[str, Any]:
        filename = p.get("filename")
        length = p.get("length")
        if not filename or length in (None, ""):
            raise _ApiError("invalid_arguments")
        file_id = self._new_id("F")
        upload_id = secrets.token_hex(8)
        url = f"{self.base_url}/upload/v1/{upload_id}"
        self.uploads[file_id] = {
            "file_id": file_id,
            "upload_id": upload_id,
            "upload_url": url,
            "filename": str(filename),
            "length": int(length),
            "alt_txt": p.get("alt_txt"),
            "snippet_type": p.get("snippet_type"),
            "data": None,
            "completed": False,
        }
        return {"upload_url": url, "file_id": file_id}

    async def _handle_upload(self, request: web.Request) -> web.Response:
        rec = await self._record(request, "upload")
        upload = next(
            (u for u in self.uploads.values() if u["upload_id"] == request.match_info["upload_id"]), None
        )
        fault = self._take_fault("upload")
        if fault is not None:
            resp = self._fault_response(fault)
        elif upload is None:
            resp = web.Response(status=404, text="upload_not_found", content_type="text/plain")
        else:
            upload["data"] = rec.body
            upload["content_type"] = request.headers.get("Content-Type")
            upload["upload_headers"] = dict(request.headers)
            resp = web.Response(text=f"OK - {len(rec.body)}", content_type="text/plain")
        rec.status = resp.status
        self._notify()
        return resp

    def _files_complete_upload_external(self, p: dict[str, Any], _r: RecordedRequest) -> dict[str, Any]:
        items = p.get("files")
        if not isinstance(items, list) or not items:
            raise _ApiError("invalid_arguments")
        channels: list[str] = []
        if p.get("channel_id"):
            channels.append(self._writable_channel(p["channel_id"]))
        if p.get("channels"):
            channels.extend(self._writable_channel(c) for c in str(p["channels"]).split(","))
        thread_ts = p.get("thread_ts") or None
        if thread_ts and not channels:
            raise _ApiError("invalid_arguments")
        out: list[dict[str, Any]] = []
        for item in items:
            upload = self.uploads.get(item.get("id", ""))
            if upload is None or upload["data"] is None:
                raise _ApiError("file_not_found")
            if upload["completed"]:
                raise _ApiError("file_already_completed")
            info = self.add_file(
                upload["filename"],
                upload["data"],
                title=item.get("title") or upload["filename"],
                user=BOT_USER_ID,
                file_id=upload["file_id"],
            )
            upload.update(
                completed=True,
                title=info["title"],
                channel=channels[0] if channels else None,
                channels=list(channels),
                thread_ts=thread_ts,
                initial_comment=p.get("initial_comment"),
            )
            out.append(info)
        for cid in channels:
            msg = self._bot_message(cid, {"text": p.get("initial_comment") or "", "thread_ts": thread_ts})
            msg["upload"] = True
            msg["display_as_bot"] = False
            msg["files"] = [dict(f) for f in out]
            if p.get("blocks"):
                msg["blocks"] = p["blocks"]
            self.store_message(cid, msg)
            for f in out:
                stored = self.files[f["id"]]
                kind = "private" if self.channels[cid].get("is_private") or cid.startswith("D") else "public"
                share: dict[str, Any] = {"ts": msg["ts"], "channel_name": self.channels[cid].get("name", "")}
                if thread_ts:
                    share["thread_ts"] = thread_ts
                stored["shares"].setdefault(kind, {}).setdefault(cid, []).append(share)
                key = "ims" if cid.startswith("D") else "channels"
                stored[key].append(cid)
        return {"files": [dict(self.files[f["id"]]) for f in out]}

    def _files_info(self, p: dict[str, Any], _r: RecordedRequest) -> dict[str, Any]:
        info = self.files.get(str(p.get("file") or ""))
        if info is None:
            raise _ApiError("file_not_found")
        return {"file": dict(info), "comments": [], "response_metadata": {"next_cursor": ""}}

    def _files_list(self, p: dict[str, Any], _r: RecordedRequest) -> dict[str, Any]:
        """Files newest first, filtered by ``user``, ``channel``, ``types`` (``images`` and the
        like), ``ts_from``/``ts_to`` (creation time); ``count`` per page (default 100), ``page``."""
        found = list(reversed(self.files.values()))  # newest first among files of one second
        if p.get("user"):
            found = [f for f in found if f.get("user") == p["user"]]
        if p.get("channel"):
            cid = self._resolve_channel(p["channel"])
            found = [f for f in found if cid in (f.get("channels") or []) + (f.get("ims") or [])]
        if p.get("types") and p["types"] != "all":
            kinds = set(str(p["types"]).split(","))
            found = [
                f for f in found if "images" in kinds and str(f.get("mimetype", "")).startswith("image/")
            ]
        if p.get("ts_from"):
            found = [f for f in found if f["created"] >= float(p["ts_from"])]
        if p.get("ts_to"):
            found = [f for f in found if f["created"] <= float(p["ts_to"])]
        found.sort(key=lambda f: f["created"], reverse=True)
        count = max(1, min(int(p.get("count") or 100), 1000))
        page = max(1, int(p.get("page") or 1))
        pages = max(1, -(-len(found) // count))
        chunk = found[(page - 1) * count : page * count]
        return {
            "files": [dict(f) for f in chunk],
            "paging": {"count": count, "total": len(found), "page": page, "pages": pages},
        }

    def _files_upload_v1(self, _p: dict[str, Any], _r: RecordedRequest) -> dict[str, Any]:
        raise _ApiError("method_deprecated")

    # ------------------------------------------------------------------ private file host

    async def _handle_file(self, request: web.Request) -> web.Response:
        rec = await self._record(request, "file")
        team_file = request.match_info["team_file"]
        file_id = team_file.split("-", 1)[1] if "-" in team_file else team_file
        info = self.files.get(file_id)
        authorized = rec.token == self.bot_token
        fetch = {
            "file_id": file_id,
            "path": request.path,
            "headers": dict(request.headers),
            "authorized": authorized,
            "served": "",
        }
        if info is None:
            resp = web.Response(status=404, text="file_not_found", content_type="text/plain")
            fetch["served"] = "404"
        elif not authorized or file_id in self._html_files:
            # Real Slack answers a missing/invalid token (or a token without files:read)
            # with 200 and its sign-in page, not with 401/403.
            resp = web.Response(text=LOGIN_PAGE_HTML, content_type="text/html", charset="utf-8")
            fetch["served"] = "html"
        else:
            headers = {}
            if "/download/" in request.path:
                headers["Content-Disposition"] = f'attachment; filename="{info["name"]}"'
            resp = web.Response(body=self._file_data[file_id], content_type=info["mimetype"], headers=headers)
            fetch["served"] = "bytes"
        self.file_fetches.append(fetch)
        rec.status = resp.status
        self._notify()
        return resp

"""The playground's HTTP side (aiohttp.web + Jinja2): pages, the JSON API, events, images.

    GET  /                                  the page (a Jinja2 template; the timeline is drawn by
                                            static/playground.js from JSON, user text as text)
    GET  /login, POST /login, POST /logout  with SEEDBOT_WEB_TOKEN only
    GET  /api/events                        server-sent events: a snapshot, then each change
    GET  /api/timeline                      the same snapshot as JSON
    POST /api/ask                           multipart: text, options, files -> a new thread
    POST /api/threads/{thread}/reply        multipart: text, files[, job] -> an edit in the thread
    POST /api/threads/{thread}/hide         the thread leaves the page (its jobs stay in history)
    POST /api/jobs/{job}/{action}[?pick=N]  reroll, variations, edit (its form), delete, info,
                                            upscale (image N), cancel
    POST /api/jobs/{job}/cast               form: name, n -> image n saved in the cast
    GET  /api/cast, POST /api/cast/{name}/remove   the saved cast (names, thumbnails)
    GET  /api/usage, /api/help              the core's answers, as text
    GET  /api/history                       the gallery: the newest jobs and their images
    GET  /media/results/{job}/{n}[/thumb]   a result image (the original, or a thumbnail)
    GET  /media/uploads/{id}[/thumb]        a reference image that passed the checks
    GET  /media/cast/{name}[/thumb]         a saved cast image

Every route is behind security.Guard (sessions, CSRF, loopback Host, headers); request bodies
stop at uploads.MAX_BODY (client_max_size).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from adapters.web_adapter.language import LOCALE, language_middleware
from adapters.web_adapter.security import COOKIE, CSRF_HEADER, GUESSES_WAITING, SESSION, Guard, Session
from adapters.web_adapter.store import Stored, thumbnail
from adapters.web_adapter.surface import WebSurface
from adapters.web_adapter.uploads import MAX_BODY, Form, posted, read_form, sound
from bot import i18n, messages
from bot.conversation.turns import PRESSES, CastCommand, ResultRef
from bot.errors import InvalidRequest, SeedbotError
from bot.numbers import whole_number
from bot.request.validation import (
    ASPECTS,
    FORMATS,
    MAX_OUTPUTS,
    MAX_REFERENCES,
    MODELS,
    PROMPT_MAX_CHARS,
    TIERS,
    UPLOAD_MAX_BYTES,
)

__all__ = ["STATIC", "TEMPLATES", "build_app"]

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
# Seconds between keep-alives on an idle event stream: an event (a comment never reaches the
# page's script), so the page can tell a silent connection from an idle one (its watchdog).
HEARTBEAT = 15.0
KEEP_ALIVE = b"event: ping\ndata: {}\n\n"
# What an empty page offers to start from: options as flags, a batch, lettering (Seedream
# draws words), a shape, and leaving the picture to seedbot. Prompts are never translated.
EXAMPLES = (
    "a red fox in fresh snow, golden hour --ar 3:2 --n 2",
    'a neon sign that says "OPEN LATE" on a rainy street at night --ar 9:16',
    "an isometric cozy reading room, soft morning light --n 4",
    "surprise me --ar 16:9",
)
_SERVED_MIMES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif", "image/bmp", "image/tiff"})
_JOB = r"{job:[0-9a-f]{6,32}}"
_UPLOAD = r"{upload:u[0-9a-f]{12}}"
_CAST = r"{name:[a-z0-9][a-z0-9_-]{0,31}}"

SURFACE: web.AppKey[WebSurface] = web.AppKey("surface", WebSurface)
GUARD: web.AppKey[Guard] = web.AppKey("guard", Guard)
PAGES: web.AppKey[jinja2.Environment] = web.AppKey("pages", jinja2.Environment)
MAX_BODY_KEY: web.AppKey[int] = web.AppKey("max_body", int)


def _environment() -> jinja2.Environment:
    pages = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,  # every value is escaped where shown
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    # The pages' words come from the same catalogs, in the request's language (language.py).
    pages.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=i18n.gettext,
        ngettext=i18n.ngettext,
        pgettext=i18n.pgettext,
        npgettext=i18n.npgettext,
        newstyle=True,
    )
    return pages


def _render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    static = request.app.router["static"]
    assert isinstance(static, web.StaticResource)
    context["static"] = lambda name: str(static.url_for(filename=name, append_version=True))
    lang = request.get(LOCALE, i18n.ENGLISH)
    context["lang"] = lang
    context["html_lang"] = lang.replace("_", "-")
    context["languages"] = [(code, i18n.language_name(code)) for code in i18n.LOCALES]
    html = request.app[PAGES].get_template(template).render(**context)
    return web.Response(text=html, status=status, content_type="text/html")


def _session(request: web.Request) -> Session:
    return request[SESSION]


def _surface(request: web.Request) -> WebSurface:
    return request.app[SURFACE]


# -- pages --------------------------------------------------------------------------------------


async def index(request: web.Request) -> web.Response:
    guard = request.app[GUARD]
    styles, cast = await _surface(request).choices()
    return _render(
        request,
        "index.html",
        csrf=_session(request).csrf,
        csrf_header=CSRF_HEADER,
        signed_in=guard.needs_login,
        aspects=ASPECTS,
        tiers=TIERS,
        models=[(key, spec.name) for key, spec in MODELS.items()],
        formats=FORMATS,
        max_outputs=MAX_OUTPUTS,
        styles=styles,
        cast=cast,
        max_references=MAX_REFERENCES,
        max_bytes=UPLOAD_MAX_BYTES,
        max_body=request.app[MAX_BODY_KEY],
        too_large=messages.web_body_too_large(request.app[MAX_BODY_KEY], UPLOAD_MAX_BYTES, MAX_REFERENCES),
        stale=messages.WEB_STALE_PAGE,
        max_prompt=PROMPT_MAX_CHARS,
        heartbeat=int(HEARTBEAT),
        labels=messages.web_labels(),
        examples=EXAMPLES,
    )


async def login_form(request: web.Request) -> web.StreamResponse:
    if not request.app[GUARD].needs_login:
        raise web.HTTPSeeOther("/")
    return _render(request, "login.html", error="", hint=messages.WEB_SIGN_IN)


async def login(request: web.Request) -> web.StreamResponse:
    guard = request.app[GUARD]
    if not guard.needs_login:
        raise web.HTTPSeeOther("/")
    try:
        form = await posted(request)
    except InvalidRequest as exc:
        return _render(request, "login.html", status=400, error=exc.user_text, hint=messages.WEB_SIGN_IN)
    given = form.get("token")
    signed_in = await guard.signs_in(given if isinstance(given, str) else "")
    if signed_in is None:
        log.warning("web: sign-ins refused: %d already waiting (a guessing attempt?)", GUESSES_WAITING)
        return _render(
            request, "login.html", status=429, error=messages.WEB_SIGN_IN_BUSY, hint=messages.WEB_SIGN_IN
        )
    if not signed_in:
        log.info("web: a sign-in with a wrong token from %s", request.remote)
        return _render(
            request, "login.html", status=401, error=messages.WEB_SIGN_IN_REFUSED, hint=messages.WEB_SIGN_IN
        )
    session = guard.sessions.start()
    response = _see_other("/")
    guard.set_cookie(request, response, session)
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    guard = request.app[GUARD]
    guard.sessions.end(_session(request).id)
    response = _see_other("/login" if guard.needs_login else "/")
    response.del_cookie(COOKIE, path="/")
    return response


def _see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


# -- the API ------------------------------------------------------------------------------------


def _bad(text: str, status: int = 400) -> web.Response:
    return web.json_response({"error": text}, status=status)


async def _form(request: web.Request) -> Form | web.Response:
    try:
        return await read_form(request)
    except web.HTTPRequestEntityTooLarge:
        limit = request.app[MAX_BODY_KEY]
        log.info("web: a request body over %d bytes was cut off", limit)
        return _bad(messages.web_body_too_large(limit, UPLOAD_MAX_BYTES, MAX_REFERENCES), 413)
    except SeedbotError as exc:
        return _bad(messages.with_charge_note(exc.user_text))


async def ask(request: web.Request) -> web.Response:
    form = await _form(request)
    if isinstance(form, web.Response):
        return form
    thread = _surface(request).ask(form)
    return web.json_response({"thread": thread}, status=202)


async def reply(request: web.Request) -> web.Response:
    form = await _form(request)
    if isinstance(form, web.Response):
        return form
    thread = request.match_info["thread"]
    _surface(request).reply(thread, form)
    return web.json_response({"thread": thread}, status=202)


async def hide(request: web.Request) -> web.Response:
    _surface(request).timeline.hide(request.match_info["thread"])
    return web.json_response({})


async def press(request: web.Request) -> web.Response:
    action = request.match_info["action"]
    if action not in PRESSES:
        raise web.HTTPNotFound()
    raw = request.query.get("pick", "")
    pick = whole_number(raw)
    if raw and not (pick is not None and 1 <= pick <= 15):
        raise web.HTTPBadRequest()
    said = await _surface(request).press(request.match_info["job"], action, pick)
    form = said.form
    edit = {"job": form.job_id, "prompt": form.prompt, "max": form.max_chars} if form else None
    return web.json_response({"say": said.text, "refused": said.refused, "edit": edit})


async def save_to_cast(request: web.Request) -> web.Response:
    """The Save to cast button under a result's image: name and n (the image) in the form."""
    try:
        form = await posted(request)
    except InvalidRequest as exc:
        return _bad(exc.user_text)
    name, n = sound(str(form.get("name") or "")), str(form.get("n") or "")
    pick = whole_number(n)
    command = CastCommand("save", name, result=ResultRef(job_id=request.match_info["job"]), pick=pick)
    said = await _surface(request).cast(command)
    return web.json_response({"say": said.text, "refused": said.refused})


async def cast(request: web.Request) -> web.Response:
    return web.json_response({"entries": await _surface(request).cast_entries()})


async def cast_remove(request: web.Request) -> web.Response:
    said = await _surface(request).cast(CastCommand("remove", request.match_info["name"]))
    return web.json_response({"say": said.text, "refused": said.refused})


async def cast_image(request: web.Request) -> web.Response:
    found = await _surface(request).cast_image(request.match_info["name"])
    # Keyed by content: a name saved again shows its new image, not a cached thumbnail.
    key = f"c/{hashlib.sha256(found.data).hexdigest()[:24]}" if found else "c/"
    return await _image(request, key, found)


async def timeline(request: web.Request) -> web.Response:
    return web.json_response(_surface(request).timeline.snapshot())


async def usage(request: web.Request) -> web.Response:
    return web.json_response({"text": await _surface(request).usage()})


async def help_text(request: web.Request) -> web.Response:
    return web.json_response({"text": _surface(request).help()})


async def history(request: web.Request) -> web.Response:
    return web.json_response({"jobs": await _surface(request).history()})


async def events(request: web.Request) -> web.StreamResponse:
    surface = _surface(request)
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
    subscriber = surface.timeline.subscribe()
    try:
        await response.write(b"retry: 2000\n\n")
        await surface.publish_usage()
        session, sessions = request[SESSION], request.app[GUARD].sessions
        while True:
            text = await subscriber.next(HEARTBEAT)
            if text is None or not sessions.alive(session):  # signed out: nothing more for it
                break
            await response.write(text.encode("utf-8", "replace") if text else KEEP_ALIVE)
    except ConnectionResetError:  # the page went away
        pass
    finally:
        surface.timeline.unsubscribe(subscriber)
    return response


# -- images -------------------------------------------------------------------------------------


async def _image(request: web.Request, key: str, found: Stored | None) -> web.Response:
    if found is None:
        raise web.HTTPNotFound()
    store = _surface(request).page.store
    if request.match_info.get("thumb"):
        thumb_key = f"t/{key}"
        cached = store.get(thumb_key)
        if cached is None:
            try:
                cached = await asyncio.to_thread(thumbnail, found.data)
            except Exception:
                raise web.HTTPNotFound() from None
            store.put(thumb_key, cached)
        found = cached
    mime = found.mime if found.mime in _SERVED_MIMES else "application/octet-stream"
    headers = {
        "Cache-Control": "private, max-age=86400",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
    if found.name and not request.match_info.get("thumb"):
        headers["Content-Disposition"] = f'inline; filename="{found.name}"'
    return web.Response(body=found.data, content_type=mime, headers=headers)


async def result_image(request: web.Request) -> web.Response:
    job, n = request.match_info["job"], int(request.match_info["n"])
    found = await _surface(request).result_image(job, n)
    return await _image(request, f"r/{job}/{n}", found)


async def upload_image(request: web.Request) -> web.Response:
    key = f"u/{request.match_info['upload']}"
    return await _image(request, key, _surface(request).page.store.get(key))


def build_app(surface: WebSurface, guard: Guard, *, max_body: int = MAX_BODY) -> web.Application:
    app = web.Application(middlewares=[language_middleware, guard.middleware], client_max_size=max_body)
    app[MAX_BODY_KEY] = max_body
    app[SURFACE] = surface
    app[GUARD] = guard
    app[PAGES] = _environment()
    router = app.router
    router.add_get("/", index)
    router.add_get("/login", login_form)
    router.add_post("/login", login)
    router.add_post("/logout", logout)
    router.add_get("/api/events", events)
    router.add_get("/api/timeline", timeline)
    router.add_post("/api/ask", ask)
    router.add_post("/api/threads/{thread:t[0-9a-f]{12}}/reply", reply)
    router.add_post("/api/threads/{thread:t[0-9a-f]{12}}/hide", hide)
    router.add_post(f"/api/jobs/{_JOB}/cast", save_to_cast)
    router.add_post(f"/api/jobs/{_JOB}/{{action:[a-z]+}}", press)
    router.add_get("/api/cast", cast)
    router.add_post(f"/api/cast/{_CAST}/remove", cast_remove)
    router.add_get(f"/media/cast/{_CAST}", cast_image)
    router.add_get(f"/media/cast/{_CAST}/{{thumb:thumb}}", cast_image)
    router.add_get("/api/usage", usage)
    router.add_get("/api/help", help_text)
    router.add_get("/api/history", history)
    router.add_get(f"/media/results/{_JOB}/{{n:[1-9][0-9]?}}", result_image)
    router.add_get(f"/media/results/{_JOB}/{{n:[1-9][0-9]?}}/{{thumb:thumb}}", result_image)
    router.add_get(f"/media/uploads/{_UPLOAD}", upload_image)
    router.add_get(f"/media/uploads/{_UPLOAD}/{{thumb:thumb}}", upload_image)
    router.add_static("/static/", STATIC, name="static")
    return app

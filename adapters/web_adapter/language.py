"""The playground's language: `?lang=ja` picks it (and a cookie keeps it), else the cookie of
an earlier pick, else the browser's Accept-Language; English when none of those is spoken here.

The middleware sets it for the request (bot/i18n's context variable), so every word the page,
the API and the threads it starts show is in it; background work a request starts keeps it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from bot import i18n

__all__ = ["COOKIE", "LOCALE", "language_middleware", "locale_for"]

COOKIE = "seedbot_lang"
COOKIE_AGE = 365 * 24 * 3600
LOCALE: web.RequestKey[str] = web.RequestKey("locale", str)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def locale_for(request: web.Request) -> tuple[str, bool]:
    """The request's locale, and whether it was picked now (?lang=, to be kept in the cookie)."""
    asked = request.query.get("lang")
    if asked:
        return i18n.normalize(asked), True
    kept = request.cookies.get(COOKIE)
    if kept in i18n.LOCALES:
        return kept, False
    return i18n.pick(request.headers.get("Accept-Language")), False


@web.middleware
async def language_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    locale, picked = locale_for(request)
    request[LOCALE] = locale
    token = i18n.set_current(locale)
    try:
        response = await handler(request)
    finally:
        i18n.reset(token)
    if picked and not response.prepared:
        response.set_cookie(COOKIE, locale, max_age=COOKIE_AGE, path="/", httponly=True, samesite="Strict")
    return response

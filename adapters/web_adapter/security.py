"""Who may use the playground, checked on every request before any handler runs.

- Sessions: a random id in a cookie (HttpOnly, SameSite=Strict), kept in memory. Without
  SEEDBOT_WEB_TOKEN the page itself starts one; with it, only the login form does, for the right
  token (compared with hmac.compare_digest). Every page, API call, event stream and image needs
  one; only the login form and the static files (the page's own code) do not.
- CSRF: every state-changing request carries the session's own random token in a header
  (X-CSRF-Token, from the page's <meta>), and is refused when the browser says it comes from
  another site (Origin, Sec-Fetch-Site).
- Without a token the playground answers only to a loopback Host header: a web page elsewhere
  can't reach it through DNS rebinding.
- Every response forbids framing and inline scripts (Content-Security-Policy) and sniffing.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from aiohttp import web

from bot import messages

__all__ = [
    "COOKIE",
    "CSP",
    "CSRF_HEADER",
    "SESSION",
    "Guard",
    "Session",
    "Sessions",
]

log = logging.getLogger(__name__)

COOKIE = "seedbot_session"
CSRF_HEADER = "X-CSRF-Token"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SESSION_TTL = 7 * 24 * 3600.0  # seconds a session lasts without use
MAX_SESSIONS = 200
WRONG_TOKEN_DELAY = 1.0  # seconds a wrong token holds the next guess: guessing is slow
GUESSES_WAITING = 10  # sign-ins waiting their turn; more at once are told to try again later
PUBLIC_PREFIXES = ("/static/",)
LOGIN = "/login"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "ip6-localhost"})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Session:
    id: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    used: float = field(default_factory=time.monotonic)


SESSION: web.RequestKey[Session] = web.RequestKey("session", Session)


class Sessions:
    def __init__(self, max_sessions: int = MAX_SESSIONS, ttl: float = SESSION_TTL) -> None:
        self.max_sessions = max_sessions
        self.ttl = ttl
        self._by_id: OrderedDict[str, Session] = OrderedDict()

    def start(self) -> Session:
        session = Session()
        self._by_id[session.id] = session
        while len(self._by_id) > self.max_sessions:
            self._by_id.popitem(last=False)
        return session

    def get(self, session_id: str | None) -> Session | None:
        if not session_id:
            return None
        session = self._by_id.get(session_id)
        if session is None:
            return None
        now = time.monotonic()
        if now - session.used > self.ttl:
            self.end(session_id)
            return None
        session.used = now
        self._by_id.move_to_end(session_id)
        return session

    def end(self, session_id: str) -> None:
        self._by_id.pop(session_id, None)

    def alive(self, session: Session) -> bool:
        """Not signed out or pushed out (an open event stream ends with its session)."""
        return self._by_id.get(session.id) is session


def loopback_host(host_header: str) -> bool:
    """A Host header naming this machine (127.0.0.1:8080, localhost, [::1]:8080)."""
    try:
        host = urlsplit(f"//{host_header}").hostname or ""
    except ValueError:  # "Host: [": no host at all
        return False
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _bytes(text: str) -> bytes:
    """A header's or form's text as bytes for a constant-time comparison, whatever it holds (a
    header byte that is no UTF-8 arrives as a lone surrogate, which .encode() refused: a 500)."""
    return text.encode("utf-8", "surrogatepass")


def _refused(request: web.Request, status: int, text: str) -> web.Response:
    return web.json_response({"error": text}, status=status)


class Guard:
    """The aiohttp middleware: host, session, CSRF, security headers."""

    def __init__(self, token: str | None, sessions: Sessions | None = None) -> None:
        self._token = token
        self.sessions = sessions or Sessions()
        self._guessing = asyncio.Lock()
        self._waiting = 0

    @property
    def needs_login(self) -> bool:
        return self._token is not None

    def token_matches(self, given: str) -> bool:
        if self._token is None:
            return False
        return hmac.compare_digest(_bytes(given), _bytes(self._token))

    async def signs_in(self, given: str) -> bool | None:
        """Whether `given` is the token, one sign-in at a time, a wrong one holding the next
        for WRONG_TOKEN_DELAY: a wait per request let a thousand guesses sent at once be
        answered in three seconds. None: too many are waiting (try again later)."""
        if self._waiting >= GUESSES_WAITING:
            return None
        self._waiting += 1
        try:
            async with self._guessing:
                if self.token_matches(given):
                    return True
                await asyncio.sleep(WRONG_TOKEN_DELAY)
                return False
        finally:
            self._waiting -= 1

    def set_cookie(self, request: web.Request, response: web.StreamResponse, session: Session) -> None:
        # Lax, not Strict: a link from another site to the page keeps the session (Strict
        # started a new one, and the open tab's next send was "out of date"); what changes state
        # needs the CSRF header, which no other site can send. Secure over HTTPS, a TLS proxy's too.
        secure = request.secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https"
        response.set_cookie(COOKIE, session.id, httponly=True, samesite="Lax", path="/", secure=secure)

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await self._checked(request, handler)
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        headers["Referrer-Policy"] = "no-referrer"
        headers.setdefault("Cache-Control", "no-store")
        return response

    async def _checked(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self._token is None and not loopback_host(request.host):
            return _refused(request, 421, messages.WEB_WRONG_HOST)
        path = request.path
        if path.startswith(PUBLIC_PREFIXES):
            return await handler(request)
        unsafe = request.method not in _SAFE_METHODS
        if unsafe and not self._same_origin(request):
            return _refused(request, 403, messages.WEB_STALE_PAGE)
        if path == LOGIN:
            return await handler(request)
        session = self.sessions.get(request.cookies.get(COOKIE))
        if session is None:
            # Only the page itself, opened as a page: an <img src> or a fetch of / from another
            # site started sessions too, enough of them to push the real one out.
            as_page = request.headers.get("Sec-Fetch-Dest", "document") == "document"
            if request.method == "GET" and path == "/" and as_page:
                if self._token is not None:
                    raise web.HTTPSeeOther(LOGIN)
                session = self.sessions.start()  # no token: the page itself starts a session
                request[SESSION] = session
                response = await handler(request)
                self.set_cookie(request, response, session)
                return response
            ended = messages.WEB_SESSION_NEEDED if self._token is not None else messages.WEB_SESSION_ENDED
            return _refused(request, 401, ended)
        request[SESSION] = session
        if unsafe and not hmac.compare_digest(
            _bytes(request.headers.get(CSRF_HEADER, "")), _bytes(session.csrf)
        ):
            log.info("web: %s %s refused: no or wrong CSRF token", request.method, path)
            return _refused(request, 403, messages.WEB_STALE_PAGE)
        return await handler(request)

    @staticmethod
    def _same_origin(request: web.Request) -> bool:
        """False when the browser says the request comes from another site."""
        if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
            return False
        origin = request.headers.get("Origin")
        if origin is None or (origin == "null" and request.path == LOGIN):
            return True
        try:
            netloc = urlsplit(origin).netloc.lower()
        except ValueError:  # "Origin: http://[": from nowhere
            return False
        # A reverse proxy may pass its own Host upstream and the page's in X-Forwarded-Host (a
        # page on another site cannot set that header on a request the browser sends for it).
        hosts = (request.host, request.headers.get("X-Forwarded-Host", ""))
        return any(netloc == host.lower() for host in hosts if host)

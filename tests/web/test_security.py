"""Who may use the playground: sessions, the token, CSRF, the Host header, what a page may load,
and that no key or token ever reaches a page."""

from __future__ import annotations

import asyncio
import html
import re

import pytest
from markupsafe import escape
from pydantic import SecretStr

from adapters.web_adapter.security import COOKIE, CSP, CSRF_HEADER, GUESSES_WAITING, WRONG_TOKEN_DELAY, Guard
from adapters.web_adapter.settings import MIN_TOKEN_CHARS, WebSettings, load_settings
from bot import messages
from bot.errors import SeedbotError
from tests.web.conftest import OpenPlayground, Playground, has

TOKEN = "correct-horse-battery-staple-42"
ANYWHERE = "0.0.0.0"  # noqa: S104 - the address the playground must refuse without a token


async def test_the_page_starts_a_lax_session_and_forbids_inline_code(
    open_playground: OpenPlayground,
) -> None:
    pg = await open_playground()
    response = await pg.client.get("/")
    cookie = response.headers["Set-Cookie"]
    # Lax: a link from another site to the page keeps the session (state changes need the CSRF
    # header, which no other site can send); Strict started a new one under the open tab.
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http on this machine: the browser would drop it
    assert response.headers["Content-Security-Policy"] == CSP
    assert "'unsafe-inline'" not in CSP and "script-src 'self'" in CSP and "frame-ancestors 'none'" in CSP
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    html = await response.text()
    assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []  # no inline code: only files of its own
    assert re.search(r"\son[a-z]+=", html) is None  # no inline event handlers
    again = await pg.client.get("/")  # the session goes on: no new cookie
    assert "Set-Cookie" not in again.headers


async def test_every_api_call_needs_a_session(open_playground: OpenPlayground) -> None:
    pg = await open_playground()
    client = pg.client
    for path in (
        "/api/timeline",
        "/api/events",
        "/api/usage",
        "/api/history",
        "/media/results/0123456789ab/1",
    ):
        response = await client.get(path)
        assert response.status == 401, path
        # No token is set: the page itself starts a session (a restart forgets it), so the page
        # is what to open again; "enter its token" named a token there is none of.
        assert (await response.json())["error"] == messages.WEB_SESSION_ENDED
    assert (await client.post("/api/ask", data={"text": "a fox"})).status == 401
    assert (await client.get("/static/playground.js")).status == 200  # the page's own code is public


async def test_state_changes_need_the_sessions_csrf_token(playground: Playground) -> None:
    refused = [
        await playground.post("/api/ask", playground.form("a fox"), csrf=False),
        await playground.client.post(
            "/api/ask", data=playground.form("a fox"), headers={CSRF_HEADER: "not-the-token"}
        ),
        await playground.client.post(
            "/api/ask",
            data=playground.form("a fox"),
            headers={CSRF_HEADER: playground.csrf, "Origin": "https://evil.example"},
        ),
        await playground.client.post(
            "/api/ask",
            data=playground.form("a fox"),
            headers={CSRF_HEADER: playground.csrf, "Sec-Fetch-Site": "cross-site"},
        ),
    ]
    for response in refused:
        assert response.status == 403
        assert (await response.json())["error"] == messages.WEB_STALE_PAGE
    assert (await playground.timeline())["threads"] == []
    same_site = await playground.client.post(
        "/api/ask",
        data=playground.form("a fox"),
        headers={CSRF_HEADER: playground.csrf, "Origin": str(playground.client.make_url("")).rstrip("/")},
    )
    assert same_site.status == 202


async def test_only_the_page_opened_as_a_page_starts_a_session(open_playground: OpenPlayground) -> None:
    """Another site's <img src> or fetch of / started sessions too: 200 of them pushed the real
    one out, and its next send was refused."""
    pg = await open_playground()
    for dest in ("image", "empty", "script"):
        embedded = await pg.client.get("/", headers={"Sec-Fetch-Dest": dest})
        assert embedded.status == 401 and "Set-Cookie" not in embedded.headers, dest
    page = await pg.client.get("/", headers={"Sec-Fetch-Dest": "document"})
    assert page.status == 200 and "Set-Cookie" in page.headers


async def test_behind_a_tls_proxy_the_cookie_is_secure_and_its_forwarded_host_is_the_origin(
    playground: Playground,
) -> None:
    proxied = await playground.client.get("/", cookies={}, headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in proxied.headers.get("Set-Cookie", "Secure")  # a new session only if none
    forwarded = {"Origin": "https://seedbot.example.org", "X-Forwarded-Host": "seedbot.example.org"}
    same_site = await playground.client.post(
        "/api/ask", data=playground.form("a fox"), headers={CSRF_HEADER: playground.csrf, **forwarded}
    )
    assert same_site.status == 202
    other = {**forwarded, "Origin": "https://evil.example"}
    refused = await playground.client.post(
        "/api/ask", data=playground.form("a fox"), headers={CSRF_HEADER: playground.csrf, **other}
    )
    assert refused.status == 403


@pytest.mark.parametrize(
    "headers",
    [{"Host": "["}, {"Origin": "http://["}, {CSRF_HEADER: "\xff\xfe"}],
    ids=["host", "origin", "csrf-not-utf8"],
)
async def test_a_malformed_header_is_refused_not_a_server_error(
    playground: Playground, headers: dict[str, str]
) -> None:
    """Each was an HTTP 500 with a traceback (a ValueError, a UnicodeEncodeError)."""
    sent = {CSRF_HEADER: playground.csrf, **headers}
    response = await playground.client.post("/api/ask", data=playground.form("a fox"), headers=sent)
    assert response.status in (403, 421)


async def test_without_a_token_only_a_loopback_host_is_answered(playground: Playground) -> None:
    rebound = await playground.client.get("/", headers={"Host": "attacker.example:8080"})
    assert rebound.status == 421 and (await rebound.json())["error"] == messages.WEB_WRONG_HOST
    for host in ("localhost:8080", "127.0.0.1", "[::1]:8080"):
        assert (await playground.client.get("/api/usage", headers={"Host": host})).status == 200, host


async def test_with_a_token_everything_needs_a_signed_in_session(
    open_playground: OpenPlayground, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("adapters.web_adapter.security.WRONG_TOKEN_DELAY", 0.0)
    pg = await open_playground(token=TOKEN)
    client = pg.client
    page = await client.get("/", allow_redirects=False)
    assert page.status == 303 and page.headers["Location"] == "/login"
    for path in ("/api/timeline", "/api/events", "/api/history", "/api/help"):
        assert (await client.get(path)).status == 401, path
    assert (await client.post("/api/ask", data={"text": "a fox"})).status == 401
    login = await client.get("/login")
    assert login.status == 200 and str(escape(messages.WEB_SIGN_IN)) in await login.text()

    # A sign-in form no page sends (not UTF-8) is the sign-in page again, not a 500.
    garbled = await client.post(
        "/login",
        data=b'--x\r\nContent-Disposition: form-data; name="token"\r\n\r\n\xff\r\n--x--\r\n',
        headers={"Content-Type": "multipart/form-data; boundary=x"},
        allow_redirects=False,
    )
    assert garbled.status == 400 and str(escape(messages.WEB_STALE_PAGE)) in await garbled.text()
    wrong = await client.post("/login", data={"token": TOKEN[:-1]}, allow_redirects=False)
    assert wrong.status == 401 and str(escape(messages.WEB_SIGN_IN_REFUSED)) in await wrong.text()
    assert COOKIE not in wrong.cookies
    assert (await client.get("/api/timeline")).status == 401

    right = await client.post("/login", data={"token": TOKEN}, allow_redirects=False)
    assert right.status == 303 and right.headers["Location"] == "/"
    assert "HttpOnly" in right.headers["Set-Cookie"] and "SameSite=Lax" in right.headers["Set-Cookie"]
    html = await pg.open_page()
    assert TOKEN not in html
    thread = await pg.ask("a fox")
    await pg.until(thread, has("result"))

    out = await pg.post("/logout")
    assert out.status in (200, 303)
    assert (await client.get("/api/timeline")).status == 401


async def test_a_signed_out_sessions_event_stream_ends_before_anything_new(
    open_playground: OpenPlayground,
) -> None:
    """A stream opened before sign-out went on showing every new prompt and result."""
    pg = await open_playground(token=TOKEN)
    assert (await pg.client.post("/login", data={"token": TOKEN})).status == 200
    await pg.open_page()
    stream = await pg.client.get("/api/events")
    assert stream.status == 200
    await stream.content.readuntil(b"\n\n")  # retry: the stream is open
    assert (await pg.post("/logout")).status in (200, 303)
    timeline = pg.platform.surface.timeline  # what another session says next
    timeline.add(timeline.new_thread("a secret plan").id, "ask", text="a secret plan")
    rest = await asyncio.wait_for(stream.content.read(), 10)  # the stream ends
    assert b"secret plan" not in rest


async def test_wrong_tokens_are_slowed_down(
    open_playground: OpenPlayground, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guessing the token: each wrong one waits (only the constant was checked, not the wait)."""
    assert WRONG_TOKEN_DELAY >= 0.5
    monkeypatch.setattr("adapters.web_adapter.security.WRONG_TOKEN_DELAY", 0.3)
    pg = await open_playground(token=TOKEN)
    loop = asyncio.get_running_loop()
    started = loop.time()
    wrong = await pg.client.post("/login", data={"token": TOKEN[:-1]}, allow_redirects=False)
    assert wrong.status == 401 and loop.time() - started >= 0.3


async def test_guesses_sent_at_once_are_taken_one_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """The wait was per request: a thousand guesses sent at once were answered in three seconds,
    and a right one among them at once. One at a time now, and past a few waiting, none."""
    monkeypatch.setattr("adapters.web_adapter.security.WRONG_TOKEN_DELAY", 0.1)
    guard = Guard(TOKEN)
    loop = asyncio.get_running_loop()
    started = loop.time()

    async def guess(token: str) -> tuple[bool | None, float]:
        return await guard.signs_in(token), loop.time() - started

    tokens = [f"{TOKEN[:-2]}{n:02d}" for n in range(GUESSES_WAITING + 5)]
    tokens.insert(4, TOKEN)
    answers = await asyncio.gather(*(asyncio.create_task(guess(t)) for t in tokens))
    assert [said for said, _ in answers] == [False] * 4 + [True] + [False] * 5 + [None] * 6
    assert answers[4][1] >= 0.4 - 0.01  # the right one waited its turn behind four wrong ones
    assert answers[9][1] >= 0.9 - 0.01  # each wrong one held the next
    assert all(t < 0.1 for _, t in answers[10:])  # those past the queue are told at once
    assert await guard.signs_in(TOKEN)  # and the queue is free again


async def test_too_many_sign_ins_waiting_are_told_to_try_later(
    open_playground: OpenPlayground, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("adapters.web_adapter.security.GUESSES_WAITING", 0)
    pg = await open_playground(token=TOKEN)
    busy = await pg.client.post("/login", data={"token": TOKEN}, allow_redirects=False)
    assert busy.status == 429
    assert html.escape(messages.WEB_SIGN_IN_BUSY, quote=True) in await busy.text()


async def test_no_key_or_token_reaches_a_page(open_playground: OpenPlayground) -> None:
    secrets = {"novita_api_key": "novita-secret-key-123", "segmind_api_key": "segmind-secret-key-456"}
    pg = await open_playground(
        token=TOKEN, providers=["demo"], **{k: SecretStr(v) for k, v in secrets.items()}
    )
    login = await pg.client.post("/login", data={"token": TOKEN})
    assert login.status == 200
    await pg.open_page()
    thread = await pg.ask("a fox")
    await pg.until(thread, has("result"))
    bodies = []
    for path in ("/", "/login", "/api/timeline", "/api/usage", "/api/help", "/api/history"):
        bodies.append(await (await pg.client.get(path)).text())
    for name in ("playground.js", "playground.css"):
        bodies.append(await (await pg.client.get(f"/static/{name}")).text())
    for body in bodies:
        for secret in [TOKEN, *secrets.values()]:
            assert secret not in body


# -- settings ---------------------------------------------------------------------------------


def test_an_address_other_machines_reach_needs_a_long_token() -> None:
    with pytest.raises(SeedbotError) as exposed:
        WebSettings(host=ANYWHERE).check()
    assert exposed.value.user_text == messages.web_needs_token(ANYWHERE)
    with pytest.raises(SeedbotError) as short:
        WebSettings(host=ANYWHERE, token="x" * (MIN_TOKEN_CHARS - 1)).check()
    assert short.value.user_text == messages.web_token_too_short(MIN_TOKEN_CHARS)
    WebSettings(host=ANYWHERE, token=TOKEN).check()
    for host in ("127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"):
        assert WebSettings(host=host).loopback, host
        WebSettings(host=host).check()
    for host in (ANYWHERE, "192.168.1.5", "example.com", "::"):
        assert not WebSettings(host=host).loopback, host


def test_settings_come_from_the_environment_and_the_env_file(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pathlib import Path

    env = Path(str(tmp_path)) / "web.env"
    env.write_text("SEEDBOT_WEB_PORT=9090\nSEEDBOT_WEB_TOKEN=from-the-file-0123456789\n")
    settings = load_settings(str(env))
    assert settings.port == 9090 and settings.token_value == "from-the-file-0123456789"
    assert settings.secrets() == ["from-the-file-0123456789"]
    assert "from-the-file" not in repr(settings)
    monkeypatch.setenv("SEEDBOT_WEB_PORT", "7000")
    assert load_settings(str(env)).port == 7000
    monkeypatch.setenv("SEEDBOT_WEB_PORT", "lots")
    with pytest.raises(SeedbotError) as bad:
        load_settings(None)
    assert "SEEDBOT_WEB_PORT" in bad.value.user_text or "port" in bad.value.user_text

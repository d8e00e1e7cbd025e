"""SafeFetcher against a real loopback aiohttp server: address checks on every hop, caps, headers."""

from __future__ import annotations

import asyncio
import gzip
import random
import socket
import time
import tracemalloc
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest
from aiohttp import web

from bot.app.http_pool import SeedbotHTTPClient
from bot.errors import DownloadError
from bot.media.fetch import MAX_REDIRECTS, SafeFetcher, host_of

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 200
BODY = random.Random(7).randbytes(1_000_003)  # several reads' worth, distinct bytes
TEXT = b"seedream " * 20_000


@dataclass
class Server:
    port: int
    other_port: int = 0  # the same app on a second port: another origin on the same host
    hits: list[tuple[str, str, str | None]] = field(default_factory=list)  # (path, host, authorization)
    encodings: list[str | None] = field(default_factory=list)  # each request's Accept-Encoding
    bodies: dict[str, bytes] = field(default_factory=dict)  # path -> a gzip body, served as such
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def paths(self) -> list[str]:
        return [hit[0] for hit in self.hits]


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    state = Server(port=0)

    @web.middleware
    async def record(request: web.Request, handler):  # type: ignore[no-untyped-def]
        state.hits.append((request.path, request.host, request.headers.get("Authorization")))
        state.encodings.append(request.headers.get("Accept-Encoding"))
        if request.path in state.bodies:  # compressed whatever was asked, as a hostile host would
            return web.Response(body=state.bodies[request.path], headers={"Content-Encoding": "gzip"})
        return await handler(request)

    async def image(request: web.Request) -> web.Response:
        return web.Response(body=PNG, content_type="image/png")

    async def sized(request: web.Request) -> web.Response:
        return web.Response(body=b"x" * int(request.match_info["n"]), content_type="application/octet-stream")

    async def endless(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        try:
            for _ in range(10_000):  # ~10 MB unless the client hangs up first
                await resp.write(b"y" * 1024)
                await asyncio.sleep(0)
        except (ConnectionResetError, ConnectionError):
            pass
        return resp

    async def random_body(request: web.Request) -> web.Response:
        return web.Response(body=BODY, content_type="application/octet-stream")

    async def gzipped(request: web.Request) -> web.Response:
        # Content-Length is the compressed size: smaller than the body for text, larger for noise.
        raw = TEXT if request.match_info["kind"] == "text" else BODY[:5000]
        return web.Response(body=gzip.compress(raw), headers={"Content-Encoding": "gzip"})

    async def chunked(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        for start in range(0, len(BODY), 70_000):
            await resp.write(BODY[start : start + 70_000])
        await resp.write_eof()
        return resp

    async def slow(request: web.Request) -> web.Response:
        await state.release.wait()
        return web.Response(body=PNG)

    async def declared(request: web.Request) -> web.StreamResponse:
        """Says 30 MB are coming, sends 10 bytes, and waits (a hostile link)."""
        resp = web.StreamResponse(headers={"Content-Length": str(30_000_000)})
        await resp.prepare(request)
        await resp.write(b"0123456789")
        await state.release.wait()
        return resp

    async def status(request: web.Request) -> web.Response:
        return web.Response(status=int(request.match_info["code"]), text="nope")

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query["to"])

    async def loop(request: web.Request) -> web.Response:
        raise web.HTTPFound("/loop")

    async def hop(request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        raise web.HTTPFound(f"/hop/{n - 1}" if n > 0 else "/image")

    app = web.Application(middlewares=[record])
    app.router.add_get("/image", image)
    app.router.add_get("/sized/{n}", sized)
    app.router.add_get("/endless", endless)
    app.router.add_get("/random", random_body)
    app.router.add_get("/gzip/{kind}", gzipped)
    app.router.add_get("/chunked", chunked)
    app.router.add_get("/slow", slow)
    app.router.add_get("/declared", declared)
    app.router.add_get("/status/{code}", status)
    app.router.add_get("/redirect", redirect)
    app.router.add_get("/loop", loop)
    app.router.add_get("/hop/{n}", hop)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    other = web.TCPSite(runner, "127.0.0.1", 0)
    await other.start()
    state.port, state.other_port = runner.addresses[0][1], runner.addresses[1][1]
    try:
        yield state
    finally:
        state.release.set()
        await runner.cleanup()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(trust_env=False) as http:
        yield http


# -- address checks, without connecting anywhere --------------------------------------------------

REFUSED = [
    "http://127.0.0.1/",
    "http://127.8.9.10:8080/x.png",
    "http://localhost/",
    "http://10.0.0.1/",
    "http://172.16.5.4/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/",
    "http://0.0.0.0/",
    "http://224.0.0.1/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "https://[::]/",
    # IPv6 forms that carry an IPv4 address or are local, which is_global lets through on 3.11
    "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 of 169.254.169.254
    "http://[64:ff9b:1::a00:1]/",  # local-use NAT64
    "http://[2002:a9fe:a9fe::1]/",  # 6to4 of 169.254.169.254
    "http://[::7f00:1]/",  # IPv4-compatible 127.0.0.1
    "http://[fec0::1]/",  # site-local
    "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",  # Teredo
]


@pytest.mark.parametrize("url", REFUSED)
async def test_non_public_addresses_are_refused(client: httpx.AsyncClient, url: str) -> None:
    with pytest.raises(DownloadError) as err:
        await SafeFetcher(client, allow_private=False).check_url(url)
    assert "not allowed" in err.value.user_text


@pytest.mark.parametrize(
    "url", ["http://93.184.216.34/a.png", "https://8.8.8.8/", "https://[2606:4700:4700::1111]/x"]
)
async def test_public_addresses_pass_the_check(client: httpx.AsyncClient, url: str) -> None:
    await SafeFetcher(client, allow_private=False).check_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://93.184.216.34/x",
        "gopher://x/",
        "http:///nohost",
        "//93.184.216.34/x",
        "data:image/png;base64,AAAA",
    ],
)
async def test_only_http_urls(client: httpx.AsyncClient, url: str) -> None:
    for allow in (False, True):
        with pytest.raises(DownloadError) as err:
            await SafeFetcher(client, allow_private=allow).check_url(url)
        assert "http" in err.value.user_text


async def test_unresolvable_host_is_refused(client: httpx.AsyncClient) -> None:
    with pytest.raises(DownloadError):
        await SafeFetcher(client).check_url("http://no-such-host.invalid/x.png")


@pytest.mark.parametrize(
    "url", ["http://example.com:99999/cat.png", f"http://{'a' * 64}.com/cat.png", "http://a..b/cat.png"]
)
async def test_a_link_no_host_could_answer_is_refused_as_such(client: httpx.AsyncClient, url: str) -> None:
    """A port out of range and a label over 63 characters or empty were a ValueError or a
    UnicodeError: the conversation's 'something went wrong' and a traceback in the log."""
    with pytest.raises(DownloadError) as err:
        await SafeFetcher(client).fetch(url, max_bytes=1000)
    assert "could not be found" in err.value.user_text
    with pytest.raises(DownloadError):  # not looked up first: the connection fails
        await SafeFetcher(client, allow_private=True).fetch(url, max_bytes=1000)


@pytest.mark.parametrize("url", ["https://[::1/cat.png", "http://[fe80::1/x.jpg", "http://h]/x.png"])
async def test_a_bracket_without_its_partner_is_refused_as_no_host(
    client: httpx.AsyncClient, url: str
) -> None:
    """urlsplit's "Invalid IPv6 URL" ValueError was a traceback (`generate --image`, a chat link)."""
    for allow in (False, True):
        with pytest.raises(DownloadError) as err:
            await SafeFetcher(client, allow_private=allow).fetch(url, max_bytes=1000)
        assert "could not be found" in err.value.user_text


def test_host_of() -> None:
    assert host_of("http://LocalHost:80/a") == "localhost"
    assert host_of("http://[::1]:9/") == "::1"
    assert host_of("nonsense") == ""
    assert host_of("http://[::1/x") == ""


# -- fetching from the loopback server --------------------------------------------------------------


async def test_loopback_is_refused_by_default(server: Server, client: httpx.AsyncClient) -> None:
    with pytest.raises(DownloadError):
        await SafeFetcher(client).fetch(server.url("/image"), max_bytes=10_000)
    assert server.hits == []  # refused before connecting


async def test_loopback_is_allowed_when_configured(server: Server, client: httpx.AsyncClient) -> None:
    got = await SafeFetcher(client, allow_private=True).fetch(server.url("/image"), max_bytes=10_000)
    assert got.data == PNG
    assert got.content_type.startswith("image/png")
    assert got.url == server.url("/image")


async def test_redirect_to_a_refused_address_is_refused(server: Server) -> None:
    # The first hop is a public address (reached through the loopback server acting as an HTTP
    # proxy, so nothing leaves the machine); its redirect points at loopback and must be refused.
    async with httpx.AsyncClient(trust_env=False, proxy=server.url("")) as proxied:
        fetcher = SafeFetcher(proxied, allow_private=False)
        secret = server.url("/image?secret=1")
        with pytest.raises(DownloadError) as err:
            await fetcher.fetch(
                "http://93.184.216.34/redirect?to=" + secret.replace("&", "%26"), max_bytes=10_000
            )
        assert "not allowed" in err.value.user_text
    assert server.paths() == ["/redirect"]  # the first hop was served; the loopback target never was
    assert server.hits[0][1] == "93.184.216.34"


async def test_redirects_are_followed(server: Server, client: httpx.AsyncClient) -> None:
    got = await SafeFetcher(client, allow_private=True).fetch(
        server.url(f"/hop/{MAX_REDIRECTS - 1}"), max_bytes=10_000
    )
    assert got.data == PNG and got.url == server.url("/image")


async def test_too_many_redirects(server: Server, client: httpx.AsyncClient) -> None:
    with pytest.raises(DownloadError) as err:
        await SafeFetcher(client, allow_private=True).fetch(server.url("/loop"), max_bytes=10_000)
    assert "redirects" in err.value.user_text
    assert len(server.hits) == MAX_REDIRECTS + 1


async def test_byte_cap_from_content_length(server: Server, client: httpx.AsyncClient) -> None:
    fetcher = SafeFetcher(client, allow_private=True)
    assert len((await fetcher.fetch(server.url("/sized/1000"), max_bytes=1000)).data) == 1000
    with pytest.raises(DownloadError) as err:
        await fetcher.fetch(server.url("/sized/1001"), max_bytes=1000, name="big.png")
    assert "too large" in err.value.user_text and "big.png" in err.value.user_text


@pytest.mark.parametrize(
    ("path", "expected"),
    [("/random", BODY), ("/chunked", BODY), ("/gzip/text", TEXT), ("/gzip/noise", BODY[:5000])],
    ids=["content-length", "chunked", "gzip-smaller-than-body", "gzip-larger-than-body"],
)
async def test_the_body_arrives_exactly(
    server: Server, client: httpx.AsyncClient, path: str, expected: bytes
) -> None:
    # Sized once from Content-Length where it can be; never a byte more or less than was sent.
    got = await SafeFetcher(client, allow_private=True).fetch(server.url(path), max_bytes=2_000_000)
    assert got.data == expected


@pytest.mark.parametrize("presize", [False, True])
async def test_only_a_paid_hosts_declared_length_is_allocated_up_front(
    server: Server, client: httpx.AsyncClient, presize: bool
) -> None:
    """A link that declared 40 MB and sent nothing held 40 MB for the whole timeout: ten chat
    messages of four such links took the bot to 1.5 GB. A provider's results (`presize`) keep
    their one allocation."""
    tracemalloc.start()
    try:
        with pytest.raises(DownloadError):
            await SafeFetcher(client, allow_private=True).fetch(
                server.url("/declared"), max_bytes=40_000_000, timeout=0.5, presize=presize
            )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (peak > 30_000_000) is presize, peak


async def test_byte_cap_counts_the_decoded_body(server: Server, client: httpx.AsyncClient) -> None:
    with pytest.raises(DownloadError) as err:
        await SafeFetcher(client, allow_private=True).fetch(server.url("/gzip/text"), max_bytes=len(TEXT) - 1)
    assert "too large" in err.value.user_text


async def test_a_compression_bomb_is_inflated_only_as_far_as_the_cap(server: Server) -> None:
    """httpx inflated each 256 KiB read whole (~250 MB of a gzip bomb) before the cap was
    counted; the body is now asked for uncompressed and inflated a bounded piece at a time."""
    bomb = gzip.compress(b"\0" * 200_000_000, compresslevel=9)  # ~200 KB on the wire
    server.bodies["/bomb"] = bomb
    async with SeedbotHTTPClient(trust_env=False) as http:
        fetcher = SafeFetcher(http, allow_private=True)
        with pytest.raises(DownloadError) as err:
            await fetcher.fetch(server.url("/bomb"), max_bytes=1_000_000)
        assert "too large" in err.value.user_text
        assert (await fetcher.fetch(server.url("/gzip/text"), max_bytes=len(TEXT))).data == TEXT
    assert server.encodings[-1] == "identity"


async def test_a_name_that_rebinds_to_loopback_after_the_check_reaches_nothing(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the name resolved to a public address for the check and to loopback for
    the connection, and the private server's answer was fetched. The connection now goes to the
    address checked, resolved once."""
    real, answers = socket.getaddrinfo, ["93.184.216.34", "127.0.0.1"]

    def rebinding(host: object, port: object, *args: object, **kwargs: object) -> object:
        if host in ("rebind.test", b"rebind.test"):
            address = answers.pop(0) if len(answers) > 1 else answers[0]
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, port, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    async with SeedbotHTTPClient(trust_env=False) as http:
        with pytest.raises(DownloadError) as err:
            await SafeFetcher(http, allow_private=False).fetch(
                server.url("/image", "rebind.test"), max_bytes=1000
            )
    assert "not allowed" in err.value.user_text
    assert server.hits == []


async def test_byte_cap_on_a_streamed_body(server: Server, client: httpx.AsyncClient) -> None:
    started = time.monotonic()
    with pytest.raises(DownloadError) as err:
        await SafeFetcher(client, allow_private=True).fetch(server.url("/endless"), max_bytes=50_000)
    assert "too large" in err.value.user_text
    assert time.monotonic() - started < 5


async def test_timeout(server: Server, client: httpx.AsyncClient) -> None:
    started = time.monotonic()
    with pytest.raises(DownloadError) as err:
        await SafeFetcher(client, allow_private=True).fetch(
            server.url("/slow"), max_bytes=10_000, timeout=0.3
        )
    assert "too long" in err.value.user_text
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("code", [204, 404, 403, 500, 503])
async def test_non_200_is_an_error(server: Server, client: httpx.AsyncClient, code: int) -> None:
    with pytest.raises(DownloadError) as err:
        await SafeFetcher(client, allow_private=True).fetch(server.url(f"/status/{code}"), max_bytes=10_000)
    assert str(code) in err.value.user_text


async def test_connection_refused(client: httpx.AsyncClient) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(DownloadError) as err:
        await SafeFetcher(client, allow_private=True).fetch(f"http://127.0.0.1:{port}/x", max_bytes=10)
    assert "connection failed" in err.value.user_text


AUTH = {"Authorization": "Bearer first-host-only"}


async def test_headers_go_to_the_first_host(server: Server, client: httpx.AsyncClient) -> None:
    await SafeFetcher(client, allow_private=True).fetch(server.url("/image"), max_bytes=10_000, headers=AUTH)
    assert server.hits == [("/image", f"127.0.0.1:{server.port}", "Bearer first-host-only")]


async def test_headers_follow_a_redirect_on_the_same_host(server: Server, client: httpx.AsyncClient) -> None:
    await SafeFetcher(client, allow_private=True).fetch(server.url("/hop/1"), max_bytes=10_000, headers=AUTH)
    assert [auth for _, _, auth in server.hits] == ["Bearer first-host-only"] * 3


async def test_headers_are_not_forwarded_to_another_host(server: Server, client: httpx.AsyncClient) -> None:
    other = server.url("/image", host="localhost")
    got = await SafeFetcher(client, allow_private=True).fetch(
        server.url("/redirect?to=" + other), max_bytes=10_000, headers=AUTH
    )
    assert got.data == PNG and got.url == other
    assert server.hits == [
        ("/redirect", f"127.0.0.1:{server.port}", "Bearer first-host-only"),
        ("/image", f"localhost:{server.port}", None),
    ]


async def test_headers_are_not_forwarded_to_another_port(server: Server, client: httpx.AsyncClient) -> None:
    # Same host name, another port: another origin (another service) that must not get the key.
    other = f"http://127.0.0.1:{server.other_port}/image"
    await SafeFetcher(client, allow_private=True).fetch(
        server.url("/redirect?to=" + other), max_bytes=10_000, headers=AUTH
    )
    assert server.hits == [
        ("/redirect", f"127.0.0.1:{server.port}", "Bearer first-host-only"),
        ("/image", f"127.0.0.1:{server.other_port}", None),
    ]

"""bot/app/http_pool.py: the pool behaves as httpcore's own (each behaviour checked on both,
against a real loopback server) and does a bounded amount of bookkeeping per request."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpcore
import httpx
import pytest
from aiohttp import web
from httpcore._async.connection import AsyncHTTPConnection

from bot.app.http_pool import LinearConnectionPool, PoolTransport, SeedbotHTTPClient
from bot.app.runtime import http_limits
from tests.app.helpers import settings


@dataclass
class Server:
    """A loopback HTTP server noting which client connection (its port) served each request
    and how many requests were in flight at most."""

    url: str = ""
    ports: list[int] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0

    async def handle(self, request: web.Request) -> web.Response:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        self.ports.append(int(peer[1]) if peer else -1)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(float(request.query.get("wait", "0")))
        finally:
            self.in_flight -= 1
        return web.Response(body=b"x" * int(request.query.get("size", "10")))


@contextlib.asynccontextmanager
async def serve(keepalive_timeout: float = 75.0) -> AsyncIterator[Server]:
    server = Server()
    app = web.Application()
    app.router.add_get("/", server.handle)
    runner = web.AppRunner(app, keepalive_timeout=keepalive_timeout, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server.url = f"http://127.0.0.1:{runner.addresses[0][1]}/"
    try:
        yield server
    finally:
        await runner.cleanup()


def stock(limits: httpx.Limits) -> httpx.AsyncBaseTransport:
    return httpx.AsyncHTTPTransport(limits=limits)


def linear(limits: httpx.Limits) -> httpx.AsyncBaseTransport:
    return PoolTransport(limits=limits)


POOLS = pytest.mark.parametrize("make", [stock, linear], ids=["httpcore", "linear"])
Make = Callable[[httpx.Limits], httpx.AsyncBaseTransport]


def pool_of(client: httpx.AsyncClient) -> httpcore.AsyncConnectionPool:
    pool = client._transport._pool  # type: ignore[attr-defined]
    assert isinstance(pool, httpcore.AsyncConnectionPool)
    return pool


@POOLS
async def test_keep_alive_serves_requests_one_after_another_on_one_connection(make: Make) -> None:
    async with serve() as server, httpx.AsyncClient(transport=make(httpx.Limits())) as client:
        for _ in range(5):
            assert (await client.get(server.url)).status_code == 200
        assert len(set(server.ports)) == 1
        assert len(pool_of(client).connections) == 1


@POOLS
async def test_at_most_max_connections_and_everyone_served(make: Make) -> None:
    limits = httpx.Limits(max_connections=3)
    async with serve() as server, httpx.AsyncClient(transport=make(limits)) as client:
        answers = await asyncio.gather(*(client.get(server.url, params={"wait": 0.05}) for _ in range(12)))
        assert [a.status_code for a in answers] == [200] * 12
        assert server.most_in_flight == 3
        assert len(set(server.ports)) == 3  # the queued ones reused the three


@POOLS
async def test_idle_connections_beyond_max_keepalive_are_closed(make: Make) -> None:
    limits = httpx.Limits(max_connections=10, max_keepalive_connections=2)
    async with serve() as server, httpx.AsyncClient(transport=make(limits)) as client:
        await asyncio.gather(*(client.get(server.url, params={"wait": 0.05}) for _ in range(6)))
        assert len(set(server.ports)) == 6
        connections = pool_of(client).connections
        assert len(connections) == 2
        assert all(c.is_idle() for c in connections)


@POOLS
async def test_an_idle_connection_past_keepalive_expiry_is_replaced(make: Make) -> None:
    limits = httpx.Limits(keepalive_expiry=0.1)
    async with serve() as server, httpx.AsyncClient(transport=make(limits)) as client:
        await client.get(server.url)
        await asyncio.sleep(0.3)
        await client.get(server.url)
        assert len(set(server.ports)) == 2
        assert len(pool_of(client).connections) == 1


@POOLS
async def test_a_connection_the_server_hung_up_is_not_reused(make: Make) -> None:
    async with (
        serve(keepalive_timeout=0.1) as server,
        httpx.AsyncClient(transport=make(httpx.Limits())) as client,
    ):
        await client.get(server.url)
        await asyncio.sleep(0.4)  # the server closes the idle connection
        assert (await client.get(server.url)).status_code == 200
        assert len(set(server.ports)) == 2


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@POOLS
async def test_a_connection_error_leaves_the_pool_usable(make: Make) -> None:
    limits = httpx.Limits(max_connections=1)
    async with serve() as server, httpx.AsyncClient(transport=make(limits)) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"http://127.0.0.1:{_closed_port()}/")
        assert pool_of(client).connections == []
        assert (await client.get(server.url)).status_code == 200


@POOLS
async def test_pool_timeout_then_the_pool_serves_again(make: Make) -> None:
    limits = httpx.Limits(max_connections=1)
    async with serve() as server, httpx.AsyncClient(transport=make(limits)) as client:
        slow = asyncio.create_task(client.get(server.url, params={"wait": 0.5}))
        await asyncio.sleep(0.1)
        with pytest.raises(httpx.PoolTimeout):
            await client.get(server.url, timeout=httpx.Timeout(5.0, pool=0.1))
        assert (await slow).status_code == 200
        assert (await client.get(server.url)).status_code == 200
        assert len(set(server.ports)) == 1


@POOLS
async def test_a_request_cancelled_in_line_gives_up_its_place(make: Make) -> None:
    limits = httpx.Limits(max_connections=1)
    async with serve() as server, httpx.AsyncClient(transport=make(limits)) as client:
        slow = asyncio.create_task(client.get(server.url, params={"wait": 0.3}))
        await asyncio.sleep(0.05)
        queued = asyncio.create_task(client.get(server.url))
        await asyncio.sleep(0.05)
        queued.cancel()
        with pytest.raises(asyncio.CancelledError):
            await queued
        assert (await slow).status_code == 200
        assert (await asyncio.wait_for(client.get(server.url), 2)).status_code == 200
        assert len(server.ports) == 2


@POOLS
async def test_an_idle_connection_to_another_origin_makes_room(make: Make) -> None:
    limits = httpx.Limits(max_connections=1)
    async with serve() as one, serve() as two, httpx.AsyncClient(transport=make(limits)) as client:
        await client.get(one.url)
        assert (await asyncio.wait_for(client.get(two.url), 2)).status_code == 200
        [connection] = pool_of(client).connections
        assert connection.can_handle_request(httpcore.URL(two.url).origin)


@POOLS
async def test_queued_requests_for_another_origin_are_served(make: Make) -> None:
    limits = httpx.Limits(max_connections=2)
    async with serve() as one, serve() as two, httpx.AsyncClient(transport=make(limits)) as client:
        first = [client.get(one.url, params={"wait": 0.1}) for _ in range(4)]
        second = [client.get(two.url, params={"wait": 0.05}) for _ in range(4)]
        answers = await asyncio.wait_for(asyncio.gather(*first, *second), 5)
        assert [a.status_code for a in answers] == [200] * 8
        assert len(pool_of(client).connections) <= 2


@POOLS
async def test_a_response_closed_unread_frees_its_connection(make: Make) -> None:
    limits = httpx.Limits(max_connections=1)
    async with serve() as server, httpx.AsyncClient(transport=make(limits)) as client:
        async with client.stream("GET", server.url, params={"size": 1_000_000}) as resp:
            await resp.aiter_bytes().__anext__()  # a part only: the connection is not reusable
        assert (await asyncio.wait_for(client.get(server.url), 2)).status_code == 200


# -- scaling ----------------------------------------------------------------------------------------


@contextlib.contextmanager
def counting_checks() -> Iterator[dict[str, int]]:
    """How often the pool asks its connections about their state (each idle check of
    has_expired also asks the socket)."""
    calls = {"n": 0}
    names = ("is_idle", "is_closed", "is_available", "has_expired")
    saved = {name: getattr(AsyncHTTPConnection, name) for name in names}

    def counted(original: Callable[..., bool]) -> Callable[..., bool]:
        def check(self: Any) -> bool:
            calls["n"] += 1
            return original(self)

        return check

    for name, original in saved.items():
        setattr(AsyncHTTPConnection, name, counted(original))
    try:
        yield calls
    finally:
        for name, original in saved.items():
            setattr(AsyncHTTPConnection, name, original)


async def _checks_per_request(make: Make, n: int) -> float:
    limits = httpx.Limits(max_connections=n // 2, max_keepalive_connections=n // 2)
    async with serve() as server, httpx.AsyncClient(transport=make(limits)) as client:
        with counting_checks() as calls:
            answers = await asyncio.gather(*(client.get(server.url, params={"wait": 0.02}) for _ in range(n)))
    assert all(a.status_code == 200 for a in answers)
    return calls["n"] / n


async def test_the_bookkeeping_per_request_does_not_grow_with_the_load() -> None:
    small, large = await _checks_per_request(linear, 40), await _checks_per_request(linear, 200)
    assert large < 10
    assert large < 2 * small + 2
    # The same measure on httpcore's pool: it grows with N (what the linear pool is for).
    assert await _checks_per_request(stock, 200) > 10 * large


# -- in seedbot ------------------------------------------------------------------------------------


async def test_seedbots_client_runs_on_the_linear_pool_with_its_limits(tmp_path: Any) -> None:
    limits = http_limits(settings(tmp_path, max_concurrency=300))
    async with serve() as server, SeedbotHTTPClient(limits=limits) as client:
        pool = pool_of(client)
        assert isinstance(pool, LinearConnectionPool)
        assert pool._max_connections == 600
        assert (await client.get(server.url)).status_code == 200


async def test_a_transport_given_or_http2_keeps_httpxs_own() -> None:
    given = httpx.AsyncHTTPTransport()
    async with SeedbotHTTPClient(transport=given) as client:
        assert client._transport is given
    with pytest.raises(ValueError, match=r"HTTP/1\.1"):
        LinearConnectionPool(http2=True)


# -- reading larger pieces ----------------------------------------------------------------------------


class _Recorded(httpcore.AsyncNetworkStream):
    def __init__(self) -> None:
        self.asked: list[int] = []

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self.asked.append(max_bytes)
        return b"x" * min(max_bytes, 300_000)


async def test_streams_are_read_256_kib_at_a_time_and_bodies_arrive_whole() -> None:
    from bot.app.http_pool import READ_BYTES, _LargeReadStream

    inner = _Recorded()
    assert len(await _LargeReadStream(inner).read(65536)) == READ_BYTES == 256 * 1024
    assert inner.asked == [READ_BYTES]
    async with serve() as server, httpx.AsyncClient(transport=linear(httpx.Limits())) as client:
        answers = await asyncio.gather(
            *(client.get(server.url, params={"size": 3_000_000}) for _ in range(4))
        )
        assert [len(a.content) for a in answers] == [3_000_000] * 4
        assert all(a.content == b"x" * 3_000_000 for a in answers)

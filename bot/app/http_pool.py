"""The shared httpx client's connection pool, with its bookkeeping done per event.

httpcore's `AsyncConnectionPool` (1.0.x) re-examines every connection and every queued request
each time a request arrives or a response is closed (`_assign_requests_to_connections`): with N
requests in flight that is N x (N connections + N requests) checks per burst, and each check of
an idle connection asks its socket whether it is readable (`getpeername` and `poll`, through
anyio's extra attributes). With a hundred jobs each downloading a 3 MB result it was the
largest single cost on the event loop (bench/counts.py, BENCHMARKS.md "Issue 17").

`LinearConnectionPool` keeps the same rules (at most `max_connections`, at most
`max_keepalive_connections` idle, idle ones closed once `keepalive_expiry` has passed or the
server closed them, queued requests served in order, an idle connection to another origin
closed to make room) but keeps idle connections by origin and queued requests in line, so an
event touches only the connection it concerns. It serves HTTP/1.1 without a proxy, which is
what seedbot's client does (env proxies still get httpx's own transports, see
`SeedbotHTTPClient`); it relies on httpcore internals and so pins httpcore (pyproject.toml).
"""

from __future__ import annotations

import collections
import contextlib
import ssl
import typing
from typing import Any

import httpcore
import httpx
from httpcore._async.connection_pool import AsyncPoolRequest, PoolByteStream
from httpcore._async.interfaces import AsyncConnectionInterface
from httpcore._synchronization import AsyncShieldCancellation
from httpx._config import DEFAULT_LIMITS

from bot.media.fetch import PUBLIC_ONLY, public_address

__all__ = ["READ_BYTES", "LargeReads", "LinearConnectionPool", "PoolTransport", "SeedbotHTTPClient"]

# httpcore asks its stream for 64 KiB at a time, and anyio hands a larger piece of what the
# socket had over in 64 KiB slices: each slice one more trip through anyio, h11, httpcore and
# httpx. A 3 MB result read 256 KiB at a time (what asyncio reads from a socket at most) takes
# about half the trips (BENCHMARKS.md, Issue 17).
READ_BYTES = 256 * 1024

Connection = AsyncConnectionInterface
Key = tuple[bytes, bytes, int]  # an origin's scheme, host and port (httpcore.Origin is unhashable)


def origin_key(origin: httpcore.Origin) -> Key:
    return (origin.scheme, origin.host, origin.port)


class LinearConnectionPool(httpcore.AsyncConnectionPool):
    """httpcore's pool, for HTTP/1.1 without a proxy, with O(1) work per request and response."""

    def __init__(self, **kwargs: Any) -> None:
        if kwargs.get("http2") or kwargs.get("proxy") is not None or kwargs.get("http1") is False:
            raise ValueError("LinearConnectionPool serves HTTP/1.1 without a proxy")
        super().__init__(**kwargs)
        # Idle connections by origin (the latest last: reused first, as it is the least likely
        # to have been dropped), and all of them oldest first (the first to expire).
        self._idle: dict[Key, dict[Connection, None]] = {}
        self._idle_order: dict[Connection, None] = {}
        # Requests waiting for a connection, in order, and by origin. A request leaves `_queued`
        # when it is served or given up; the deques drop it when they next reach it.
        self._queue: collections.deque[AsyncPoolRequest] = collections.deque()
        self._waiting: dict[Key, collections.deque[AsyncPoolRequest]] = {}
        self._queued: set[AsyncPoolRequest] = set()
        self._active = 0  # requests between arrival and the close of their response

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        scheme = request.url.scheme.decode()
        if scheme == "":
            raise httpcore.UnsupportedProtocol("Request URL is missing an 'http://' or 'https://' protocol.")
        if scheme not in ("http", "https", "ws", "wss"):
            raise httpcore.UnsupportedProtocol(f"Request URL has an unsupported protocol '{scheme}://'.")
        timeouts = request.extensions.get("timeout", {})
        timeout = timeouts.get("pool", None)

        pool_request = AsyncPoolRequest(request)
        self._active += 1
        try:
            await self._close_connections(self._assign(pool_request))
            while True:
                connection = await pool_request.wait_for_connection(timeout=timeout)
                try:
                    response = await connection.handle_async_request(pool_request.request)
                except httpcore.ConnectionNotAvailable:
                    # The connection went away between being handed over and being used: settle
                    # it and wait for another.
                    pool_request.clear_connection()
                    closing = self._release(connection)
                    closing += self._assign(pool_request)
                    await self._close_connections(closing)
                else:
                    break
        except BaseException as exc:
            await self._close_connections(self._done(pool_request))
            raise exc from None

        assert isinstance(response.stream, typing.AsyncIterable)
        return httpcore.Response(
            status=response.status,
            headers=response.headers,
            content=_PoolStream(stream=response.stream, pool_request=pool_request, pool=self),
            extensions=response.extensions,
        )

    # -- the bookkeeping: each returns the connections to close (outside it, they await) ------

    def _assign(self, pool_request: AsyncPoolRequest) -> list[Connection]:
        """A connection for a new (or re-queued) request, or its place in line."""
        closing = self._expire_oldest()
        origin = pool_request.request.url.origin
        connection = self._take_idle(origin_key(origin), closing)
        if connection is None and self._queue_empty():
            if len(self._connections) < self._max_connections:
                connection = self._open(origin)
            elif self._idle_order:  # full, but idle to other origins: make room
                closing.append(self._drop_idle(next(iter(self._idle_order))))
                connection = self._open(origin)
        if connection is None:
            self._enqueue(pool_request)
        else:
            pool_request.assign_to_connection(connection)
        return closing

    def _done(self, pool_request: AsyncPoolRequest) -> list[Connection]:
        """A request finished (its response closed) or was given up (an error, a cancel)."""
        self._active -= 1
        if pool_request in self._queued:
            self._queued.discard(pool_request)
            return []
        connection = pool_request.connection
        return self._release(connection) if connection is not None else []

    def _release(self, connection: Connection) -> list[Connection]:
        """The request on `connection` is over: hand it to the next in line, keep it idle, or
        let it go (closed already, or past the keep-alive limit)."""
        closing: list[Connection] = []
        if connection.is_idle() and not connection.is_closed():
            waiting = self._next_waiting(connection)
            if waiting is not None:
                waiting.assign_to_connection(connection)
                return closing
            # Only other origins wait (the room is theirs), or enough are idle already: let it go.
            others_wait = not self._queue_empty()
            if not others_wait and len(self._idle_order) < self._max_keepalive_connections:
                self._idle.setdefault(connection_origin(connection), {})[connection] = None
                self._idle_order[connection] = None
                return closing
            self._forget(connection)
            closing.append(connection)
        else:
            # Closed, or never used (a request given up before it was sent): either way gone.
            self._forget(connection)
            if not connection.is_closed():
                closing.append(connection)
        self._fill(closing)
        return closing

    def _fill(self, closing: list[Connection]) -> None:
        """Room was made: open connections for the requests waiting, first come first served."""
        while len(self._connections) < self._max_connections:
            waiting = self._pop_queue()
            if waiting is None:
                return
            waiting.assign_to_connection(self._open(waiting.request.url.origin))

    # -- idle connections -------------------------------------------------------------------------

    def _take_idle(self, origin: Key, closing: list[Connection]) -> Connection | None:
        """The latest idle connection to `origin` still usable; the ones found dropped or
        expired on the way are let go."""
        bucket = self._idle.get(origin)
        while bucket:
            connection, _ = bucket.popitem()
            del self._idle_order[connection]
            if not bucket:
                del self._idle[origin]
            if connection.is_closed():
                self._forget(connection)
            elif connection.has_expired():  # past keep-alive, or the server hung up
                self._forget(connection)
                closing.append(connection)
            else:
                return connection
        return None

    def _expire_oldest(self) -> list[Connection]:
        """Let go of idle connections past their keep-alive, oldest first: only the first one
        still good is checked, not every idle connection."""
        closing: list[Connection] = []
        while self._idle_order:
            oldest = next(iter(self._idle_order))
            if not (oldest.is_closed() or oldest.has_expired()):
                break
            self._drop_idle(oldest)
            if not oldest.is_closed():
                closing.append(oldest)
        return closing

    def _drop_idle(self, connection: Connection) -> Connection:
        del self._idle_order[connection]
        origin = connection_origin(connection)
        bucket = self._idle[origin]
        del bucket[connection]
        if not bucket:
            del self._idle[origin]
        self._forget(connection)
        return connection

    def _open(self, origin: httpcore.Origin) -> Connection:
        connection = self.create_connection(origin)
        self._connections.append(connection)
        return connection

    def _forget(self, connection: Connection) -> None:
        with contextlib.suppress(ValueError):  # the pool was closed meanwhile (aclose forgets all)
            self._connections.remove(connection)

    # -- the line ---------------------------------------------------------------------------------

    def _enqueue(self, pool_request: AsyncPoolRequest) -> None:
        self._queued.add(pool_request)
        self._queue.append(pool_request)
        key = origin_key(pool_request.request.url.origin)
        self._waiting.setdefault(key, collections.deque()).append(pool_request)

    def _queue_empty(self) -> bool:
        while self._queue and self._queue[0] not in self._queued:
            self._queue.popleft()
        return not self._queue

    def _pop_queue(self) -> AsyncPoolRequest | None:
        if self._queue_empty():
            return None
        pool_request = self._queue.popleft()
        self._queued.discard(pool_request)
        return pool_request

    def _next_waiting(self, connection: Connection) -> AsyncPoolRequest | None:
        """The first request in line for this connection's origin (taken out of the line)."""
        origin = connection_origin(connection)
        line = self._waiting.get(origin)
        while line:
            pool_request = line.popleft()
            if pool_request in self._queued:
                self._queued.discard(pool_request)
                if not line:
                    del self._waiting[origin]
                return pool_request
        self._waiting.pop(origin, None)
        return None

    # -- the rest of the pool's interface --------------------------------------------------------

    async def _close_connections(self, closing: list[Connection]) -> None:
        if closing:  # (the base class sets up a cancel shield even for none)
            await super()._close_connections(closing)

    async def aclose(self) -> None:
        self._idle.clear()
        self._idle_order.clear()
        await super().aclose()

    def __repr__(self) -> str:
        idle = len(self._idle_order)
        queued = len(self._queued)
        return (
            f"<{type(self).__name__} [Requests: {self._active - queued} active, {queued} queued | "
            f"Connections: {len(self._connections) - idle} active, {idle} idle]>"
        )


def connection_origin(connection: Connection) -> Key:
    origin: httpcore.Origin = connection._origin  # type: ignore[attr-defined]  # AsyncHTTPConnection's
    return origin_key(origin)


class _PoolStream(PoolByteStream):
    """The response body; closing it tells the pool the request is over."""

    def __init__(
        self,
        stream: typing.AsyncIterable[bytes],
        pool_request: AsyncPoolRequest,
        pool: LinearConnectionPool,
    ) -> None:
        super().__init__(stream=stream, pool_request=pool_request, pool=pool)
        self._linear_pool = pool

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        with AsyncShieldCancellation():
            if hasattr(self._stream, "aclose"):
                await self._stream.aclose()
        pool = self._linear_pool
        await pool._close_connections(pool._done(self._pool_request))


class _LargeReadStream(httpcore.AsyncNetworkStream):
    def __init__(self, stream: httpcore.AsyncNetworkStream) -> None:
        self._stream = stream

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._stream.read(max(max_bytes, READ_BYTES), timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._stream.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        return _LargeReadStream(await self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class LargeReads(httpcore.AsyncNetworkBackend):
    """anyio's network backend (asyncio underneath), its streams read READ_BYTES at a time.

    (Named directly rather than httpcore's AutoBackend, which works out the async library anew
    for every connection.)"""

    def __init__(self) -> None:
        self._backend = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        if PUBLIC_ONLY.get():  # a download for someone: to the address just checked, not a new lookup
            host = await public_address(host, port)
        stream = await self._backend.connect_tcp(host, port, timeout, local_address, socket_options)
        return _LargeReadStream(stream)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: typing.Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        return _LargeReadStream(await self._backend.connect_unix_socket(path, timeout, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


class PoolTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over a `LinearConnectionPool` (no proxy; HTTP/1.1)."""

    def __init__(
        self,
        *,
        verify: ssl.SSLContext | str | bool = True,
        cert: Any = None,
        trust_env: bool = True,
        limits: httpx.Limits = DEFAULT_LIMITS,
    ) -> None:
        ssl_context = httpx.create_ssl_context(verify=verify, cert=cert, trust_env=trust_env)
        # The base class builds its own pool (and would build an SSL context: it gets ours).
        super().__init__(verify=ssl_context, limits=limits)
        self._pool = LinearConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=LargeReads(),
        )


class SeedbotHTTPClient(httpx.AsyncClient):
    """`httpx.AsyncClient` whose own transport is a `PoolTransport`; everything else (proxies
    from the environment, mounts, a transport given) is httpx's."""

    def _init_transport(
        self,
        verify: ssl.SSLContext | str | bool = True,
        cert: Any = None,
        trust_env: bool = True,
        http1: bool = True,
        http2: bool = False,
        limits: httpx.Limits = DEFAULT_LIMITS,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> httpx.AsyncBaseTransport:
        if transport is not None or http2 or not http1:
            return super()._init_transport(
                verify=verify,
                cert=cert,
                trust_env=trust_env,
                http1=http1,
                http2=http2,
                limits=limits,
                transport=transport,
            )
        return PoolTransport(verify=verify, cert=cert, trust_env=trust_env, limits=limits)

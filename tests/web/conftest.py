"""Fixtures for the playground's tests.

`playground` runs the web platform in process on a real runtime (SQLite, the demo provider) and
talks to it through aiohttp's test client, as a page would: GET / starts the session and gives
the CSRF token; requests then carry the cookie and the token. Waits are on the timeline's state,
never fixed sleeps.
"""

from __future__ import annotations

import asyncio
import io
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from PIL import Image

from adapters.web_adapter.app import build_app
from adapters.web_adapter.platform import WebPlatform
from adapters.web_adapter.security import CSRF_HEADER
from adapters.web_adapter.settings import WebSettings
from adapters.web_adapter.uploads import MAX_BODY
from bot.app.runtime import Runtime, open_runtime
from bot.config import Settings

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def png(width: int = 64, height: int = 48, color: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, format="PNG")
    return buf.getvalue()


@dataclass
class Playground:
    runtime: Runtime
    platform: WebPlatform
    client: TestClient[Any, Any]
    csrf: str = ""
    threads: list[str] = field(default_factory=list)
    exits: AsyncExitStack = field(default_factory=AsyncExitStack)

    async def stop(self) -> None:
        """The playground process ending on SIGTERM with no grace (see `seedbot run`): running
        jobs cut short, then everything closed; its database stays for the next one."""
        self.runtime.engine.draining = True
        await self.runtime.engine.shutdown(0.0)
        await self.exits.aclose()

    async def open_page(self) -> str:
        """GET / as a browser would: the session cookie and the CSRF token."""
        response = await self.client.get("/")
        assert response.status == 200, await response.text()
        html = await response.text()
        match = CSRF_META.search(html)
        assert match, html
        self.csrf = match.group(1)
        return html

    def form(
        self, text: str = "", files: list[tuple[str, bytes, str]] | None = None, **fields: str
    ) -> aiohttp.FormData:
        data = aiohttp.FormData(quote_fields=False)  # names as a browser sends them
        data.add_field("text", text)
        for name, value in fields.items():
            data.add_field(name, value)
        for filename, content, content_type in files or []:
            data.add_field("image", content, filename=filename, content_type=content_type)
        return data

    async def post(self, path: str, data: Any = None, *, csrf: bool = True) -> aiohttp.ClientResponse:
        headers = {CSRF_HEADER: self.csrf} if csrf else {}
        return await self.client.post(path, data=data, headers=headers)

    async def ask(self, text: str, files: list[tuple[str, bytes, str]] | None = None, **fields: str) -> str:
        response = await self.post("/api/ask", self.form(text, files, **fields))
        assert response.status == 202, await response.text()
        thread = str((await response.json())["thread"])
        self.threads.append(thread)
        return thread

    async def reply(
        self, thread: str, text: str, files: list[tuple[str, bytes, str]] | None = None, **fields: str
    ) -> None:
        response = await self.post(f"/api/threads/{thread}/reply", self.form(text, files, **fields))
        assert response.status == 202, await response.text()

    async def press(self, job: str, action: str) -> dict[str, Any]:
        response = await self.post(f"/api/jobs/{job}/{action}")
        assert response.status in (200, 202), await response.text()
        return dict(await response.json())

    async def timeline(self) -> dict[str, Any]:
        response = await self.client.get("/api/timeline")
        assert response.status == 200
        return dict(await response.json())

    async def thread(self, thread: str) -> dict[str, Any]:
        found = [t for t in (await self.timeline())["threads"] if t["id"] == thread]
        return found[0] if found else {"id": thread, "entries": []}

    async def until(
        self, thread: str, condition: Callable[[list[dict[str, Any]]], bool], timeout: float = 15.0
    ) -> list[dict[str, Any]]:
        """The thread's entries once `condition(entries)` holds."""
        deadline = time.monotonic() + timeout
        while True:
            entries = (await self.thread(thread))["entries"]
            if condition(entries):
                return list(entries)
            if time.monotonic() > deadline:
                raise AssertionError(f"thread {thread} never got there: {entries}")
            await asyncio.sleep(0.05)

    async def usage(self) -> str:
        response = await self.client.get("/api/usage")
        assert response.status == 200
        return str((await response.json())["text"])

    async def settled(self) -> None:
        """Every turn the playground started has finished (quota settled)."""
        deadline = time.monotonic() + 15
        while len(self.platform.tasks) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)


def kinds(entries: list[dict[str, Any]]) -> list[str]:
    return [e["kind"] for e in entries]


def of(entries: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in entries if e["kind"] == kind]


def has(kind: str, count: int = 1) -> Callable[[list[dict[str, Any]]], bool]:
    return lambda entries: len(of(entries, kind)) >= count


OpenPlayground = Callable[..., Awaitable[Playground]]


@pytest.fixture
async def open_playground(tmp_path: Path) -> AsyncIterator[OpenPlayground]:
    """open_playground(token=None, max_body=MAX_BODY, **settings) -> a running playground."""
    async with AsyncExitStack() as stack:

        async def start(
            *, token: str | None = None, max_body: int = MAX_BODY, **overrides: Any
        ) -> Playground:
            values: dict[str, Any] = {"database": str(tmp_path / "seedbot.db"), "demo_latency": 0.0}
            values.update(overrides)
            exits = AsyncExitStack()
            stack.push_async_callback(exits.aclose)  # unless stopped before
            runtime = await exits.enter_async_context(open_runtime(Settings(**values)))
            runtime.playground = True
            web_settings = WebSettings(port=0, token=token)
            platform = WebPlatform(runtime, web_settings, 0)
            exits.push_async_callback(platform.tasks.close, 5.0)
            app = build_app(platform.surface, platform.guard, max_body=max_body)
            client: TestClient[Any, Any] = TestClient(TestServer(app, host="127.0.0.1"))
            await client.start_server()
            exits.push_async_callback(client.close)
            await runtime.engine.recover()  # as `seedbot run` does: jobs a stopped one left
            return Playground(runtime, platform, client, exits=exits)

        yield start


@pytest.fixture
async def playground(open_playground: OpenPlayground) -> Playground:
    pg = await open_playground()
    await pg.open_page()
    return pg

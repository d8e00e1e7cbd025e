"""Small parts, in process: the V2 layouts within Discord's limits, the progress relay, the
endpoint patch, and form options going through the shared flag parser (packing a batch into
messages: tests/media/test_packing.py)."""

from __future__ import annotations

import discord.gateway
import discord.http
import pytest

from adapters.discord_adapter.endpoints import Endpoints
from adapters.discord_adapter.layout import TEXT_MAX, notice, result_layout
from bot import messages
from bot.conversation.surface import Details


def _walk(components: list[dict]) -> list[dict]:  # type: ignore[type-arg]
    out = []
    for c in components:
        out.append(c)
        out.extend(_walk(c.get("components") or []))
    return out


def test_layouts_stay_within_discords_limits() -> None:
    details = Details(fields=(("Model", "Seedream 5.0 lite"), ("Size", "2048x2048")), notes=("a note",))
    view = result_layout(
        job_id="abcd1234",
        prompt="p" * 5000,
        details=details,
        names=[f"seedbot-abcd1234-{i}.jpg" for i in range(1, 11)],
        actions=("reroll", "variations", "edit", "delete", "info"),
        ping="<@1>",
    )
    components = view.to_components()
    everything = _walk(components)
    assert view.has_components_v2() and len(everything) <= 40
    assert sum(len(c.get("content") or "") for c in everything) <= TEXT_MAX
    [gallery] = [c for c in everything if c["type"] == 12]
    assert [i["media"]["url"] for i in gallery["items"]][:2] == [
        "attachment://seedbot-abcd1234-1.jpg",
        "attachment://seedbot-abcd1234-2.jpg",
    ]
    assert next(c["custom_id"] for c in everything if c["type"] == 2) == "seedbot:reroll:abcd1234"
    with pytest.raises(ValueError):
        result_layout(job_id="abcd1234", prompt="x", details=details, names=["a.jpg"] * 11, actions=())
    assert len(notice("y" * 9000).to_components()[0]["components"][0]["content"]) == TEXT_MAX


def test_a_long_references_legend_gives_way_to_the_notes_on_charges() -> None:
    """14 long file names filled the small print, and its cut took the notes that say what was
    charged and refunded."""
    names = [
        f"moodboard reference for the autumn campaign, final version, copy {i}.png" * 2 for i in range(14)
    ]
    notes = (messages.partial_delivery(2, 4), messages.not_posted(1, 2))
    details = Details(
        fields=(("Model", "Seedream 4.5"),), references=messages.references_legend(names), notes=notes
    )
    view = result_layout(job_id="abcd1234", prompt="a fox", details=details, names=["a.jpg"], actions=())
    shown = "\n".join(c.get("content") or "" for c in _walk(view.to_components()))
    assert all(note in shown for note in notes)
    assert f"-# {messages.LABEL_REFERENCES}: " in shown and "…" in shown  # the legend, cut
    assert sum(len(c.get("content") or "") for c in _walk(view.to_components())) <= TEXT_MAX


def test_endpoints_are_patched_only_when_custom_and_restored() -> None:
    base = discord.http.Route.BASE
    gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    default = Endpoints("https://discord.com/api/v10/", "wss://gateway.discord.gg")
    assert not default.custom
    default.apply()
    assert discord.http.Route.BASE is base

    custom = Endpoints("http://127.0.0.1:9/api/v10/", "ws://127.0.0.1:9/gateway")
    custom.apply()
    try:
        assert discord.http.Route.BASE == "http://127.0.0.1:9/api/v10"
        assert str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == "ws://127.0.0.1:9/gateway"
    finally:
        custom.restore()
    assert base == discord.http.Route.BASE
    assert gateway == discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY


def test_thread_names_come_from_the_prompt() -> None:
    assert messages.thread_name("a red\nfox   in snow") == "a red fox in snow"
    long = messages.thread_name("x" * 150)
    assert len(long) == 100 and long.endswith("…")
    assert messages.thread_name("   ") == "seedbot"


async def test_an_image_upload_sends_its_bytes_as_they_are_each_attempt() -> None:
    from aiohttp import ClientSession, FormData, web

    from adapters.discord_adapter.uploads import ImageUpload, image_file

    received: list[bytes] = []

    async def take(request: web.Request) -> web.Response:
        form = await request.post()
        received.append(form["files[0]"].file.read())  # type: ignore[union-attr]
        return web.Response()

    app = web.Application(client_max_size=10 * 2**20)
    app.router.add_post("/", take)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    data = bytes(range(256)) * 12_000  # 3 MB
    file = image_file(data, "seedbot-j1-1.jpg")
    assert isinstance(file.fp, ImageUpload) and file.filename == "seedbot-j1-1.jpg"
    try:
        async with ClientSession() as http:
            for attempt in range(2):  # discord.py resets the file before a retry
                file.reset(seek=attempt)
                form = FormData()
                form.add_field("files[0]", file.fp, filename=file.filename, content_type="image/jpeg")
                async with http.post(f"http://127.0.0.1:{runner.addresses[0][1]}/", data=form) as resp:
                    assert resp.status == 200
    finally:
        await runner.cleanup()
    assert received == [data, data]
    upload = ImageUpload(b"abcdef")
    assert (upload.read(2), upload.tell(), upload.read(), upload.seek(-1, 2), upload.read()) == (
        b"ab",
        2,
        b"cdef",
        5,
        b"f",
    )

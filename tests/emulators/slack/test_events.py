"""Events API delivery to a real AsyncApp: mentions with files (download, reply, upload), signing."""

from __future__ import annotations

import time
from typing import Any

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from tests.emulators.slack import BOT_USER_ID, CHANNEL_ID, USER_ID
from tests.emulators.slack.conftest import BOT_TOKEN, PNG, Harness, serve
from tests.emulators.slack.events import as_sent, as_shown


async def test_mention_with_file_download_reply_and_upload(harness: Harness) -> None:
    emu, app = harness.emu, harness.app
    downloaded: list[tuple[int, str, bytes]] = []

    @app.event("app_mention")
    async def on_mention(event: dict[str, Any], client: AsyncWebClient, context: Any) -> None:
        f = event["files"][0]
        async with (
            aiohttp.ClientSession() as session,
            session.get(f["url_private"], headers={"Authorization": f"Bearer {context.bot_token}"}) as r,
        ):
            data = await r.read()
            downloaded.append((r.status, r.content_type, data))
        thread = event.get("thread_ts") or event["ts"]
        await client.chat_postMessage(
            channel=event["channel"], thread_ts=thread, text=f"got {len(data)} bytes"
        )
        await client.files_upload_v2(
            channel=event["channel"],
            thread_ts=thread,
            content=data[::-1],
            filename="out.png",
            title="result",
            initial_comment="here you go",
        )

    async with serve(harness) as h:
        f = emu.add_file("in.png", PNG, "image/png")
        event = emu.mention_event("make it pop", files=[f])
        assert await emu.post_event(h.url, event) == 200
        [complete] = await emu.wait_for_call("files.completeUploadExternal")

    # auth.test is called lazily by bolt's SingleTeamAuthorization.
    assert emu.calls("auth.test")
    # The download carried the bot token and got the real bytes.
    assert downloaded == [(200, "image/png", PNG)]
    assert emu.file_fetches[0]["authorized"] and emu.file_fetches[0]["served"] == "bytes"
    assert emu.file_fetches[0]["headers"]["Authorization"] == f"Bearer {BOT_TOKEN}"
    # Every Web API call carried the bot token.
    assert all(r.token == BOT_TOKEN for r in emu.calls())
    # The upload went to the upload URL without Authorization, bytes stored.
    [upload] = emu.uploaded_files()
    assert upload["data"] == PNG[::-1] and upload["length"] == len(PNG)
    assert upload["completed"] and upload["thread_ts"] == event["ts"]
    [upload_req] = emu.requests_of("upload")
    assert "Authorization" not in upload_req.headers
    assert complete.params["thread_ts"] == event["ts"]
    assert complete.params["channel_id"] == CHANNEL_ID
    assert complete.params["files"] == [{"id": upload["file_id"], "title": "result"}]
    assert complete.response["files"][0]["id"] == upload["file_id"]
    # Thread contents: user mention, bot text reply, bot file share.
    thread = emu.thread(CHANNEL_ID, event["ts"])
    assert [m["user"] for m in thread] == [USER_ID, BOT_USER_ID, BOT_USER_ID]
    assert thread[1]["text"] == f"got {len(PNG)} bytes"
    assert thread[2]["text"] == "here you go" and thread[2]["files"][0]["name"] == "out.png"
    assert thread[0]["reply_count"] == 2
    assert [float(m["ts"]) for m in thread] == sorted(float(m["ts"]) for m in thread)
    # The same is visible through the Web API, and the uploaded file is on the file host.
    replies = await harness.client.conversations_replies(channel=CHANNEL_ID, ts=event["ts"])
    assert [m["ts"] for m in replies["messages"]] == [m["ts"] for m in thread]
    url = thread[2]["files"][0]["url_private"]
    async with aiohttp.ClientSession() as s:
        async with s.get(url, headers={"Authorization": f"Bearer {BOT_TOKEN}"}) as r:
            assert await r.read() == PNG[::-1]
        async with s.get(url) as r:  # no token: Slack's 200 + HTML login page
            assert r.status == 200 and r.content_type == "text/html"
            assert b"Sign in" in await r.read()
    assert emu.file_fetches[-1]["served"] == "html"


async def test_signature_checks_and_url_verification(harness: Harness) -> None:
    emu, app = harness.emu, harness.app

    @app.event("app_mention")
    async def on_mention(event: dict[str, Any], request: Any) -> None:
        harness.seen.append((event["text"], request.headers.get("x-slack-retry-num")))

    async with serve(harness) as h:
        assert await emu.post_event(h.url, emu.mention_event("x"), bad_signature=True) == 401
        stale = int(time.time()) - 10 * 60
        assert await emu.post_event(h.url, emu.mention_event("x"), timestamp=stale) == 401
        resp = await emu.post_url_verification(h.url, challenge="abc123")
        assert resp == 200 and resp.json() == {"challenge": "abc123"}
        # A retry is still delivered (and acked) by default; the header reaches the listener.
        assert await emu.post_event(h.url, emu.mention_event("y"), retry_num=1) == 200
        await emu.wait_for(lambda: harness.seen)
    assert harness.seen == [(f"<@{BOT_USER_ID}> y", ["1"])]


def test_typed_text_arrives_escaped_with_its_links_wrapped() -> None:
    typed = "a <lora:x:1> & see https://x.org/a.png?b=1&c=2."
    sent = as_sent(typed)
    assert sent == "a &lt;lora:x:1&gt; &amp; see <https://x.org/a.png?b=1&amp;c=2>."
    assert as_shown(sent) == "a <lora:x:1> & see <https://x.org/a.png?b=1&c=2>."

"""Smoke tests: the real slack-bolt AsyncApp / slack-sdk clients against the Slack emulator."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from tests.emulators.slack_emulator import (
    BOT_USER_ID,
    CHANNEL_ID,
    DM_CHANNEL_ID,
    USER_ID,
    SlackEmulator,
    serve_app,
)

BOT_TOKEN = "xoxb-test"
APP_TOKEN = "xapp-test"
SECRET = "shh-signing-secret"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


@dataclass
class Harness:
    emu: SlackEmulator
    client: AsyncWebClient
    app: AsyncApp
    url: str = ""  # full /slack/events URL once served
    seen: list[Any] = field(default_factory=list)


@pytest.fixture
async def emu() -> AsyncIterator[SlackEmulator]:
    async with SlackEmulator(bot_token=BOT_TOKEN, signing_secret=SECRET, app_token=APP_TOKEN) as e:
        yield e


@pytest.fixture
async def harness(emu: SlackEmulator) -> AsyncIterator[Harness]:
    """A real AsyncApp whose Web API client points at the emulator. Register listeners on
    ``harness.app`` first, then ``async with serve(harness)``."""
    client = AsyncWebClient(token=BOT_TOKEN, base_url=emu.api_url)
    app = AsyncApp(client=client, signing_secret=SECRET)
    yield Harness(emu=emu, client=client, app=app)


@contextlib.asynccontextmanager
async def serve(h: Harness) -> AsyncIterator[Harness]:
    """Serve ``h.app`` over HTTP on a free port for the duration of the block."""
    async with serve_app(h.app.web_app(path="/slack/events")) as base:
        h.url = f"{base}/slack/events"
        yield h


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


async def test_slash_command_ack_and_response_url(harness: Harness) -> None:
    emu, app = harness.emu, harness.app

    @app.command("/imagine")
    async def imagine(ack: Any, respond: Any, command: dict[str, Any]) -> None:
        await ack(f"Working on: {command['text']}")
        await respond(text="done", response_type="in_channel")

    async with serve(harness) as h:
        resp = await emu.post_slash_command(h.url, "/imagine", "a red fox")
        assert resp == 200
        # bolt answers ack("text") with a text/plain body, not JSON; Slack shows it ephemerally.
        assert resp.text == "Working on: a red fox"
        assert resp.headers["Content-Type"].startswith("text/plain")
        assert emu.ephemerals[-1] == {
            "channel": CHANNEL_ID,
            "user": USER_ID,
            "via": "ack",
            "text": "Working on: a red fox",
        }
        url = resp.response_url
        assert url and resp.trigger_id
        await emu.wait_for(lambda: emu.responses_to(url))
    assert emu.responses_to(url)[0]["text"] == "done"
    # in_channel responses show up in the channel as the bot.
    assert emu.bot_messages(CHANNEL_ID)[-1]["text"] == "done"


async def test_block_action_and_modal_flow(harness: Harness) -> None:
    emu, app, client = harness.emu, harness.app, harness.client

    @app.action("regenerate")
    async def regen(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        msg = body["message"]
        await client.chat_update(
            channel=body["channel"]["id"], ts=msg["ts"], text=f"regenerating {body['actions'][0]['value']}"
        )
        await client.views_open(
            trigger_id=body["trigger_id"],
            view={
                "type": "modal",
                "callback_id": "tweak",
                "title": {"type": "plain_text", "text": "Tweak"},
                "submit": {"type": "plain_text", "text": "Go"},
                "blocks": [
                    {
                        "type": "input",
                        "block_id": "prompt",
                        "label": {"type": "plain_text", "text": "Prompt"},
                        "element": {"type": "plain_text_input", "action_id": "value"},
                    }
                ],
            },
        )

    @app.view("tweak")
    async def tweak(ack: Any, view: dict[str, Any]) -> None:
        prompt = view["state"]["values"]["prompt"]["value"]["value"]
        if not prompt:
            await ack(response_action="errors", errors={"prompt": "required"})
            return
        await ack()
        harness.seen.append(prompt)

    posted = await client.chat_postMessage(
        channel=CHANNEL_ID,
        text="image ready",
        blocks=[
            {
                "type": "actions",
                "block_id": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "regenerate",
                        "value": "seed-42",
                        "text": {"type": "plain_text", "text": "Again"},
                    }
                ],
            }
        ],
    )
    async with serve(harness) as h:
        assert await emu.post_block_action(h.url, "regenerate", "seed-42", posted["ts"]) == 200
        [opened] = await emu.wait_for_call("views.open")
        view_id = opened.response["view"]["id"]
        bad = await emu.post_view_submission(h.url, values={"prompt": {"value": ""}}, view_id=view_id)
        assert bad.json() == {"response_action": "errors", "errors": {"prompt": "required"}}
        good = await emu.post_view_submission(h.url, values={"prompt": {"value": "bluer"}}, view_id=view_id)
        assert good == 200 and good.text == ""
        await emu.wait_for(lambda: harness.seen)
    msg = emu.message(CHANNEL_ID, posted["ts"])
    assert msg is not None and msg["text"] == "regenerating seed-42" and "edited" in msg
    assert msg["blocks"][0]["elements"][0]["action_id"] == "regenerate"
    assert emu.views[view_id]["callback_id"] == "tweak"
    assert harness.seen == ["bluer"]


async def test_ratelimited_then_success_and_ok_false(emu: SlackEmulator) -> None:
    client = AsyncWebClient(
        token=BOT_TOKEN,
        base_url=emu.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
    emu.fail_next("chat.postMessage", retry_after=0)
    resp = await client.chat_postMessage(channel=CHANNEL_ID, text="hi")
    assert resp["ok"]
    first, second = emu.calls("chat.postMessage")
    assert (first.status, first.response["error"], second.status) == (429, "ratelimited", 200)
    assert [m["text"] for m in emu.bot_messages()] == ["hi"]

    # Without a retry handler the 429 surfaces as SlackApiError; plain ok:false too.
    plain = AsyncWebClient(token=BOT_TOKEN, base_url=emu.api_url)
    emu.fail_next("chat.postMessage")
    with pytest.raises(SlackApiError) as err:
        await plain.chat_postMessage(channel=CHANNEL_ID, text="x")
    assert err.value.response.status_code == 429 and err.value.response.headers["Retry-After"] == "1"
    emu.fail_next("chat.update", "message_not_found", status=200, times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as err:
            await plain.chat_update(channel=CHANNEL_ID, ts=resp["ts"], text="y")
        assert err.value.response["error"] == "message_not_found"
    assert (await plain.chat_update(channel=CHANNEL_ID, ts=resp["ts"], text="y"))["ok"]


async def test_auth_errors_and_misc_methods(emu: SlackEmulator) -> None:
    bad = AsyncWebClient(token="xoxb-wrong", base_url=emu.api_url)
    with pytest.raises(SlackApiError) as err:
        await bad.auth_test()
    assert err.value.response["error"] == "invalid_auth"
    anon = AsyncWebClient(base_url=emu.api_url)
    with pytest.raises(SlackApiError) as err:
        await anon.auth_test()
    assert err.value.response["error"] == "not_authed"
    client = AsyncWebClient(token=BOT_TOKEN, base_url=emu.api_url)
    with pytest.raises(SlackApiError) as err:
        await client.apps_connections_open(app_token=BOT_TOKEN)
    assert err.value.response["error"] == "not_allowed_token_type"
    assert (await client.apps_connections_open(app_token=APP_TOKEN))["url"].startswith("ws://127.0.0.1:")

    assert (await client.users_info(user=USER_ID))["user"]["name"] == "alice"
    assert (await client.conversations_info(channel=CHANNEL_ID))["channel"]["name"] == "general"
    dm = await client.chat_postMessage(channel=USER_ID, text="psst")  # user id → their DM
    assert dm["channel"] == DM_CHANNEL_ID
    await client.reactions_add(channel=DM_CHANNEL_ID, timestamp=dm["ts"], name="eyes")
    assert emu.reactions(DM_CHANNEL_ID, dm["ts"]) == ["eyes"]
    link = await client.chat_getPermalink(channel=DM_CHANNEL_ID, message_ts=dm["ts"])
    assert link["permalink"].endswith(dm["ts"].replace(".", ""))
    await client.chat_postEphemeral(channel=CHANNEL_ID, user=USER_ID, text="only you")
    assert emu.ephemerals[-1]["text"] == "only you"
    await client.views_publish(user_id=USER_ID, view={"type": "home", "blocks": []})
    assert emu.home_views[USER_ID]["type"] == "home"
    await client.chat_delete(channel=DM_CHANNEL_ID, ts=dm["ts"])
    assert emu.message(DM_CHANNEL_ID, dm["ts"]) is None
    f = emu.add_file("page.png", b"png", "image/png", serve_html=True)
    assert (await client.files_info(file=f["id"]))["file"]["size"] == 3
    async with (
        aiohttp.ClientSession() as s,
        s.get(f["url_private_download"], headers={"Authorization": f"Bearer {BOT_TOKEN}"}) as r,
    ):
        assert r.content_type == "text/html"  # a file that deliberately serves the login page
    with pytest.raises(SlackApiError) as err:
        await client.views_open(trigger_id="made-up", view={"type": "modal"})
    assert err.value.response["error"] == "invalid_trigger_id"


async def test_socket_mode_round_trip(harness: Harness) -> None:
    emu, app = harness.emu, harness.app
    done = asyncio.Event()

    @app.event("message")
    async def on_dm(event: dict[str, Any], say: Any) -> None:
        await say(text=f"echo: {event['text']}")
        done.set()

    handler = AsyncSocketModeHandler(app, APP_TOKEN)
    try:
        await handler.connect_async()
        await emu.wait_socket_connected()
        envelope_id = await emu.socket_send_event(emu.dm_event("hello there"))
        ack = await emu.wait_socket_ack(envelope_id)
        assert ack == {"envelope_id": envelope_id}
        await asyncio.wait_for(done.wait(), 5)
        [post] = await emu.wait_for_call("chat.postMessage")
    finally:
        await handler.close_async()
    [conn] = emu.calls("apps.connections.open")
    assert conn.token == APP_TOKEN
    assert post.params["channel"] == DM_CHANNEL_ID
    assert [m["text"] for m in emu.messages_in(DM_CHANNEL_ID)] == ["hello there", "echo: hello there"]
    assert emu.socket_connections == 1
    await emu.wait_for(lambda: not emu.socket_connected)

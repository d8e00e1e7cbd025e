"""The Web API with slack-sdk's client: faults, retries, auth errors and the other methods."""

from __future__ import annotations

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from tests.emulators.slack import CHANNEL_ID, DM_CHANNEL_ID, USER_ID, SlackEmulator
from tests.emulators.slack.conftest import APP_TOKEN, BOT_TOKEN


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


async def test_a_dropped_connection_after_the_work_is_done(emu: SlackEmulator) -> None:
    client = AsyncWebClient(token=BOT_TOKEN, base_url=emu.api_url, retry_handlers=[])  # no resend
    emu.fail_next("chat.postMessage", disconnect=True, applied=True)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await client.chat_postMessage(channel=CHANNEL_ID, text="did it go?")
    [call] = emu.calls("chat.postMessage")
    assert call.dropped and call.status == 0
    assert [m["text"] for m in emu.bot_messages()] == ["did it go?"]  # it did: only the answer was lost

    emu.fail_next("chat.postMessage", disconnect=True)  # not applied: nothing happens either
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await client.chat_postMessage(channel=CHANNEL_ID, text="and this?")
    assert [m["text"] for m in emu.bot_messages()] == ["did it go?"]
    assert (await client.chat_postMessage(channel=CHANNEL_ID, text="again"))["ok"]  # next call fine

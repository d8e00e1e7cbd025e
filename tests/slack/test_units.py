"""The Slack adapter's small parts, in process: text, dedupe, file hosts, Retry-After, progress,
a workflow step's inputs, the side panel's prompts."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack_adapter import blocks
from adapters.slack_adapter.app import create
from adapters.slack_adapter.assistant import suggested_prompts
from adapters.slack_adapter.dedupe import SeenMessages
from adapters.slack_adapter.delivery import StatusMessage, ThreadDelivery
from adapters.slack_adapter.files import SlackAttachments, SlackFiles
from adapters.slack_adapter.ratelimit import RateLimitRetry, retry_after_seconds
from adapters.slack_adapter.settings import SlackSettings
from adapters.slack_adapter.text import escape, to_plain
from adapters.slack_adapter.workflow import StepInputs
from bot.app.runtime import open_runtime
from bot.config import Settings
from bot.conversation.progress import ProgressRelay
from bot.conversation.surface import EditForm, Shown
from bot.conversation.turns import Options
from bot.engine.pipeline import ProgressEvent
from bot.errors import DownloadError, InvalidImage
from bot.media.fetch import SafeFetcher
from bot.providers.demo import render_placeholder
from bot.request.flags import parse_text
from bot.request.models import GenerationResult
from bot.request.validation import UPLOAD_MAX_BYTES
from tests.emulators.slack import CHANNEL_ID, SlackEmulator
from tests.emulators.slack.blockkit import view_errors
from tests.slack.conftest import BOT_TOKEN


def test_incoming_text_becomes_a_plain_prompt() -> None:
    assert to_plain("<@UBOT> a fox &amp; a hare --ar 3:2", "UBOT") == "a fox & a hare --ar 3:2"
    assert to_plain("draw <https://example.com/x.png|this> for <@U2|bob>", "UBOT") == "draw this for @bob"
    assert (
        to_plain("a poster for <#C1|art> and <!subteam^S1|@design>", None) == "a poster for #art and @design"
    )
    assert to_plain("<https://example.com>  &lt;3", None) == "https://example.com &lt;3".replace("&lt;", "<")
    assert to_plain("line one\nline two <@UBOT>", "UBOT") == "line one\nline two"
    assert to_plain("<@UBOT> me and <@U2> and <@U3>", "UBOT", {"U2": "Ann Lee"}) == "me and @Ann Lee and"


def test_outgoing_text_is_escaped() -> None:
    assert escape("<!channel> & <@U1>") == "&lt;!channel&gt; &amp; &lt;@U1&gt;"
    # A channel link notifies nobody: it stays a link (`admin settings` lists channels with them).
    assert escape("<#C2> <#C2|x> <#U1>") == "<#C2> &lt;#C2|x&gt; &lt;#U1&gt;"


def test_seen_messages_claims_once_within_the_ttl() -> None:
    now = [0.0]
    seen = SeenMessages(ttl=10.0, max_entries=3, clock=lambda: now[0])
    key = SeenMessages.message_key("C1", "1.000100")
    assert seen.claim(key) and not seen.claim(key)
    now[0] = 11.0
    assert seen.claim(key)  # expired, so a much later duplicate would be answered again
    for i in range(5):
        seen.claim(f"k{i}")
    assert len(seen) == 3  # bounded


async def test_a_malformed_link_stays_words_and_a_file_link_is_read() -> None:
    """`<https://[x/files/U1/F1/a.png>` raised out of the message handler: no answer at all."""
    async with httpx.AsyncClient() as http:
        files = SlackFiles(
            SafeFetcher(http), AsyncWebClient(token="x"), "xoxb-secret", "https://slack.com/api/"
        )
        for text in (
            "see <https://[x/files/U1/F1/a.png>",
            "<http://[::1/x>",
            "<https://a.slack.com:99999/f>",
        ):
            assert files.linked(text, "U1", "C1") == (text, []), text
        kept, found = files.linked("like <https://t.slack.com/files/U1/F42/a.png> this", "U1", "C1")
        assert kept == "like   this" and [f["id"] for f in found] == ["F42"]
        assert not files.is_slack_hosted("https://[x/files-pri/T1-F1/a.png")


async def test_only_slack_hosts_get_the_token() -> None:
    async with httpx.AsyncClient() as http:
        files = SlackFiles(
            SafeFetcher(http), AsyncWebClient(token="x"), "xoxb-secret", "http://127.0.0.1:9999/api/"
        )
        assert files.is_slack_hosted("https://files.slack.com/files-pri/T1-F1/a.png")
        assert files.is_slack_hosted("http://127.0.0.1:9999/files-pri/T1-F1/a.png")
        for url in (
            "http://files.slack.com/files-pri/T1-F1/a.png",  # not https
            "https://files.slack.com.evil.example/a.png",
            "http://127.0.0.1:9998/files-pri/T1-F1/a.png",  # another port
            "http://localhost:9999/files-pri/T1-F1/a.png",
            "ftp://files.slack.com/a.png",
        ):
            assert not files.is_slack_hosted(url), url
        with pytest.raises(DownloadError):
            await SlackAttachments(
                files, [{"id": "F1", "name": "a.png", "mimetype": "image/png", "url_private": url}]
            ).load()
        with pytest.raises(InvalidImage, match="at most 14"):
            await SlackAttachments(
                files, [{"id": f"F{i}", "mimetype": "image/png"} for i in range(15)]
            ).load()
        with pytest.raises(InvalidImage, match="MB"):
            big = {
                "id": "F1",
                "name": "big.png",
                "mimetype": "image/png",
                "size": UPLOAD_MAX_BYTES + 1,
                "url_private": url,
            }
            await SlackAttachments(files, [big]).load()


def test_retry_after_is_read_whole() -> None:
    assert retry_after_seconds("30") == 30.0
    assert retry_after_seconds("120", cap=60.0) == 60.0
    assert retry_after_seconds(None) == 1.0
    assert retry_after_seconds("soon") == 1.0


async def test_rate_limited_calls_are_retried() -> None:
    async with SlackEmulator(bot_token=BOT_TOKEN) as emu:
        client = AsyncWebClient(token=BOT_TOKEN, base_url=emu.api_url, retry_handlers=[RateLimitRetry(2)])
        emu.fail_next("chat.postMessage", retry_after=0, times=2)
        response = await client.chat_postMessage(channel=CHANNEL_ID, text="hi")
        assert response["ok"]
        assert [c.status for c in emu.calls("chat.postMessage")] == [429, 429, 200]


async def test_progress_updates_are_throttled_and_never_block() -> None:
    async with SlackEmulator(bot_token=BOT_TOKEN) as emu:
        client = AsyncWebClient(token=BOT_TOKEN, base_url=emu.api_url)
        status = StatusMessage(client, CHANNEL_ID, None)
        relay = ProgressRelay(lambda p: status.show(p.text), min_interval=1.0)  # wide for a loaded CI box
        await status.ensure()
        await relay(ProgressEvent("queued", position=2))
        await emu.wait_for_call("chat.update")
        for second in range(1, 6):  # a burst of ticks: at most one more update goes out
            await relay(ProgressEvent("running", elapsed=float(second), percent=10.0 * second))
        await emu.wait_for_call("chat.update", count=2)
        texts = [c.params["text"] for c in emu.calls("chat.update")]
        assert texts[0] == "Queued: you are #2 in line."
        assert texts[1].startswith("Generating… 5s")  # the latest text, not every tick
        await relay.stop()
        await status.remove()
        assert emu.deleted_messages and len(emu.calls("chat.update")) == 2
        assert emu.message(CHANNEL_ID, str(status.ts)) is None


async def test_create_returns_none_without_slack_settings(tmp_path: Any) -> None:
    settings = Settings(_env_file=None, database=str(tmp_path / "db.sqlite"))
    async with open_runtime(settings) as runtime:
        assert create(runtime, SlackSettings(_env_file=None)) is None
    slack = SlackSettings(_env_file=None, slack_bot_token="xoxb-1", slack_app_token="xapp-1")
    async with open_runtime(settings) as runtime:
        platform = create(runtime, slack)
        assert platform is not None and platform.name == "slack" and platform.socket_mode
    await asyncio.sleep(0)


async def test_images_over_the_upload_limit_are_refitted() -> None:
    async with SlackEmulator(bot_token=BOT_TOKEN) as emu:
        client = AsyncWebClient(token=BOT_TOKEN, base_url=emu.api_url)
        image = render_placeholder("a big picture", 1024, 1024, 0, "png")
        assert len(image.data) > 30_000

        result = GenerationResult(
            job_id="j1",
            images=(image,),
            provider="demo",
            model="5.0-lite",
            size="1024x1024",
            requested=1,
            elapsed=1,
        )
        deliver = ThreadDelivery(
            client=client,
            channel=CHANNEL_ID,
            thread_ts=None,
            status=StatusMessage(client, CHANNEL_ID, None),
            shown=Shown(result, "a big picture", "", 7, "<@U1>"),
            upload_max_bytes=30_000,
        )
        delivery = await deliver(result)
        [upload] = emu.uploaded_files()
        assert len(upload["data"]) <= 30_000 and upload["data"].startswith(b"\xff\xd8")
        assert upload["filename"] == "seedbot-j1-1.jpg"
        assert delivery.delivered == 1 and len(delivery.message_ids) == 2  # files message + buttons
        comment = emu.calls("files.completeUploadExternal")[0].params["initial_comment"]
        assert "re-encoded to fit" in comment and "Images left today: 7." in comment


async def test_images_that_fit_are_posted_without_a_thread_hop(monkeypatch: pytest.MonkeyPatch) -> None:
    async def no_hop(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("an image that fits went to a worker thread")

    monkeypatch.setattr(asyncio, "to_thread", no_hop)
    async with SlackEmulator(bot_token=BOT_TOKEN) as emu:
        client = AsyncWebClient(token=BOT_TOKEN, base_url=emu.api_url)
        image = render_placeholder("a picture", 256, 256, 0, "png")
        result = GenerationResult(
            job_id="j1",
            images=(image,),
            provider="demo",
            model="5.0-lite",
            size="256x256",
            requested=1,
            elapsed=1,
        )
        deliver = ThreadDelivery(
            client=client,
            channel=CHANNEL_ID,
            thread_ts=None,
            status=StatusMessage(client, CHANNEL_ID, None),
            shown=Shown(result, "a picture", "", 7, "<@U1>"),
        )
        delivery = await deliver(result)
        [upload] = emu.uploaded_files()
        assert upload["data"] == image.data and delivery.delivered == 1


def test_a_workflow_steps_inputs_become_a_turns_options() -> None:
    full = StepInputs.read(
        {"prompt": "a fox", "user": "U1", "channel": "C1", "count": 2, "aspect": "16:9", "model": "4.5"}
    )
    assert (full.prompt, full.user, full.channel) == ("a fox", "U1", "C1")
    assert full.options == Options(aspect="16:9", count=2, model="4.5")
    # Optional inputs left empty are the workspace's defaults; a count may come as text.
    bare = StepInputs.read({"prompt": "a fox", "user": "U1", "channel": "", "count": "3"})
    assert bare.channel is None and bare.options == Options(count=3)
    assert StepInputs.read({"prompt": "x", "user": "U1", "count": True}).options.count is None


def test_the_side_panels_suggested_prompts_fit_slack() -> None:
    prompts = suggested_prompts()
    assert 1 <= len(prompts) <= 4  # setSuggestedPrompts shows up to four
    for prompt in prompts:
        assert prompt["title"].strip() and prompt["message"].strip()
        parse_text(prompt["message"])  # each one's flags are good: picking it never errs


@pytest.mark.parametrize("prompt", [("abcd&" * 400)[:2000], ("A & B -> C " * 200)[:2000], "R&D <3"])
def test_the_edit_form_shows_a_prompt_of_any_characters_within_block_kits_limit(prompt: str) -> None:
    """Cut to 2,900 characters before escaping, a prompt full of "&" and ">" grew past 3,000
    ("&amp;" is five): views.open was refused and Edit did nothing."""
    view = blocks.edit_modal(EditForm("job1", prompt))
    assert view_errors(view) == []
    shown = view["blocks"][0]["elements"][0]["text"]
    assert not re.search(r"&[a-z]*$", shown.rstrip("…"))  # no entity cut in half


def test_a_status_message_of_many_ampersands_is_cut_between_entities() -> None:
    """Fourteen references named with "&" pushed the progress and its legend past 3,000
    escaped characters; the cut left "&am…", shown as it is."""
    for width in range(2990, 3010):
        text = ("R" * (width % 7)) + "a&b " * 1000
        [section, _] = blocks.status_blocks(text, "job1")
        shown = section["text"]["text"]
        assert len(shown) <= blocks.SECTION_MAX and shown.endswith("…")
        assert not re.search(r"&[a-z]*$", shown.rstrip("…")), shown[-12:]

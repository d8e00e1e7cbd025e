"""Mentions, DMs and thread replies, end to end: signed Events API requests into the real bot."""

from __future__ import annotations

import base64
import sqlite3
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from adapters.slack_adapter.handlers import MAX_NAMED
from bot import messages
from bot.ledger import SQLiteLedger
from tests.emulators.providers import ProviderEmulator
from tests.emulators.slack import BOT_USER_ID, CHANNEL_ID, DM_CHANNEL_ID, USER_ID, SlackEmulator
from tests.slack.conftest import StartBot, button_values, controls, png, results, wait_results


async def test_mention_batch_answers_in_thread_with_caption_and_buttons(
    emu: SlackEmulator, start_bot: StartBot
) -> None:
    bot = await start_bot()
    mention = emu.mention_event("a red fox in snow --ar 3:2 --n 2")
    started = time.monotonic()
    assert await emu.post_event(bot.url, mention) == 200
    assert time.monotonic() - started < 3.0  # acked long before any image exists

    uploads = await wait_results(emu, 2, bot)
    await bot.wait_log(r"delivered 2/2 via demo")
    # Both images went into the mention's thread, as real JPEG bytes, in one message.
    assert [u["thread_ts"] for u in uploads] == [mention["ts"]] * 2
    assert all(u["data"].startswith(b"\xff\xd8\xff") for u in uploads)
    assert [u["filename"].rsplit("-", 1)[-1] for u in uploads] == ["1.jpg", "2.jpg"]
    [complete] = emu.calls("files.completeUploadExternal")
    assert complete.params["channel_id"] == CHANNEL_ID
    comment = complete.params["initial_comment"]
    assert comment.startswith("a red fox in snow\nSeedream 5.0 lite · 2496x1664 · demo · ")
    assert "Images left today: 18." in comment and "Demo mode" in comment
    # The placeholder was posted in the thread first, then removed; the buttons follow.
    [placeholder] = emu.calls("chat.postMessage", thread_ts=mention["ts"])[:1]
    assert placeholder.params["text"] == "Starting…"
    assert [d["ts"] for d in emu.deleted_messages] == [placeholder.response["ts"]]
    thread = emu.thread(CHANNEL_ID, mention["ts"])
    assert [m["user"] for m in thread] == [USER_ID, BOT_USER_ID, BOT_USER_ID]
    assert len(thread[1]["files"]) == 2
    values = button_values(thread[2])
    assert set(values) == {
        "seedbot.reroll",
        "seedbot.variations",
        "seedbot.edit",
        "seedbot.info",
        "seedbot.delete",
    }
    assert len(set(values.values())) == 1  # all carry the job id
    assert not emu.ephemerals
    assert not bot.matching(r"(WARNING|ERROR) +(slack_bolt|slack_sdk|adapters\.slack)")


async def test_mention_with_two_files_sends_both_to_the_provider(
    emu: SlackEmulator, start_bot: StartBot
) -> None:
    red, blue = png(64, 48, (200, 40, 40)), png(40, 40, (40, 40, 200))
    async with ProviderEmulator() as providers:
        bot = await start_bot(
            NOVITA_API_KEY=providers.novita.api_key, NOVITA_BASE_URL=providers.base_url("novita")
        )
        a = emu.add_file("fox.png", red, "image/png")
        b = emu.add_file("hat.png", blue, "image/png")
        mention = emu.mention_event("put the hat on the fox", files=[a, b])
        assert await emu.post_event(bot.url, mention) == 200
        [upload] = await wait_results(emu, 1, bot)

    # The bytes were fetched from Slack's file host with the bot token...
    assert [(f["file_id"], f["authorized"], f["served"]) for f in emu.file_fetches] == [
        (a["id"], True, "bytes"),
        (b["id"], True, "bytes"),
    ]
    # ...and reached the provider unchanged, in order, as data URIs.
    [submit] = providers.novita.submits
    assert [uri.split(",", 1)[0] for uri in submit.json["image"]] == ["data:image/png;base64"] * 2
    assert [base64.b64decode(uri.split(",", 1)[1]) for uri in submit.json["image"]] == [red, blue]
    assert providers.novita.received_images == [red, blue]
    assert upload["thread_ts"] == mention["ts"]
    [complete] = emu.calls("files.completeUploadExternal")
    assert "novita" in complete.params["initial_comment"]
    assert "image 1 = fox.png; image 2 = hat.png" in complete.params["initial_comment"]


async def test_thread_reply_edits_the_latest_result(emu: SlackEmulator, start_bot: StartBot) -> None:
    bot = await start_bot()
    mention = emu.mention_event("a lighthouse at dusk --n 2")
    await emu.post_event(bot.url, mention)
    await wait_results(emu, 2, bot)
    [first_buttons] = controls(emu)
    first_job = button_values(first_buttons)["seedbot.reroll"]

    # A plain reply in the bot's thread (no mention) edits image 2 of that batch.
    reply = emu.message_event("#2 make it stormy", thread_ts=mention["ts"])
    assert await emu.post_event(bot.url, reply) == 200
    uploads = await wait_results(emu, 3, bot)
    assert uploads[2]["thread_ts"] == mention["ts"]
    comment = emu.calls("files.completeUploadExternal")[1].params["initial_comment"]
    assert comment.startswith("make it stormy\n")
    assert f"image 1 = result 2 of job {first_job}" in comment

    # Chatter in a thread that is not the bot's is left alone; so is a reply to someone else.
    other = emu.message_event("unrelated")
    await emu.post_event(bot.url, other)
    await emu.post_event(bot.url, emu.message_event("nice", thread_ts=other["ts"]))
    await emu.post_event(bot.url, emu.message_event("<@U2> look at this", thread_ts=mention["ts"]))
    # A later mention is a barrier: once it is answered, the messages above were ignored.
    await emu.post_event(bot.url, emu.mention_event("a third picture"))
    await wait_results(emu, 4, bot)
    assert len(emu.calls("files.completeUploadExternal")) == 3
    assert not emu.ephemerals


async def test_a_mention_in_the_thread_of_someones_photo_edits_that_photo(
    emu: SlackEmulator, start_bot: StartBot
) -> None:
    """Slack's way of replying to a photo is its thread: "@seedbot make it a watercolor" there was
    a new image of the words, charged, and the photo unused."""
    photo = png(64, 48, (30, 120, 200))
    async with ProviderEmulator() as providers:
        bot = await start_bot(
            NOVITA_API_KEY=providers.novita.api_key, NOVITA_BASE_URL=providers.base_url("novita")
        )
        shared = emu.message_event(
            "our new logo", files=[emu.add_file("logo.png", photo, "image/png")], user="U2"
        )
        await emu.post_event(bot.url, shared)  # not for the bot: no mention
        mention = emu.mention_event("make it a watercolor", thread_ts=shared["ts"])
        await emu.post_event(bot.url, mention)
        [upload] = await wait_results(emu, 1, bot)
        assert providers.novita.received_images == [photo]
        assert upload["thread_ts"] == shared["ts"]
        [complete] = emu.calls("files.completeUploadExternal")
        assert "image 1 = logo.png" in complete.params["initial_comment"]
        # A command there is still a command, not an edit of the photo.
        await emu.post_event(bot.url, emu.mention_event("usage", thread_ts=shared["ts"]))
        [note] = await emu.wait_for(lambda: emu.ephemerals)
        assert "Images left today" in note["text"], note
        assert providers.novita.submissions == 1
        # In the thread of another photo, a shape in words is that edit of it (a remake is of
        # seedbot's own results).
        other = emu.message_event("", files=[emu.add_file("sky.png", photo, "image/png")], user="U2")
        await emu.post_event(bot.url, other)
        await emu.post_event(bot.url, emu.mention_event("make it portrait", thread_ts=other["ts"]))
        await wait_results(emu, 2, bot)
        assert providers.novita.requests[-1].json["prompt"] == "make it portrait"
        assert providers.novita.received_images == [photo, photo]
    asked = emu.calls("conversations.replies")[0]
    assert asked.params["ts"] == shared["ts"] and asked.response["ok"]


async def test_a_link_to_a_file_of_this_slack_is_read_with_the_token(
    emu: SlackEmulator, start_bot: StartBot
) -> None:
    """ "Copy link to file" pasted into a mention was fetched as a web link, without the token:
    Slack answers that with a sign-in page, so the photo was refused as no image."""
    photo = png(64, 48, (220, 180, 30))
    async with ProviderEmulator() as providers:
        bot = await start_bot(
            NOVITA_API_KEY=providers.novita.api_key, NOVITA_BASE_URL=providers.base_url("novita")
        )
        shared = emu.add_file("sunset.png", photo, "image/png")
        missing = "F0NOSUCHFILE"
        mention = emu.mention_event(f"make it a watercolor <{shared['permalink']}|sunset.png>")
        await emu.post_event(bot.url, mention)
        [upload] = await wait_results(emu, 1, bot)
        assert providers.novita.received_images == [photo]
        assert [(f["file_id"], f["authorized"]) for f in emu.file_fetches] == [(shared["id"], True)]
        [complete] = emu.calls("files.completeUploadExternal")
        assert complete.params["initial_comment"].startswith("make it a watercolor\n")
        # One this Slack does not show the bot is refused, free, in words.
        gone = shared["permalink"].replace(shared["id"], missing)
        await emu.post_event(bot.url, emu.mention_event(f"make it a watercolor <{gone}>"))
        [note] = await emu.wait_for(lambda: emu.ephemerals)
        assert note["text"] == messages.file_not_visible(missing), note
        assert providers.novita.submissions == 1
    assert upload["thread_ts"] == mention["ts"]


async def test_a_link_to_a_file_shared_only_where_the_person_is_not_is_refused(
    emu: SlackEmulator, start_bot: StartBot
) -> None:
    """The bot reads every file of the conversations it is in: a link to Bob's file from a
    private channel, pasted in a public one by someone else, was read with the bot's access and
    its edit posted for everyone (and the file sent to the image host)."""
    secret = png(64, 48, (1, 2, 3))
    async with ProviderEmulator() as providers:
        bot = await start_bot(
            NOVITA_API_KEY=providers.novita.api_key, NOVITA_BASE_URL=providers.base_url("novita")
        )
        emu.add_user("U0BOB", "bob")
        private = emu.add_file("roadmap.png", secret, "image/png", user="U0BOB")
        emu.files[private["id"]].update(channels=[], groups=["G0PRIVATE"], is_public=False)
        await emu.post_event(bot.url, emu.mention_event(f"make it a watercolor <{private['permalink']}>"))
        [note] = await emu.wait_for(lambda: emu.ephemerals)
        assert note["text"] == messages.file_not_visible("roadmap.png"), note
        assert emu.file_fetches == [] and providers.novita.submissions == 0


async def test_direct_message_works_like_a_mention(emu: SlackEmulator, start_bot: StartBot) -> None:
    bot = await start_bot()
    dm = emu.dm_event("a tiny robot, 16:9")
    assert await emu.post_event(bot.url, dm) == 200
    [upload] = await wait_results(emu, 1, bot)
    assert (upload["channel"], upload["thread_ts"]) == (DM_CHANNEL_ID, dm["ts"])
    [complete] = emu.calls("files.completeUploadExternal")
    assert "2848x1600" in complete.params["initial_comment"]
    # A reply in that DM thread edits the result.
    await emu.post_event(bot.url, emu.dm_event("now in watercolour", thread_ts=dm["ts"]))
    uploads = await wait_results(emu, 2, bot)
    assert uploads[1]["thread_ts"] == dm["ts"]
    assert "result 1 of job" in emu.calls("files.completeUploadExternal")[1].params["initial_comment"]


async def test_a_colleague_mentioned_in_the_prompt_keeps_their_name(
    emu: SlackEmulator, start_bot: StartBot
) -> None:
    """A message carries only `<@U0BOB>`: the word was dropped ("a portrait of as a pirate");
    it is the name Slack shows, as on Discord. Someone Slack won't describe is dropped still."""
    emu.add_user("U0BOB", "bob", real_name="Bob Builder")
    bot = await start_bot()
    await emu.post_event(bot.url, emu.dm_event("a portrait of <@U0BOB> and <@U0GONE> as pirates"))
    await wait_results(emu, 1, bot)
    [complete] = emu.calls("files.completeUploadExternal")
    assert complete.params["initial_comment"].startswith("a portrait of @bob and as pirates\n")
    asked = [c.params["user"] for c in emu.calls("users.info")]
    assert sorted(set(asked)) == ["U0BOB", "U0GONE", USER_ID]
    # A message of many mentions looks up a prompt's few, not one call each.
    crowd = " ".join(f"<@U0{n:04d}>" for n in range(40))
    await emu.post_event(bot.url, emu.dm_event(f"a crowd of {crowd}"))
    await wait_results(emu, 2, bot)
    assert len({c.params["user"] for c in emu.calls("users.info")}) == 3 + MAX_NAMED


async def test_retried_and_doubled_events_are_answered_once(emu: SlackEmulator, start_bot: StartBot) -> None:
    bot = await start_bot()
    first = emu.mention_event("a paper boat")
    await emu.post_event(bot.url, first)
    await wait_results(emu, 1, bot)

    # A mention inside the bot's thread arrives as app_mention *and* message, and Slack
    # retries the app_mention (same event id, X-Slack-Retry-Num).
    mention = emu.mention_event("make it red", thread_ts=first["ts"])
    as_message = emu.message_event(mention["text"], thread_ts=first["ts"], ts=mention["ts"])
    assert await emu.post_event(bot.url, mention, event_id="EvDup1") == 200
    assert await emu.post_event(bot.url, as_message, event_id="EvDup2", store=False) == 200
    assert await emu.post_event(bot.url, mention, event_id="EvDup1", retry_num=1, store=False) == 200
    assert await emu.post_event(bot.url, mention, event_id="EvDup1", retry_num=2, store=False) == 200
    await bot.wait_log(r"already handled", count=3)
    await wait_results(emu, 2, bot)
    await bot.wait_log(r"delivered 1/1 via demo", count=2)
    assert len(emu.calls("files.completeUploadExternal")) == 2
    assert bot.matching(r"already handled \(retry 2\)")


async def test_a_mention_is_answered_when_the_database_cannot_say_if_it_was_seen(
    emu: SlackEmulator, start_bot: StartBot, tmp_path: Path
) -> None:
    """The cross-process dedupe (`first_sighting`) failing on a database error (PostgreSQL down,
    too many connections, SQLite locked or full) was an acked event nobody ever answered, and a
    traceback. It counts as first seen (one warning line): the turn goes on; this process's own
    memory still answers a retry once."""
    bot = await start_bot()
    # Another process holds the database's write lock past the bot's busy timeout (10 s), until
    # the check has failed on it.
    with closing(sqlite3.connect(tmp_path / "seedbot.db", timeout=0, isolation_level=None)) as db:
        db.execute("BEGIN EXCLUSIVE")
        mention = emu.mention_event("a paper crane")
        assert await emu.post_event(bot.url, mention, event_id="EvDb1") == 200
        await bot.wait_log(r"WARNING .*could not check", timeout=40)
        db.execute("ROLLBACK")
    await wait_results(emu, 1, bot)
    [warning] = bot.matching(r"WARNING .*could not check")
    assert "OperationalError" in warning and "database is locked" in warning
    assert await emu.post_event(bot.url, mention, event_id="EvDb1", retry_num=1, store=False) == 200
    await bot.wait_log(r"already handled \(retry 1\)")
    assert len(emu.calls("files.completeUploadExternal")) == 1
    assert not bot.matching(r"Traceback|ERROR")


async def test_app_home_shows_usage(emu: SlackEmulator, start_bot: StartBot) -> None:
    bot = await start_bot(SEEDBOT_DAILY_IMAGES="5")
    event = emu.home_opened_event()
    assert await emu.post_event(bot.url, event) == 200
    [publish] = await emu.wait_for_call("views.publish")
    assert publish.params["user_id"] == USER_ID
    texts = [b.get("text", {}).get("text", "") for b in publish.params["view"]["blocks"]]
    assert any("Images left today: 5 of 5" in t for t in texts)


async def test_a_reply_to_a_result_past_the_image_retention_is_refused(
    emu: SlackEmulator, start_bot: StartBot, tmp_path: Path
) -> None:
    bot = await start_bot()
    mention = emu.mention_event("a lighthouse at dusk")
    await emu.post_event(bot.url, mention)
    await wait_results(emu, 1, bot)
    # Another process on the same database (as `seedbot run` does hourly), a month from now.
    ledger = SQLiteLedger(str(tmp_path / "seedbot.db"), daily_limit=20, monthly_limit=300)
    await ledger.open()
    try:
        assert (await ledger.expire_images(datetime.now(UTC) + timedelta(days=31)))[0] == 1
    finally:
        await ledger.close()

    await emu.post_event(bot.url, emu.message_event("make it stormy", thread_ts=mention["ts"]))
    [note] = await emu.wait_for(lambda: emu.ephemerals)
    assert note["text"] == messages.RESULT_EXPIRED
    assert len(emu.calls("files.completeUploadExternal")) == 1  # nothing more was made


async def test_a_reply_while_the_first_image_is_made_edits_it_once_ready(
    emu: SlackEmulator, start_bot: StartBot
) -> None:
    async with ProviderEmulator() as providers:
        providers.novita.latency = 1.5
        bot = await start_bot(
            NOVITA_API_KEY=providers.novita.api_key, NOVITA_BASE_URL=providers.base_url("novita")
        )
        mention = emu.mention_event("a lighthouse at dusk")
        await emu.post_event(bot.url, mention)
        await emu.wait_for(lambda: providers.novita.submits)  # the first image is being made
        assert not results(emu)
        await emu.post_event(bot.url, emu.message_event("make it stormy", thread_ts=mention["ts"]))
        # The edit's placeholder says it waits (in the thread, as on every surface).
        await emu.wait_for(
            lambda: [
                c
                for c in emu.calls("chat.postMessage")
                if c.params.get("text") == messages.WAITING_FOR_PARENT
            ]
        )
        assert not results(emu)
        uploads = await wait_results(emu, 2, bot)
    assert [u["thread_ts"] for u in uploads] == [mention["ts"]] * 2
    first, second = emu.calls("files.completeUploadExternal")
    assert first.params["initial_comment"].startswith("a lighthouse at dusk\n")
    assert second.params["initial_comment"].startswith("make it stormy\n")
    assert "image 1 = result 1 of job" in second.params["initial_comment"]
    assert len(providers.novita.received_images) == 1  # the edit sent the first result along

"""Requests Slack did not sign, and files the bot must not fetch (or not with its token)."""

from __future__ import annotations

import time

from tests.emulators.slack import SlackEmulator
from tests.slack.conftest import BOT_TOKEN, StartBot, png, wait_results


async def test_bad_signature_and_stale_timestamp_are_rejected(
    emu: SlackEmulator, start_bot: StartBot
) -> None:
    bot = await start_bot()
    forged = emu.mention_event("a forged request")
    assert await emu.post_event(bot.url, forged, bad_signature=True) == 401
    stale = emu.mention_event("a replayed request")
    assert await emu.post_event(bot.url, stale, timestamp=int(time.time()) - 10 * 60) == 401
    forged_command = await emu.post_slash_command(bot.url, "/imagine", "x", bad_signature=True)
    assert forged_command == 401
    assert (await emu.post_url_verification(bot.url, "chal-1")).json() == {"challenge": "chal-1"}
    # A correctly signed request afterwards is the only one that does anything.
    await emu.post_event(bot.url, emu.mention_event("a genuine request"))
    await wait_results(emu, 1, bot)
    assert len(emu.calls("chat.postMessage")) == 2  # placeholder + buttons of the genuine one
    assert not bot.matching(r"forged|replayed")


async def test_file_on_a_foreign_host_is_not_fetched_with_the_token(
    emu: SlackEmulator, start_bot: StartBot
) -> None:
    bot = await start_bot()
    f = emu.add_file("cat.png", png(), "image/png")
    # The same emulator under another host name: not Slack's file host for this bot.
    for key in ("url_private", "url_private_download"):
        f[key] = f[key].replace("127.0.0.1", "localhost")
    mention = emu.mention_event("make the cat purple", files=[f])
    await emu.post_event(bot.url, mention)
    [note] = await emu.wait_for(lambda: emu.ephemerals)
    assert note["text"] == (
        "I only read files uploaded to this workspace, and 'cat.png' is hosted elsewhere. "
        "You were not charged."
    )
    assert not [r for r in emu.requests if "localhost" in r.headers.get("Host", "")]
    assert not [r for r in emu.requests if r.kind != "api" and BOT_TOKEN in str(r.headers)]
    assert not emu.file_fetches and not emu.uploaded_files()


async def test_non_image_file_is_refused_and_free(emu: SlackEmulator, start_bot: StartBot) -> None:
    bot = await start_bot(SEEDBOT_DAILY_IMAGES="2")
    notes = emu.add_file("notes.txt", b"remember the milk", "text/plain")
    await emu.post_event(bot.url, emu.mention_event("illustrate this", files=[notes]))
    # A file that claims to be a PNG but is not is caught after the download.
    fake = emu.add_file("fake.png", b"this is not a png at all", "image/png")
    await emu.post_event(bot.url, emu.mention_event("and this", files=[fake]))
    await emu.wait_for(lambda: len(emu.ephemerals) >= 2)
    texts = sorted(e["text"] for e in emu.ephemerals)
    assert texts == [
        "'fake.png' is not an image I can read (JPEG, PNG, WebP, HEIC, AVIF, BMP, TIFF or GIF). You were not charged.",
        "'notes.txt' is not an image I can read (JPEG, PNG, WebP, HEIC, AVIF, BMP, TIFF or GIF). You were not charged.",
    ]
    assert [f["file_id"] for f in emu.file_fetches] == [fake["id"]]  # the text file was never fetched
    assert not emu.calls("chat.postMessage") and not emu.uploaded_files()
    usage = await emu.post_slash_command(bot.url, "/imagine", "usage")
    await emu.wait_for(lambda: emu.responses_to(usage.response_url))
    assert "Images left today: 2 of 2" in emu.responses_to(usage.response_url)[0]["text"]


async def test_sign_in_page_instead_of_the_file_is_explained(emu: SlackEmulator, start_bot: StartBot) -> None:
    bot = await start_bot()
    f = emu.add_file("photo.png", png(), "image/png", serve_html=True)  # a token without files:read
    await emu.post_event(bot.url, emu.mention_event("brighten it", files=[f]))
    [note] = await emu.wait_for(lambda: emu.ephemerals)
    assert note["text"].startswith("I couldn't read 'photo.png': I was shown a sign-in page")
    assert note["text"].endswith("You were not charged.")
    [fetch] = emu.file_fetches
    assert fetch["authorized"] and fetch["served"] == "html"
    assert not emu.uploaded_files()

"""A streamed batch (ModelArk with "stream": true) arrives in the thread image by image: the
user sees image 1 while image 2 is being made, each image is charged as it is delivered, and
an image the host refuses is not charged."""

from __future__ import annotations

from tests.emulators.providers import ProviderEmulator
from tests.emulators.slack import SlackEmulator
from tests.slack.conftest import StartBot, controls, results


async def _start(start_bot: StartBot, providers: ProviderEmulator, **env: str):  # type: ignore[no-untyped-def]
    return await start_bot(
        SEEDBOT_PROVIDERS="ark",
        ARK_API_KEY=providers.ark.api_key,
        ARK_BASE_URL=providers.base_url("ark"),
        **env,
    )


async def test_a_streamed_batch_arrives_image_by_image(emu: SlackEmulator, start_bot: StartBot) -> None:
    async with ProviderEmulator() as providers:
        providers.ark_host.event_gap = 0.6  # between the host's events
        bot = await _start(start_bot, providers)
        mention = emu.mention_event("a lighthouse in four seasons --n 4 --model 4.5")
        await emu.post_event(bot.url, mention)
        await emu.wait_for(lambda: results(emu), 20)
        # The first image is in the thread while the host is still making the others.
        assert not providers.ark_host.stream_done
        assert len(results(emu)) < 4
        await emu.wait_for(lambda: len(results(emu)) == 4 and controls(emu), 30)
        uploads = results(emu)
    assert providers.ark_host.streams == 1  # one submission, streamed
    assert [u["thread_ts"] for u in uploads] == [mention["ts"]] * 4
    assert [u["filename"].rsplit("-", 1)[-1] for u in uploads] == ["1.jpg", "2.jpg", "3.jpg", "4.jpg"]
    [buttons] = controls(emu)  # one set of buttons for the batch, after the last image
    assert buttons["thread_ts"] == mention["ts"]
    assert "Images left today: 16." in " ".join(
        m.get("text", "") for m in emu.bot_messages(mention["channel"])
    )
    await bot.wait_log(r"job \w+: delivered 4/4 via ark")


async def test_an_image_the_host_refuses_is_not_charged(emu: SlackEmulator, start_bot: StartBot) -> None:
    async with ProviderEmulator() as providers:
        providers.ark_host.refused = {1}  # the second image of the batch
        bot = await _start(start_bot, providers)
        mention = emu.mention_event("three views of a harbour --n 3 --model 4.5")
        await emu.post_event(bot.url, mention)
        await emu.wait_for(lambda: controls(emu), 30)
        await bot.wait_log(r"job \w+: delivered 2/3 via ark")
    texts = " ".join(m.get("text", "") for m in emu.bot_messages(mention["channel"]))
    assert len(results(emu)) == 2
    assert "Images left today: 18." in texts  # 2 charged, the refused one not
    assert "2 of 3" in texts, texts

"""A job running at a provider when the bot dies is resumed by the next process and posted
into its thread (PlatformHooks), replacing the old placeholder."""

from __future__ import annotations

from tests.emulators.providers import ProviderEmulator
from tests.emulators.slack import CHANNEL_ID, SlackEmulator
from tests.slack.conftest import StartBot, wait_results


async def test_job_left_running_by_a_crash_is_delivered_after_restart(
    emu: SlackEmulator, start_bot: StartBot
) -> None:
    async with ProviderEmulator() as providers:
        env = providers.env("apiframe", SEEDBOT_POLL_INTERVAL="0.05")
        providers.apiframe.pending_polls = 1_000_000  # the task never finishes while bot 1 lives
        first = await start_bot(**env)
        mention = emu.mention_event("a slow sunrise")
        await emu.post_event(first.url, mention)
        await emu.wait_for(lambda: providers.apiframe.polls >= 2, message="apiframe polled")
        [placeholder] = emu.calls("chat.postMessage", thread_ts=mention["ts"])
        await first.kill()

        for task in providers.apiframe.tasks.values():
            task.pending = 0  # finished at the provider while no bot was running
        second = await start_bot(**env)
        [upload] = await wait_results(emu, 1)
        await second.wait_log(r"resuming 1 job")

    assert upload["thread_ts"] == mention["ts"]
    [complete] = emu.calls("files.completeUploadExternal")
    assert complete.params["initial_comment"].startswith("a slow sunrise\n")
    assert "apiframe" in complete.params["initial_comment"]
    # The placeholder the dead process left behind is gone; the buttons came with the result.
    await emu.wait_for(lambda: emu.deleted_messages, message="placeholder removed")
    assert [d["ts"] for d in emu.deleted_messages] == [placeholder.response["ts"]]
    assert emu.message(CHANNEL_ID, placeholder.response["ts"]) is None
    assert len(providers.apiframe.submits) == 1  # resumed, not submitted (and paid for) again


async def test_job_that_cannot_be_resumed_is_refunded_and_explained(
    emu: SlackEmulator, start_bot: StartBot
) -> None:
    async with ProviderEmulator() as providers:
        env = {"NOVITA_API_KEY": providers.novita.api_key, "NOVITA_BASE_URL": providers.base_url("novita")}
        providers.novita.latency = 2.0  # a synchronous call still in flight when the bot dies
        first = await start_bot(SEEDBOT_DAILY_IMAGES="3", **env)
        mention = emu.mention_event("an interrupted picture")
        await emu.post_event(first.url, mention)
        await emu.wait_for(lambda: providers.novita.submissions >= 1, message="novita called")
        [placeholder] = emu.calls("chat.postMessage", thread_ts=mention["ts"])
        await first.kill()

        second = await start_bot(SEEDBOT_DAILY_IMAGES="3", **env)
        ts = placeholder.response["ts"]
        await emu.wait_for_call(
            "chat.update",
            ts=ts,
            text=(
                "seedbot restarted while this job was running and could not finish it. You were not charged."
            ),
        )
        usage = await emu.post_slash_command(second.url, "/imagine", "usage")
        await emu.wait_for(lambda: emu.responses_to(usage.response_url))

    assert "Images left today: 3 of 3" in emu.responses_to(usage.response_url)[0]["text"]
    assert not emu.uploaded_files()

"""A shutdown that cuts jobs short: the user is told whether the job resumes after the restart
(a provider task still running, checkpointed by the engine) or was refunded."""

from __future__ import annotations

from bot import messages
from bot.request.models import JobStatus
from tests.discord.conftest import StartBot, eventually, text
from tests.emulators.discord import DiscordEmulator
from tests.emulators.providers import ProviderEmulator


async def test_a_resumable_job_says_it_will_be_posted_later(
    emu: DiscordEmulator, start_bot: StartBot
) -> None:
    async with ProviderEmulator() as providers:
        providers.apiframe.pending_polls = 1_000_000
        bot = await start_bot(**providers.settings_kwargs("apiframe"))
        inter = await emu.send_slash_command("imagine", {"prompt": "a long exposure"})
        assert await inter.wait_ack() == 5
        await eventually(lambda: providers.apiframe.polls >= 2)
        await bot.runtime.engine.shutdown(0.05)  # type: ignore[attr-defined]
        await bot.wait_idle()
    assert inter.original is not None
    assert text(inter.original) == messages.RESUMES_AFTER_RESTART
    [job] = await bot.jobs()
    assert job.status == JobStatus.RUNNING  # left for the next process to resume


async def test_a_job_that_cannot_resume_is_refunded_and_said_so(
    emu: DiscordEmulator, start_bot: StartBot
) -> None:
    async with ProviderEmulator() as providers:
        providers.novita.latency = 1.0  # a synchronous call: nothing to resume
        bot = await start_bot(**providers.settings_kwargs("novita"))
        inter = await emu.send_slash_command("imagine", {"prompt": "a quick sketch"})
        assert await inter.wait_ack() == 5
        await eventually(lambda: providers.novita.submissions == 1)
        await bot.runtime.engine.shutdown(0.05)  # type: ignore[attr-defined]
        await bot.wait_idle()
    [answer] = await inter.wait_followups(1)
    assert text(answer) == messages.SHUTTING_DOWN and answer["flags"] & 64
    [job] = await bot.jobs()
    assert job.status == JobStatus.FAILED
    assert (await bot.usage()).day_used == 0

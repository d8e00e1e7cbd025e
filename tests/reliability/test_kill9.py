"""kill -9 with 50 jobs in flight: `python -m bot run --slack` as a process, SIGKILLed while
25 jobs poll Apiframe (a resumable task) and 25 wait on Novita's synchronous answer, then
started again on the same database.

Routing is by request, not by configuration: SEEDBOT_PROVIDERS="apiframe,novita", so a plain
prompt goes to Apiframe, and `--model 4.5` (which Apiframe does not serve) goes to Novita.
After the restart the Apiframe jobs must be resumed and delivered into their threads without
a second submission (counted at the emulator), the Novita jobs refunded with their placeholder
replaced by messages.RESTARTED_REFUNDED, and the ledger must balance: no open reservation,
charged = delivered.
"""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot import messages
from tests import botproc
from tests.botproc import BotGroup, BotProcess
from tests.emulators.providers import ProviderEmulator, ProviderState
from tests.emulators.slack import CHANNEL_ID, SlackEmulator
from tests.slack.conftest import results

PER_PROVIDER = 25
USERS = ("U1", "U2", "U3", "U4", "U5")


class HeldProviders(ProviderEmulator):
    """Novita's synchronous answer is held until `release` is set (instead of a long `latency`
    sleep that would keep the emulator's shutdown waiting on orphaned handlers)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    async def _before_submit(self, state: ProviderState, request: web.Request) -> Any:
        rec = await super()._before_submit(state, request)
        if state is self.novita:
            await self.release.wait()
        return rec


def _db(path: Path, sql: str) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


async def query(path: Path, sql: str) -> list[tuple[Any, ...]]:
    return await asyncio.to_thread(_db, path, sql)


@asynccontextmanager
async def held_world(users: tuple[str, ...]) -> AsyncIterator[tuple[SlackEmulator, HeldProviders]]:
    """The Slack emulator (with `users`) and the providers, Novita held until released."""
    token, signing = "xoxb-" + secrets.token_hex(8), "sig" + secrets.token_hex(8)
    providers = HeldProviders()
    async with providers, SlackEmulator(bot_token=token, signing_secret=signing) as slack:
        for i, user in enumerate(users[1:], start=2):
            slack.add_user(user, f"user{i}")
        try:
            yield slack, providers
        finally:
            providers.release.set()


@pytest.fixture
async def world() -> AsyncIterator[tuple[SlackEmulator, HeldProviders]]:
    async with held_world(USERS) as both:
        yield both


# Jobs of the burst that are in flight: Novita's waiting on the call, Apiframe's with a task id.
IN_FLIGHT_SQL = (
    "SELECT provider, COUNT(*) AS n FROM jobs WHERE status = 'running' AND message_id IS NOT NULL "
    "AND (provider = 'novita' OR provider_task_id IS NOT NULL) GROUP BY provider"
)


async def mixed_burst(
    slack: SlackEmulator, url: str, label: str, per_provider: int, users: tuple[str, ...]
) -> tuple[dict[str, str], dict[str, str]]:
    """2 x `per_provider` mentions at once, alternating a plain prompt (Apiframe: a task that is
    polled) and `--model 4.5` (Novita: one synchronous call). The threads (ts -> prompt) of each."""
    polling: dict[str, str] = {}
    sync: dict[str, str] = {}
    events = []
    for i in range(per_provider * 2):
        to_novita = i % 2 == 1
        prompt = f"{label} {i}" + (" --model 4.5" if to_novita else "")
        event = slack.mention_event(prompt, user=users[i % len(users)])
        (sync if to_novita else polling)[event["ts"]] = prompt
        events.append(event)
    answers = await asyncio.gather(*(slack.post_event(url, e) for e in events))
    assert all(a.status == 200 for a in answers)
    return polling, sync


def placeholders_of(slack: SlackEmulator) -> dict[str, str]:
    """Thread ts -> ts of the placeholder the bot posted into it."""
    return {c.params["thread_ts"]: c.response["ts"] for c in slack.calls("chat.postMessage") if c.response}


def delivered_and_refunded(
    slack: SlackEmulator, placeholders: dict[str, str], sync: dict[str, str], n: int
) -> bool:
    """`n` results uploaded, and `n` of the synchronous jobs' placeholders turned into the
    restart refund note."""
    restarted = messages.with_charge_note(messages.RESTARTED_REFUNDED)
    theirs = {placeholders[t] for t in sync}
    notes = [c for c in slack.calls("chat.update", text=restarted) if c.params["ts"] in theirs]
    return len(results(slack)) >= n and len(notes) >= n


def bot_env(slack: SlackEmulator, providers: ProviderEmulator, db: Path | str) -> dict[str, str]:
    return botproc.bot_env(
        db,
        SLACK_API_URL=slack.api_url,
        SLACK_BOT_TOKEN=slack.bot_token,
        SLACK_SIGNING_SECRET=slack.signing_secret,
        SLACK_PORT="0",
        SEEDBOT_PROVIDERS="apiframe,novita",
        APIFRAME_API_KEY=providers.apiframe.api_key,
        APIFRAME_BASE_URL=providers.base_url("apiframe"),
        NOVITA_API_KEY=providers.novita.api_key,
        NOVITA_BASE_URL=providers.base_url("novita"),
        SEEDBOT_POLL_INTERVAL="0.05",
        SEEDBOT_MAX_CONCURRENCY="100",
        SEEDBOT_USER_CONCURRENCY="100",
        SEEDBOT_DAILY_IMAGES="1000",
        SEEDBOT_MONTHLY_IMAGES="10000",
    )


async def test_kill9_with_50_jobs_in_flight(
    world: tuple[SlackEmulator, HeldProviders], tmp_path: Path
) -> None:
    slack, providers = world
    db = tmp_path / "seedbot.db"
    env = bot_env(slack, providers, db)
    providers.apiframe.pending_polls = 1_000_000  # never finishes while the first bot lives
    bots = BotGroup()
    failed = True
    try:
        first = await bots.run(BotProcess(env, tmp_path))
        polling, sync = await mixed_burst(slack, first.url, "crash test", PER_PROVIDER, USERS)

        async def all_in_flight() -> bool:
            if providers.apiframe.submissions < PER_PROVIDER or providers.novita.submissions < PER_PROVIDER:
                return False
            rows = await query(db, IN_FLIGHT_SQL)
            return dict(rows) == {"apiframe": PER_PROVIDER, "novita": PER_PROVIDER}

        await slack.wait_for(all_in_flight, 30, message="50 jobs in flight")
        placeholders = placeholders_of(slack)
        assert set(placeholders) == set(polling) | set(sync)
        in_flight = await query(db, "SELECT COUNT(*) FROM jobs WHERE status = 'running'")
        await first.kill()

        # While no bot runs: the Apiframe tasks finish, Novita's held calls answer into nothing.
        for task in providers.apiframe.tasks.values():
            task.pending = 0
        providers.release.set()

        second = await bots.run(BotProcess(env, tmp_path))
        await second.wait_log(r"resuming 25 job")
        await slack.wait_for(
            lambda: delivered_and_refunded(slack, placeholders, sync, PER_PROVIDER),
            30,
            message="25 results and 25 refund notes",
        )
        restarted = messages.with_charge_note(messages.RESTARTED_REFUNDED)

        async def closed() -> bool:
            rows = await query(db, "SELECT COUNT(*) FROM jobs WHERE status IN ('queued', 'running')")
            return bool(rows[0][0] == 0)

        await slack.wait_for(closed, 10, message="every job closed in the ledger")
        await second.stop()

        uploads = results(slack)
        delivered_threads = [u["thread_ts"] for u in uploads]
        assert sorted(delivered_threads) == sorted(polling), "each polling job delivered once, in its thread"
        for upload in slack.calls("files.completeUploadExternal"):
            thread = upload.params["thread_ts"]
            assert upload.params["initial_comment"].startswith(polling[thread] + "\n")
        deleted = {d["ts"] for d in slack.deleted_messages}
        assert {placeholders[t] for t in polling} <= deleted, "the dead process's placeholders removed"
        for thread in sync:
            message = slack.message(CHANNEL_ID, placeholders[thread])
            assert message is not None and message["text"] == restarted

        # No second submission: the resumed jobs only polled.
        assert providers.apiframe.submissions == PER_PROVIDER
        assert providers.novita.submissions == PER_PROVIDER
        assert len(providers.apiframe.tasks) == PER_PROVIDER

        by_status = dict(
            await query(
                db,
                "SELECT provider || ':' || status || ':' || COALESCE(error_kind, ''), COUNT(*) FROM jobs GROUP BY 1",
            )
        )
        assert by_status == {"apiframe:succeeded:": PER_PROVIDER, "novita:failed:restart": PER_PROVIDER}
        [(open_reservations,)] = await query(db, "SELECT COUNT(*) FROM reservations WHERE state = 'reserved'")
        [(reserved, charged)] = await query(db, "SELECT SUM(amount), SUM(used) FROM reservations")
        [(delivered,)] = await query(db, "SELECT SUM(images_delivered) FROM jobs")
        assert open_reservations == 0
        assert charged == delivered == PER_PROVIDER
        [(usage_day,)] = await query(
            db,
            "SELECT COALESCE(SUM(used), 0) FROM quota_usage WHERE period LIKE 'd:%' AND user_key LIKE 'slack:%'",
        )
        assert usage_day == charged, "quota usage counts exactly what was delivered"
        refunded = reserved - charged
        print(
            f"\nkill -9: jobs in flight {in_flight[0][0]} ({PER_PROVIDER} polling Apiframe, "
            f"{PER_PROVIDER} synchronous Novita, {len(USERS)} users); resumed {PER_PROVIDER}, "
            f"delivered {len(uploads)}, refunded and told {len(sync)} ({refunded} images); "
            f"second submissions {providers.apiframe.submissions + providers.novita.submissions - 2 * PER_PROVIDER}; "
            f"reserved {reserved} = charged {charged} + refunded {refunded}, open reservations {open_reservations}"
        )
        failed = False
    finally:
        await bots.close(print_logs=failed, max_chars=20000)

"""The community core (bot/conversation/community.py) through the real Engine on SQLite: weighted quotas,
server pools held and refunded with the user's quota, channel allow-lists and batch limits
refused for free, settings defaults, history and lineage, admin changes and their audit rows,
stats."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot import i18n, messages
from bot.config import MAX_LIMIT
from bot.conversation.community import MAX_GRANT
from bot.errors import InvalidRequest, ProviderErrorKind, QuotaExceeded
from bot.request.models import GenerationRequest, Job, JobKind, JobStatus, Requester
from tests.engine.helpers import Deliverer, TestProvider, open_engine, provider_error, settings

GUILD = "g1"
ALICE = Requester(platform="discord", user_id="1", workspace_id=GUILD, channel_id="c1")
BOB = Requester(platform="discord", user_id="2", workspace_id=GUILD, channel_id="c1")
WS = f"discord:{GUILD}"


def fox(**kw: object) -> GenerationRequest:
    kw.setdefault("prompt", "a red fox in the snow")
    return GenerationRequest(**kw)  # type: ignore[arg-type]


async def test_a_4k_image_counts_as_its_weight_everywhere(tmp_path: Path) -> None:
    config = settings(tmp_path, resolution_weights="4K=2", daily_images=5)
    h = await open_engine(config, TestProvider(config, images=1))
    try:
        result, _ = await h.engine.generate(fox(model="4.5", resolution="4K"), ALICE, deliver=Deliverer())
        assert (result.charged, result.weight) == (2, 2)
        assert (await h.ledger.quota(ALICE.key)).day_used == 2
        [job] = await h.ledger.jobs_for_user(ALICE.key)
        assert (job.request["tier"], job.request["weight"]) == ("4K", 2)
        # 3 left: two more 4K images (4 units) are refused, saying what the request counts.
        with pytest.raises(QuotaExceeded) as refused:
            await h.engine.generate(fox(model="4.5", resolution="4K", count=2), ALICE, deliver=Deliverer())
        assert refused.value.user_text.startswith(
            "This request counts as 4 images (2 images at a resolution that counts 2 each), "
            "but only 3 are left of your daily limit (5 images). Ask for at most 1 at this resolution"
        )
        text = await h.conversation.usage(ALICE)
        assert "Images left today: 3 of 5" in text
        assert "a 4K image counts as 2" in text
        # A 2K image still counts 1.
        await h.engine.generate(fox(), ALICE, deliver=Deliverer())
        assert (await h.ledger.quota(ALICE.key)).day_used == 3
    finally:
        await h.close()


async def test_partial_batch_refunds_in_weighted_units(tmp_path: Path) -> None:
    config = settings(tmp_path, resolution_weights="4K=2")
    h = await open_engine(config, TestProvider(config, images=1))
    try:
        deliver = Deliverer()
        result, _ = await h.engine.generate(
            fox(model="4.5", resolution="4K", count=3), ALICE, deliver=deliver
        )
        assert result.charged == 2 and result.missing == 2
        assert (await h.ledger.quota(ALICE.key)).day_used == 2
        assert await h.ledger.open_reservations() == 0
        assert "(2 of your quota)" in messages.partial_delivery(1, 3, 2)
    finally:
        await h.close()


async def test_the_server_pool_runs_out_before_the_users_own_limit(tmp_path: Path) -> None:
    config = settings(tmp_path, daily_images=10)
    h = await open_engine(config, TestProvider(config))
    try:
        await h.community.settings_set("admin", WS, "pool", "3")
        await h.engine.generate(fox(count=2), ALICE, deliver=Deliverer())
        await h.engine.generate(fox(), BOB, deliver=Deliverer())
        # The words come from where it is asked: a surface that calls the community a server.
        with pytest.raises(QuotaExceeded) as refused, i18n.use_place("server"):
            await h.engine.generate(fox(), ALICE, deliver=Deliverer())
        assert refused.value.scope == "pool"
        assert refused.value.user_text.startswith(
            "This server's shared pool for today (3 images) is used up; it resets at "
        )
        assert (await h.ledger.quota(ALICE.key)).day_used == 2  # nothing charged for the refusal
        assert "Shared images left here today: 0 of 3" in await h.conversation.usage(BOB)
        # Another server's pool is separate; a DM has none.
        other = Requester(platform="discord", user_id="1", workspace_id="g2", channel_id="c9")
        await h.engine.generate(fox(), other, deliver=Deliverer())
    finally:
        await h.close()


async def test_a_failed_job_refunds_the_pool_with_the_user(tmp_path: Path) -> None:
    config = settings(tmp_path)
    h = await open_engine(config, TestProvider(config, error=provider_error(ProviderErrorKind.TIMEOUT)))
    try:
        await h.community.settings_set("admin", WS, "pool", "5")
        with pytest.raises(Exception):  # noqa: B017
            await h.engine.generate(fox(count=2), ALICE, deliver=Deliverer())
        assert await h.ledger.pool_used(f"pool:{WS}") == 0
        assert (await h.ledger.quota(ALICE.key)).day_used == 0
    finally:
        await h.close()


async def test_channel_allow_list_and_batch_limit_are_refused_for_free(tmp_path: Path) -> None:
    config = settings(tmp_path)
    provider = TestProvider(config)
    h = await open_engine(config, provider)
    try:
        await h.community.settings_set("admin", WS, "channels", "<#c2>")
        await h.community.settings_set("admin", WS, "max_batch", "2")
        with pytest.raises(Exception) as refused:
            await h.engine.generate(fox(), ALICE, deliver=Deliverer())
        assert getattr(refused.value, "user_text", "") == messages.CHANNEL_NOT_ALLOWED
        in_c2 = Requester(platform="discord", user_id="1", workspace_id=GUILD, channel_id="c2")
        with pytest.raises(InvalidRequest, match="at most 2 images"):
            await h.engine.generate(fox(count=3), in_c2, deliver=Deliverer())
        # A direct conversation with the bot is not a channel of the workspace: allowed.
        direct = Requester(platform="discord", user_id="2", workspace_id=GUILD, channel_id="d1", direct=True)
        await h.engine.generate(fox(), direct, deliver=Deliverer())
        # A thread of an allowed channel is allowed.
        thread = Requester(
            platform="discord", user_id="1", workspace_id=GUILD, channel_id="t1", parent_channel_id="c2"
        )
        await h.engine.generate(fox(count=2), thread, deliver=Deliverer())
        assert (await h.ledger.quota(ALICE.key)).day_used == 2
        assert len(await h.ledger.jobs_for_user(ALICE.key)) == 1
        assert len(await h.ledger.jobs_for_user(direct.key)) == 1
    finally:
        await h.close()


async def test_server_defaults_apply_unless_flags_say_otherwise(tmp_path: Path) -> None:
    config = settings(tmp_path)
    h = await open_engine(config, TestProvider(config))
    try:
        community = h.community
        await community.settings_set("admin", WS, "model", "4.5")
        await community.settings_set("admin", WS, "format", "png")
        await community.settings_set("admin", WS, "resolution", "4K")
        # Fitted to the model the request is made with: 4.5 returns JPEG only, so png is left
        # out (it refused every plain request); 5.0 lite has no 4K, so a 5.0 lite request keeps
        # its own 2K and takes the png.
        assert await h.engine.defaults_for(ALICE) == {"model": "4.5", "resolution": "4K"}
        policy = await h.engine.workspaces.policy_for(ALICE)
        lite = h.engine.workspaces.defaults(policy, "5.0-lite")
        assert lite == {"model": "4.5", "output_format": "png"}
        assert await h.engine.defaults_for(Requester(platform="discord", user_id="1")) == {
            "model": config.model
        }
        shown = await community.settings_show(WS)
        assert "model: 4.5" in shown and "channels: everywhere" in shown and "pool: no limit" in shown
        await community.settings_set("admin", WS, "model", "none")
        assert "model: default" in await community.settings_show(WS)
    finally:
        await h.close()


async def test_history_and_lineage(tmp_path: Path) -> None:
    config = settings(tmp_path)
    h = await open_engine(config, TestProvider(config, images=2))
    try:
        first, _ = await h.engine.generate(fox(count=2), ALICE, deliver=Deliverer(message_ids=("m1",)))
        outputs = await h.ledger.job_outputs(first.job_id)
        second, _ = await h.engine.generate(
            fox(prompt="at night", images=(outputs[0],)),
            ALICE,
            deliver=Deliverer(message_ids=("m2",)),
            kind=JobKind.EDIT,
            parent_id=first.job_id,
        )

        async def link(job: Job) -> str:
            return f"<link {job.id}>"

        text = await h.community.history(ALICE, link)
        lines = text.splitlines()
        assert lines[0] == "Your last jobs, newest first:"
        assert lines[1].startswith("1. ") and "at night" in lines[1] and f"<link {second.job_id}>" in lines[1]
        assert "a red fox in the snow" in lines[2] and "2 images" in lines[2] and "succeeded" in lines[2]
        assert await h.community.history(BOB, link) == messages.NO_HISTORY

        job = await h.ledger.get_job(second.job_id)
        assert job is not None and job.status == JobStatus.SUCCEEDED
        info = await h.community.lineage(job)
        assert f"image 1: a result of job {first.job_id}" in info
        assert f"Made from: job {first.job_id}" in info
        assert "Provider: scripted" in info and "Images charged: 1" in info
    finally:
        await h.close()


async def test_two_admins_changing_two_settings_at_once_keep_both(tmp_path: Path) -> None:
    """Each read the whole settings and wrote them back: `buttons owner` was lost beside
    `max_batch 2`, though its admin was told it was made, and it was audited."""
    config = settings(tmp_path)
    h = await open_engine(config, TestProvider(config))
    try:
        c = h.community
        await asyncio.gather(
            c.settings_set("discord:1", "discord:g1", "buttons", "owner"),
            c.settings_set("discord:2", "discord:g1", "max_batch", "2"),
            c.settings_set("discord:3", "discord:g1", "pool", "9"),
        )
        assert await h.ledger.workspace_settings("discord:g1") == {
            "buttons": "owner",
            "max_batch": 2,
            "pool": 9,
        }
    finally:
        await h.close()


async def test_two_admins_setting_one_limit_each_keep_both(tmp_path: Path) -> None:
    """Each read both limits and wrote both back: the second undid the first (and a limit set
    once pinned the other at the bot's default, which a later change of it no longer reached)."""
    config = settings(tmp_path, daily_images=20, monthly_images=300)
    h = await open_engine(config, TestProvider(config))
    try:
        c = h.community
        await asyncio.gather(
            c.quota_set("cli:ann", ALICE.key, daily=5, monthly=None),
            c.quota_set("cli:bob", ALICE.key, daily=None, monthly=50),
        )
        status = await h.ledger.quota(ALICE.key)
        assert (status.day_limit, status.month_limit) == (5, 50)
        row = await h.ledger.quota("discord:someone-else")
        assert (row.day_limit, row.month_limit) == (20, 300)
    finally:
        await h.close()


async def test_admin_changes_are_audited(tmp_path: Path) -> None:
    config = settings(tmp_path, daily_images=2)
    h = await open_engine(config, TestProvider(config))
    try:
        c = h.community
        await c.quota_set("discord:9", ALICE.key, daily=1, monthly=None)
        await c.quota_grant("discord:9", ALICE.key, 3)
        assert "Images left today: 4 of 4" in await c.quota_show(ALICE.key)
        assert "including 3 extra granted for today" in await c.quota_show(ALICE.key)
        await h.engine.generate(fox(count=4), ALICE, deliver=Deliverer())
        await c.quota_reset("discord:9", ALICE.key)
        await c.quota_block("discord:9", ALICE.key, True)
        assert "(blocked)" in await c.quota_show(ALICE.key)
        await c.quota_block("discord:9", ALICE.key, False)
        await c.settings_set("discord:9", WS, "pool", "10")
        entries = await h.ledger.audit_entries()
        assert [(e.action, e.target, e.actor) for e in reversed(entries)] == [
            ("quota.set", ALICE.key, "discord:9"),
            ("quota.grant", ALICE.key, "discord:9"),
            ("quota.reset", ALICE.key, "discord:9"),
            ("quota.block", ALICE.key, "discord:9"),
            ("quota.unblock", ALICE.key, "discord:9"),
            ("settings.set", WS, "discord:9"),
        ]
        assert entries[-1].detail == "daily=1 monthly=300" and entries[0].detail == "pool=10"
        assert all(e.at for e in entries)
        with pytest.raises(InvalidRequest):
            await c.quota_grant("discord:9", ALICE.key, 0)
    finally:
        await h.close()


async def test_limits_and_grants_out_of_range_are_refused_on_every_surface(tmp_path: Path) -> None:
    """The core's range, whatever the surface let through (the shell takes any integer; Slack any
    digits): a negative limit, or one past what SQLite's integers hold, is a sentence, not a crash."""
    config = settings(tmp_path, daily_images=2)
    h = await open_engine(config, TestProvider(config))
    try:
        c = h.community
        refusals = [
            (c.quota_set("cli:root", ALICE.key, daily=-1, monthly=None), "'-1' doesn't work for daily"),
            (
                c.quota_set("cli:root", ALICE.key, daily=None, monthly=10**20),
                "for monthly: a number from 0 to",
            ),
            (
                c.quota_grant("cli:root", ALICE.key, MAX_GRANT + 1),
                f"for grant: a number from 1 to {MAX_GRANT}",
            ),
            (c.quota_grant("cli:root", ALICE.key, 10**20), "doesn't work for grant"),
        ]
        for call, says in refusals:
            with pytest.raises(InvalidRequest) as refused:
                await call
            assert says in refused.value.user_text
        assert await h.ledger.audit_entries() == []  # nothing changed, nothing recorded
        assert "Images left today: 2 of 2" in await c.quota_show(ALICE.key)
        # The edges are taken: 0 stops a user, MAX_LIMIT and MAX_GRANT are allowed.
        await c.quota_set("cli:root", ALICE.key, daily=0, monthly=MAX_LIMIT)
        await c.quota_grant("cli:root", ALICE.key, MAX_GRANT)
        assert f"Images left today: {MAX_GRANT} of {MAX_GRANT}" in await c.quota_show(ALICE.key)
    finally:
        await h.close()


async def test_stats_by_user_provider_and_failure_kind(tmp_path: Path) -> None:
    config = settings(tmp_path)
    ok = TestProvider(config, images=2)
    h = await open_engine(config, ok)
    try:
        await h.engine.generate(fox(count=2), ALICE, deliver=Deliverer())
        await h.engine.generate(fox(), BOB, deliver=Deliverer())
        with pytest.raises(Exception):  # noqa: B017
            await h.engine.generate(fox(), BOB, deliver=Deliverer(fail=RuntimeError("gone")))
        text = await h.community.stats(WS)
        assert "Today: 3 jobs, 3 images" in text
        assert f"  {ALICE.key}: 1 job, 2 images" in text
        assert f"  {BOB.key}: 2 jobs, 1 image" in text
        assert "  scripted: 3 jobs, 3 images" in text
        assert "  could not be posted: 1" in text and "DeliveryError" not in text
        assert "Today: 0 jobs" in await h.community.stats("slack:T1")
        assert "Stats for every workspace" in await h.community.stats(None)
    finally:
        await h.close()

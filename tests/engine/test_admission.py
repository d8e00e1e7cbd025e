"""A workspace's rules at admission (bot/engine/admission.py): what a request costs under
SEEDBOT_RESOLUTION_WEIGHTS, the settings read from the ledger for the requester's workspace,
the defaults fitted to the model, the shared pool, and the refusals made before any charge."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot import i18n
from bot.engine.admission import Workspaces
from bot.errors import ChannelNotAllowed, InvalidRequest
from bot.ledger import Ledger, open_ledger
from bot.ledger.base import Pool
from bot.request.models import Requester
from bot.request.validation import validate
from bot.request.workspace import WorkspacePolicy
from tests.engine.helpers import ALICE, fox, open_engine, settings

WS = "discord:g1"  # ALICE's server


@pytest.fixture
async def ledger(tmp_path: Path) -> AsyncIterator[Ledger]:
    store = await open_ledger(settings(tmp_path))
    try:
        yield store
    finally:
        await store.close()


def workspaces(tmp_path: Path, ledger: Ledger, **overrides: object) -> Workspaces:
    return Workspaces(settings(tmp_path, **overrides), ledger)


async def test_an_image_weighs_what_its_tier_is_set_to(tmp_path: Path, ledger: Ledger) -> None:
    rules = workspaces(tmp_path, ledger, resolution_weights="3K=2,4K=3")
    assert rules.weight(validate(fox(model="4.5", resolution="4K", count=2))) == 3
    assert rules.weight(validate(fox(resolution="3K", count=5))) == 2
    assert rules.weight(validate(fox(count=4))) == 1  # a tier the setting does not name counts 1


async def test_an_explicit_size_weighs_what_its_nearest_tier_does(tmp_path: Path, ledger: Ledger) -> None:
    rules = workspaces(tmp_path, ledger, resolution_weights="4K=3")
    assert rules.weight(validate(fox(model="4.5", width=4096, height=4096, count=2))) == 3
    assert rules.weight(validate(fox(width=2048, height=2048, count=2))) == 1


async def test_the_policy_is_the_requesters_workspace_settings_from_the_ledger(
    tmp_path: Path, ledger: Ledger
) -> None:
    await ledger.set_workspace_settings(WS, {"model": "4.5", "channels": ["c1", "c2"], "pool": 10})
    rules = workspaces(tmp_path, ledger)
    policy = await rules.policy_for(ALICE)
    assert policy == WorkspacePolicy(model="4.5", channels=("c1", "c2"), pool=10)
    assert await rules.policy(WS) == policy


async def test_no_workspace_or_a_guest_gets_the_bot_wide_policy(tmp_path: Path, ledger: Ledger) -> None:
    """A guest brought the bot along themselves: the server's rules are not theirs to follow."""
    await ledger.set_workspace_settings(WS, {"model": "4.5", "max_batch": 2})
    rules = workspaces(tmp_path, ledger)
    guest = Requester(platform="discord", user_id="1", workspace_id="g1", channel_id="c1", guest=True)
    alone = Requester(platform="discord", user_id="1", channel_id="dm1", direct=True)
    assert await rules.policy_for(guest) == WorkspacePolicy()
    assert await rules.policy_for(alone) == WorkspacePolicy()
    assert await rules.policy(None) == WorkspacePolicy()
    assert await rules.policy("") == WorkspacePolicy()


async def test_a_workspace_is_told_apart_by_its_platform_too(tmp_path: Path, ledger: Ledger) -> None:
    await ledger.set_workspace_settings(WS, {"max_batch": 2})
    rules = workspaces(tmp_path, ledger)
    same_id_on_slack = Requester(platform="slack", user_id="g1:U1", workspace_id="g1", channel_id="C1")
    assert await rules.policy_for(same_id_on_slack) == WorkspacePolicy()
    assert (await rules.policy_for(ALICE)).max_batch == 2


async def test_defaults_start_from_the_bots_model_and_the_servers_model_wins(
    tmp_path: Path, ledger: Ledger
) -> None:
    rules = workspaces(tmp_path, ledger, model="4.5")
    assert rules.defaults(WorkspacePolicy()) == {"model": "4.5"}
    assert rules.defaults(WorkspacePolicy(model="5.0-lite", watermark=True)) == {
        "model": "5.0-lite",
        "watermark": True,
    }
    await ledger.set_workspace_settings(WS, {"model": "5.0-lite"})
    assert await rules.defaults_for(ALICE) == {"model": "5.0-lite"}
    assert await rules.defaults_for(Requester(platform="discord", user_id="1")) == {"model": "4.5"}


async def test_defaults_are_fitted_to_the_model_the_request_will_be_made_with(
    tmp_path: Path, ledger: Ledger
) -> None:
    """A server default the model can't make would refuse every plain request: it is left out."""
    four_k_png = WorkspacePolicy(resolution="4K", format="png")
    # The bot's model (5.0 lite) has no 4K but makes PNG.
    lite_bot = workspaces(tmp_path, ledger)
    assert lite_bot.defaults(four_k_png) == {"model": "5.0-lite", "output_format": "png"}
    # The bot's model (4.5) makes 4K but only JPEG.
    assert workspaces(tmp_path, ledger, model="4.5").defaults(four_k_png) == {
        "model": "4.5",
        "resolution": "4K",
    }
    # The server's model before the bot's, and the one the person chose before both.
    server_45 = WorkspacePolicy(model="4.5", resolution="4K", format="png")
    assert lite_bot.defaults(server_45) == {"model": "4.5", "resolution": "4K"}
    assert lite_bot.defaults(server_45, "5.0-lite") == {"model": "4.5", "output_format": "png"}


async def test_the_pool_is_the_workspaces_when_it_sets_one(tmp_path: Path, ledger: Ledger) -> None:
    rules = workspaces(tmp_path, ledger)
    assert rules.pool_for(ALICE, WorkspacePolicy(pool=10)) == Pool("pool:discord:g1", 10)
    # 0 is a pool nothing gets through, not "no pool".
    assert rules.pool_for(ALICE, WorkspacePolicy(pool=0)) == Pool("pool:discord:g1", 0)
    assert rules.pool_for(ALICE, WorkspacePolicy()) is None


async def test_no_workspace_or_a_guest_draws_on_no_pool(tmp_path: Path, ledger: Ledger) -> None:
    rules = workspaces(tmp_path, ledger)
    guest = Requester(platform="discord", user_id="1", workspace_id="g1", channel_id="c1", guest=True)
    alone = Requester(platform="discord", user_id="1", channel_id="dm1")
    assert rules.pool_for(guest, WorkspacePolicy(pool=10)) is None
    assert rules.pool_for(alone, WorkspacePolicy(pool=10)) is None


async def test_a_channel_the_server_did_not_allow_is_refused() -> None:
    policy = WorkspacePolicy(channels=("c2",))
    with pytest.raises(ChannelNotAllowed) as refused:
        Workspaces.enter(ALICE, policy)
    assert refused.value.user_text == (
        "seedbot isn't enabled in this channel: an admin has limited it to other channels. "
        "You were not charged."
    )
    Workspaces.enter(Requester(platform="discord", user_id="1", workspace_id="g1", channel_id="c2"), policy)


async def test_a_batch_past_the_servers_limit_is_refused_and_its_limit_is_not() -> None:
    policy = WorkspacePolicy(max_batch=2)
    Workspaces.admit(policy, validate(fox(count=2)))
    with pytest.raises(InvalidRequest) as refused, i18n.use_place("server"):
        Workspaces.admit(policy, validate(fox(count=3)))
    assert refused.value.user_text == (
        "This server allows at most 2 images per request, not 3. You were not charged."
    )
    Workspaces.admit(WorkspacePolicy(), validate(fox(count=15)))  # no limit set


async def test_the_engine_checks_the_channel_before_the_request(tmp_path: Path) -> None:
    """Someone in a channel the bot is not for hears that, not that their batch is too large or
    their size out of range; the refusal is free and the channel's rules are checked once."""
    h = await open_engine(settings(tmp_path))
    try:
        await h.ledger.set_workspace_settings(WS, {"channels": ["c2"], "max_batch": 1})
        for request in (fox(count=3), fox(resolution="9K")):
            with pytest.raises(ChannelNotAllowed):
                await h.engine.admit(request, ALICE)
        assert await h.ledger.jobs_for_user(ALICE.key) == []
    finally:
        await h.close()

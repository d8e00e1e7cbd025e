"""bot/conversation/policy.py: who may do what, decided once for every surface. The scenarios on
each surface are in test_every_surface.py; these are the rules themselves, person by person."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot import messages
from bot.config import Settings
from bot.conversation.policy import Policy
from bot.errors import InvalidRequest, NotAdmin
from bot.ledger.base import QuotaStatus
from bot.request.models import Job, JobStatus, Requester

POLICY = Policy(Settings(_env_file=None, SEEDBOT_ADMINS="discord:9"))

OWNER = Requester("discord", "1", workspace_id="G1", channel_id="C1")
STRANGER = Requester("discord", "2", workspace_id="G1", channel_id="C1")
MANAGER = Requester("discord", "3", workspace_id="G1", channel_id="C1", manages_workspace=True)
OPERATOR = Requester("discord", "9", workspace_id="G2", channel_id="C7")  # SEEDBOT_ADMINS


def _job(user_key: str = OWNER.key, platform: str = "discord") -> Job:
    return Job("j1", user_key, platform, JobStatus.SUCCEEDED, "generate", "a fox", "5.0-lite", {})


def test_a_job_of_another_surface_is_not_a_result_here() -> None:
    """An id from Slack pressed on Discord is forged or stale: refused as no result, not found."""
    assert POLICY.result_here(OWNER, _job()) == _job()
    for job in (_job(platform="slack"), None):
        with pytest.raises(InvalidRequest) as refused:
            POLICY.result_here(OWNER, job)
        assert refused.value.user_text == messages.NOT_A_RESULT


@pytest.mark.parametrize("who", [OWNER, STRANGER, MANAGER, OPERATOR])
def test_anyone_who_sees_a_result_may_build_on_it_by_default(who: Requester) -> None:
    POLICY.may_build_on(who, _job(), buttons=None)
    POLICY.may_build_on(who, _job(), buttons="anyone")


def test_with_buttons_owner_only_the_maker_and_admins_may_build_on_a_result() -> None:
    for who in (OWNER, MANAGER, OPERATOR):
        POLICY.may_build_on(who, _job(), buttons="owner")
    with pytest.raises(InvalidRequest) as refused:
        POLICY.may_build_on(STRANGER, _job(), buttons="owner")
    assert refused.value.user_text == messages.NOT_OWNER


def test_only_the_maker_or_an_admin_may_delete_or_cancel() -> None:
    for who in (OWNER, MANAGER, OPERATOR):
        POLICY.may_delete(who, _job())
        POLICY.may_cancel(who, _job())
    with pytest.raises(InvalidRequest) as delete:
        POLICY.may_delete(STRANGER, _job())
    with pytest.raises(InvalidRequest) as cancel:
        POLICY.may_cancel(STRANGER, _job())
    assert (delete.value.user_text, cancel.value.user_text) == (messages.NOT_OWNER, messages.CANCEL_NOT_OWNER)


def test_admin_commands_need_an_admin_inside_a_workspace() -> None:
    POLICY.may_administer(MANAGER)
    POLICY.may_administer(OPERATOR)
    with pytest.raises(NotAdmin):
        POLICY.may_administer(STRANGER)
    # In a DM, or brought along by a user install, there is no workspace to administer.
    for outside in (
        Requester("discord", "9", channel_id="D1"),
        Requester("discord", "3", workspace_id="G1", manages_workspace=True, guest=True),
    ):
        with pytest.raises(InvalidRequest) as refused:
            POLICY.may_administer(outside)
        assert refused.value.user_text == messages.NEEDS_WORKSPACE


def test_a_servers_admin_manages_only_its_members_quotas_an_operator_anyones() -> None:
    POLICY.may_manage(MANAGER, target_is_member=True)
    POLICY.may_manage(OPERATOR, target_is_member=False)
    with pytest.raises(InvalidRequest):
        POLICY.may_manage(MANAGER, target_is_member=False)


def test_operators_are_seedbot_admins_and_managers_admins_of_their_workspace_only() -> None:
    assert POLICY.is_operator(OPERATOR) and POLICY.is_admin(OPERATOR)
    assert not POLICY.is_operator(MANAGER) and POLICY.is_admin(MANAGER)
    assert not POLICY.is_admin(STRANGER)
    # The same id on another platform is another person.
    assert not POLICY.is_operator(Requester("slack", "9"))


def test_only_operators_give_more_than_the_bots_limits() -> None:
    """A quota counts on every server: a server's admin raised their own to a million a day."""
    limits = POLICY.settings.daily_images, POLICY.settings.monthly_images
    POLICY.may_give(MANAGER, daily=limits[0], monthly=limits[1] - 1)  # lower, or back to the limits
    for change in ({"daily": limits[0] + 1}, {"monthly": limits[1] + 1}, {"extra": True}):
        with pytest.raises(InvalidRequest) as refused:
            POLICY.may_give(MANAGER, **change)  # type: ignore[arg-type]
        assert refused.value.user_text.startswith(messages.only_operators_give(*limits))
        POLICY.may_give(OPERATOR, **change)  # type: ignore[arg-type]


def _status(
    *, blocked: bool = False, daily: int = 5, granted: int = 0, by_operator: bool = True
) -> QuotaStatus:
    when = datetime(2026, 3, 15, tzinfo=UTC)
    return QuotaStatus(
        user_key="discord:1",
        unlimited=False,
        blocked=blocked,
        day_used=0,
        day_limit=daily + granted,
        month_used=0,
        month_limit=50 + granted,
        day_resets=when,
        month_resets=when,
        granted=granted,
        by_operator=by_operator,
    )


def test_an_operators_block_and_limits_are_lifted_by_operators_only() -> None:
    """An abuser an operator blocked added seedbot to a server of their own and unblocked
    themselves (a quota counts on every server)."""
    for change in ({"unblock": True}, {"daily": 6}, {"monthly": 51}):
        with pytest.raises(InvalidRequest) as refused:
            POLICY.may_lift(MANAGER, _status(blocked=True), **change)  # type: ignore[arg-type]
        assert refused.value.user_text == messages.operator_limits_stand()
        POLICY.may_lift(OPERATOR, _status(blocked=True), **change)  # type: ignore[arg-type]
        POLICY.may_lift(MANAGER, _status(blocked=True, by_operator=False), **change)  # type: ignore[arg-type]
    # Tightening is anyone's; today's grant is not part of the limit; not blocked: nothing to lift.
    POLICY.may_lift(MANAGER, _status(granted=3), daily=5, monthly=50)
    POLICY.may_lift(MANAGER, _status(), unblock=True)


def test_a_person_a_workflow_only_names_has_no_admins_powers() -> None:
    named = Requester("discord", "9", workspace_id="G2", named=True)
    assert not POLICY.is_operator(named) and not POLICY.is_admin(named)
    assert not POLICY.is_admin(
        Requester("discord", "3", workspace_id="G1", manages_workspace=True, named=True)
    )


def test_the_admin_help_says_what_only_operators_do_to_a_servers_admin() -> None:
    note = "Grant, reset and limits above the bot's are for seedbot's operators."
    assert messages.admin_help("/seedbot", ["pool"], operator=False).endswith("\n" + note)
    assert note not in messages.admin_help("/seedbot", ["pool"])

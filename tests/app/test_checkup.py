"""The doctor's report (bot/app/checkup.py): no printed line carries a secret, problems and
checks that could not be made are counted apart, and the last line says which it was."""

from __future__ import annotations

import httpx
import pytest

from bot.app.checkup import Checkup
from bot.config import Settings
from bot.logs import REDACTED

TOKEN = "xoxb-checkup-secret-token"
KEY = "sk_checkup-provider-key"


def test_every_kind_of_line_is_printed_with_the_secrets_scrubbed(capsys: pytest.CaptureFixture[str]) -> None:
    checkup = Checkup([TOKEN, KEY])
    checkup.say(f"database: postgresql://seedbot:{KEY}@db/seedbot")
    checkup.ok(f"token {TOKEN} accepted")
    checkup.problem(f"{KEY} was refused")
    checkup.not_verified(f"{TOKEN} could not be checked")
    checkup.unreachable(
        "SLACK_BOT_TOKEN", f"https://slack.example/api?token={TOKEN}", httpx.ConnectError("x")
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"database: postgresql://seedbot:{REDACTED}@db/seedbot",
        f"  ok: token {REDACTED} accepted",
        f"  ! {REDACTED} was refused",
        f"  ? {REDACTED} could not be checked",
        f"  ? could not reach https://slack.example/api?token={REDACTED} to check SLACK_BOT_TOKEN "
        "(ConnectError); not verified",
    ]


def test_the_settings_secrets_are_the_ones_scrubbed(capsys: pytest.CaptureFixture[str]) -> None:
    """doctor builds its Checkup from Settings.secrets(): every provider key given is hidden."""
    settings = Settings(_env_file=None, novita_api_key=KEY, fal_api_key="fal-key-value")  # type: ignore[call-arg]
    checkup = Checkup(settings.secrets())
    checkup.say(f"novita {KEY}, fal fal-key-value, database {settings.database}")
    out = capsys.readouterr().out
    assert KEY not in out and "fal-key-value" not in out
    assert out == f"novita {REDACTED}, fal {REDACTED}, database ./seedbot.db\n"


def test_problems_and_unverified_checks_are_counted_apart(capsys: pytest.CaptureFixture[str]) -> None:
    checkup = Checkup([])
    checkup.say("database: ./seedbot.db")
    checkup.ok("opened")
    assert (checkup.problems, checkup.unverified) == (0, 0)
    checkup.problem("DISCORD_TOKEN was refused")
    checkup.problem("SLACK_BOT_TOKEN was refused")
    checkup.not_verified("not checked")
    checkup.unreachable("FAL_KEY", "http://127.0.0.1:9", httpx.ConnectError("refused"))
    checkup.unreachable("ARK_API_KEY", "http://127.0.0.1:9", TimeoutError())
    assert (checkup.problems, checkup.unverified) == (2, 3)
    assert capsys.readouterr().out.splitlines()[-1] == (
        "  ? could not reach http://127.0.0.1:9 to check ARK_API_KEY (TimeoutError); not verified"
    )


def test_summary_is_ok_when_nothing_was_found() -> None:
    checkup = Checkup([])
    checkup.ok("opened")
    assert checkup.summary() == "ok"


@pytest.mark.parametrize(("problems", "summary"), [(1, "1 problem found"), (2, "2 problems found")])
def test_summary_counts_the_problems(problems: int, summary: str) -> None:
    checkup = Checkup([])
    for n in range(problems):
        checkup.problem(f"problem {n}")
    assert checkup.summary() == summary


@pytest.mark.parametrize(("unverified", "counted"), [(1, "1 check"), (3, "3 checks")])
def test_summary_says_unverified_checks_are_not_an_ok(unverified: int, counted: str) -> None:
    checkup = Checkup([])
    for n in range(unverified):
        checkup.not_verified(f"check {n}")
    assert checkup.summary() == (
        f"no problem found, but {counted} not verified: their service could not be reached (network?)"
    )


def test_a_problem_outweighs_unverified_checks_in_the_summary() -> None:
    checkup = Checkup([])
    checkup.not_verified("could not reach it")
    checkup.problem("refused")
    assert checkup.summary() == "1 problem found"

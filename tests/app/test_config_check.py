"""Settings that parse but the bot cannot use (bot/app/config_check.py): `seedbot run` refuses to
start on them and `doctor` lists them, each naming the variable."""

from __future__ import annotations

from pathlib import Path

from bot.app.config_check import settings_problems
from bot.app.platform import load_plugins
from bot.config import Settings
from tests.app.cli.helpers import friendly_one_liner, no_traceback, seedbot


def test_a_good_configuration_has_no_problem() -> None:
    settings = Settings(
        _env_file=None, SEEDBOT_MODEL="4.5", SEEDBOT_ADMINS="discord:1, slack:T1:U1, cli:local"
    )
    assert settings_problems(settings, load_plugins()) == []


def test_an_unknown_model_and_a_malformed_admin_are_named() -> None:
    settings = Settings(_env_file=None, SEEDBOT_MODEL="9", SEEDBOT_ADMINS="bob, discord:1")
    problems = settings_problems(settings, load_plugins())
    assert problems == [
        "SEEDBOT_MODEL: There is no model called '9'. Choose one of: 5.0-lite, 4.5.",
        "SEEDBOT_ADMINS: 'bob' is not a user: use discord:<numeric user id>, slack:<TEAM ID>:<USER ID>, "
        "web:local or cli:local",
    ]


def test_run_refuses_to_start_and_doctor_lists_them(tmp_path: Path) -> None:
    """Before, the bot started: every request was refused ("There is no model called '9'") and
    the admin had no rights; a log level logging does not know was a traceback."""
    run = seedbot(tmp_path, "run", env={"SEEDBOT_MODEL": "9"})
    assert run.returncode == 2
    assert "SEEDBOT_MODEL: There is no model called '9'" in friendly_one_liner(run)
    doctor = seedbot(tmp_path, "doctor", env={"SEEDBOT_ADMINS": "bob"})
    assert doctor.returncode == 1 and "! SEEDBOT_ADMINS: 'bob' is not a user" in doctor.stdout
    loud = seedbot(tmp_path, "run", env={"SEEDBOT_LOG_LEVEL": "LOUD"})
    assert loud.returncode == 2 and "SEEDBOT_LOG_LEVEL: Value error, use DEBUG, INFO" in loud.stderr
    no_traceback(loud)

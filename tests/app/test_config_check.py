"""Settings that parse but the bot cannot use (bot/app/config_check.py): `seedbot run` refuses to
start on them and `doctor` lists them, each naming the variable."""

from __future__ import annotations

import re
from pathlib import Path

from bot.app.config_check import ignored_settings, setting_names, settings_problems
from bot.app.platform import PlatformSettings, load_plugins
from bot.config import KNOWN_PROVIDERS, Settings, get_settings
from tests.app.cli.helpers import friendly_one_liner, no_traceback, seedbot

REPO = Path(__file__).resolve().parents[2]


def _read(env_file: str | None) -> tuple[Settings, dict[str, PlatformSettings]]:
    plugins = load_plugins()
    return get_settings(env_file=env_file), {n: p.load_settings(env_file) for n, p in plugins.items()}


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


def test_every_name_in_env_example_is_read_by_a_settings_class() -> None:
    """The check's list of names is what the classes read: .env.example, the users' reference,
    names nothing the checker would call unknown."""
    example = (REPO / ".env.example").read_text(encoding="utf-8")
    names = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", example, flags=re.MULTILINE))
    assert len(names) > 40
    settings, platform_settings = _read(None)
    known = setting_names([type(settings), *(type(ps) for ps in platform_settings.values())])
    assert names - known == set()
    assert ignored_settings(settings, platform_settings, environ=dict.fromkeys(names, "x")) == []


def test_env_example_names_every_provider_the_routing_list_takes() -> None:
    """Its SEEDBOT_PROVIDERS comment named the first four hosts and demo, not ark, fal, replicate."""
    example = (REPO / ".env.example").read_text(encoding="utf-8")
    comment = example.split("\nSEEDBOT_PROVIDERS=")[0].rsplit("\n\n", 1)[-1]
    for name in KNOWN_PROVIDERS:
        assert re.search(rf"\b{name}\b", comment), name


def test_names_nothing_reads_are_named_with_the_one_meant(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("SEEDBOT_DAILY_IMAGE=50\nDISCORD_TOKN=abc\nPOSTGRES_PASSWORD=x\nseedbot_model=4.5\n")
    settings, platform_settings = _read(str(env_file))
    environ = {"SEEDBOT_FOO": "1", "SEEDBOT_WEB_HOST": "127.0.0.1", "HOME": "/root", "SLACK_WEBHOOK": "u"}
    assert ignored_settings(settings, platform_settings, environ=environ) == [
        "SEEDBOT_FOO is not a seedbot setting (.env.example lists them all)",
        "SEEDBOT_DAILY_IMAGE is not a seedbot setting; did you mean SEEDBOT_DAILY_IMAGES?",
        "DISCORD_TOKN is not a seedbot setting; did you mean DISCORD_TOKEN?",
    ]


def test_run_warns_of_a_typo_and_doctor_lists_it(tmp_path: Path) -> None:
    """A typo silently left the default: SEEDBOT_DAILY_IMAGE=50 changed nothing."""
    (tmp_path / ".env").write_text("SEEDBOT_DAILY_IMAGE=50\n")
    doctor = seedbot(tmp_path, "doctor")
    assert doctor.returncode == 1
    assert (
        "! SEEDBOT_DAILY_IMAGE is not a seedbot setting; did you mean SEEDBOT_DAILY_IMAGES?" in doctor.stdout
    )
    run = seedbot(tmp_path, "run", "--discord")  # stops at "not configured", after the warning
    assert "WARNING bot.app.cli: SEEDBOT_DAILY_IMAGE is not a seedbot setting" in run.stderr
    no_traceback(run)


def test_a_line_the_settings_file_cant_parse_is_named_once_without_its_value(tmp_path: Path) -> None:
    """python-dotenv skipped it with a warning of its own, once per settings class (five)."""
    (tmp_path / ".env").write_text(
        'SEEDBOT_DAILY_IMAGES=5\nSLACK_BOT_TOKEN = "xoxb-s3cret\nSEEDBOT_MODEL=4.5\n'
    )
    doctor = seedbot(tmp_path, "doctor")
    assert doctor.returncode == 1
    assert "! .env line 2 (SLACK_BOT_TOKEN) is not NAME=VALUE (an unclosed quote?)" in doctor.stdout
    assert "python-dotenv" not in doctor.stdout + doctor.stderr
    assert "s3cret" not in doctor.stdout + doctor.stderr


def test_a_settings_file_named_must_be_there_and_be_utf8(tmp_path: Path) -> None:
    """A missing --env-file was quietly read as empty; a Latin-1 one was a traceback."""
    missing = seedbot(tmp_path, "--env-file", str(tmp_path / "prod.env"), "doctor")
    assert friendly_one_liner(missing) == f"seedbot: there is no file {tmp_path / 'prod.env'} (--env-file)"
    (tmp_path / ".env").write_bytes(b"SEEDBOT_ADMINS=caf\xe9\n")
    latin = seedbot(tmp_path, "doctor")
    assert friendly_one_liner(latin) == (
        "seedbot: .env is not UTF-8 text (byte 0xe9 at position 18): save it as UTF-8"
    )


def test_a_routing_list_without_one_keyed_provider_is_a_problem() -> None:
    """Every request was refused "none configured" while run started as if all was well."""
    plugins = load_plugins()
    keyless = Settings(_env_file=None, SEEDBOT_PROVIDERS="segmind, fal")  # type: ignore[call-arg]
    assert settings_problems(keyless, plugins) == [
        "SEEDBOT_PROVIDERS: no provider it lists has a key: set SEGMIND_API_KEY or FAL_KEY, or add demo"
    ]
    one = Settings(_env_file=None, SEEDBOT_PROVIDERS="segmind, fal", FAL_KEY="k")  # type: ignore[call-arg]
    assert settings_problems(one, plugins) == []
    assert ignored_settings(one, {}, environ={}) == [
        "segmind is listed in SEEDBOT_PROVIDERS but SEGMIND_API_KEY is not set"
    ]

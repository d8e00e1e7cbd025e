"""`seedbot` in a subprocess (`python -m bot ...`), in a scratch directory with a clean environment."""

from __future__ import annotations

import io
import os
import shlex
import signal
import sqlite3
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from PIL import Image

from bot import messages
from tests.app.cli.helpers import friendly_one_liner, in_parallel, jobs_and_holds, no_traceback, seedbot
from tests.app.helpers import bot_command, clean_env


@pytest.fixture
def cwd(tmp_path: Path) -> Path:
    assert not (tmp_path / ".env").exists()
    return tmp_path


def test_generate_writes_valid_images(cwd: Path) -> None:
    proc = seedbot(cwd, "generate", "a red fox", "--provider", "demo", "--count", "3", "--out", "out/")
    assert proc.returncode == 0, proc.stderr
    no_traceback(proc)
    paths = proc.stdout.split()
    assert len(paths) == 3
    for printed in paths:
        path = cwd / printed
        assert path.parent == cwd / "out"
        with Image.open(path) as img:
            img.verify()
        with Image.open(path) as img:
            assert img.format == "JPEG" and img.size == (2048, 2048)
    assert sorted(p.name for p in (cwd / "out").iterdir()) == sorted(Path(p).name for p in paths)
    assert "demo" in proc.stderr.lower()  # says these are placeholders

    shown = seedbot(cwd, "quota", "show", "cli:local")
    assert shown.returncode == 0
    assert "17 of 20" in shown.stdout and "297 of 300" in shown.stdout


def test_generate_options_reach_the_engine(cwd: Path) -> None:
    ref = cwd / "ref.png"
    Image.new("RGB", (320, 180), (0, 90, 200)).save(ref)
    proc = seedbot(
        cwd, "generate", "the same scene at night", "--image", str(ref), "--format", "png", "--out", "edits"
    )
    assert proc.returncode == 0, proc.stderr
    (path,) = proc.stdout.split()
    with Image.open(cwd / path) as img:
        assert img.format == "PNG" and img.size == (2848, 1600)  # the reference's 16:9

    proc = seedbot(  # the model as chat takes it: "4.5" refused "Seedream 4.5"
        cwd,
        "generate",
        "a fox",
        "--model",
        "Seedream 4.5",
        "--resolution",
        "4K",
        "--aspect",
        "1:1",
        "--out",
        "o",
    )
    assert proc.returncode == 0, proc.stderr
    with Image.open(cwd / proc.stdout.split()[0]) as img:
        assert img.size == (4096, 4096)

    proc = seedbot(cwd, "generate", "a fox", "--resolution", "2999x2001", "--out", "o")
    assert proc.returncode == 0, proc.stderr
    with Image.open(cwd / proc.stdout.split()[0]) as img:
        assert img.size == (2999, 2001)  # an explicit size, unchanged


def test_generate_reads_the_prompt_like_a_chat_message(cwd: Path) -> None:
    # Flags typed in the prompt work as in chat and win over the command's options.
    proc = seedbot(cwd, "generate", "a fox --ar 21:9 --n ３", "--count", "1", "--aspect", "1:1", "--out", "o")
    assert proc.returncode == 0, proc.stderr
    paths = proc.stdout.split()
    assert len(paths) == 3  # the full-width ３ a Japanese keyboard types counts
    for path in paths:
        with Image.open(cwd / path) as img:
            assert img.size == (3136, 1344)  # 21:9
    with sqlite3.connect(cwd / "seedbot.db") as db:
        (prompt,) = db.execute("SELECT prompt FROM jobs").fetchone()
    assert prompt == "a fox"  # the flags are not sent to the model

    # The shell's own cast and the built-in styles.
    ref = cwd / "ref.png"
    Image.new("RGB", (400, 300), (200, 90, 0)).save(ref)
    assert seedbot(cwd, "cast", "cli:local", "save", "fox", "--image", str(ref)).returncode == 0
    proc = seedbot(cwd, "generate", "the fox in snow --ref fox --style watercolor", "--out", "o")
    assert proc.returncode == 0, proc.stderr
    with Image.open(cwd / proc.stdout.split()[0]) as img:
        assert img.size[0] * 3 == img.size[1] * 4  # the cast image's 4:3
    with sqlite3.connect(cwd / "seedbot.db") as db:
        (prompt,) = db.execute("SELECT prompt FROM jobs ORDER BY rowid DESC LIMIT 1").fetchone()
    assert prompt.startswith("the fox in snow") and "watercolor" in prompt and "--" not in prompt


def test_style_and_cast_are_options_too_and_an_unquoted_prompt_is_explained(cwd: Path) -> None:
    ref = cwd / "ref.png"
    Image.new("RGB", (300, 400), (20, 90, 200)).save(ref)
    assert seedbot(cwd, "cast", "cli:local", "save", "rex", "--image", str(ref)).returncode == 0
    proc = seedbot(cwd, "generate", "a dog", "--style", "anime", "--ref", "rex", "--out", "o")
    assert proc.returncode == 0, proc.stderr
    with Image.open(cwd / proc.stdout.split()[0]) as img:
        assert img.size[0] * 4 == img.size[1] * 3  # the cast image's 3:4
    with sqlite3.connect(cwd / "seedbot.db") as db:
        (prompt,) = db.execute("SELECT prompt FROM jobs").fetchone()
    assert prompt.startswith("a dog") and "anime" in prompt

    # Unquoted, `--n` was read as an abbreviation of --no-watermark and the rest refused.
    proc = seedbot(cwd, "generate", "a", "fox", "--n", "3")
    assert proc.returncode == 2
    no_traceback(proc)
    assert 'seedbot generate "a fox --n 3"' in proc.stderr, proc.stderr
    assert "--no-watermark" not in proc.stderr
    # A command's option typed before it is the top level's to argparse: say where it goes, and
    # only for an option that command has (`run` has no -q).
    early = seedbot(cwd, "-v", "stats")
    assert early.returncode == 2 and "go after it: seedbot stats -v" in early.stderr, early.stderr
    assert "go after it" not in seedbot(cwd, "-q", "run").stderr
    # `run` logs at its setting: -v says which one.
    loud = seedbot(cwd, "run", "-vv")
    assert loud.returncode == 2 and "SEEDBOT_LOG_LEVEL=DEBUG seedbot run" in loud.stderr, loud.stderr

    # The shell belongs to no server: its help offers the built-ins, not the playground's styles
    # (it pointed at `seedbot style web:local`, whose own styles the shell refuses).
    helped = seedbot(cwd, "generate", "--help").stdout
    assert "web:local" not in helped and "watercolor" in " ".join(helped.split())


def test_a_prompt_from_stdin_and_undecodable_bytes(cwd: Path) -> None:
    # A shell hands bytes that are not UTF-8 on as lone surrogates; no database stores them (it
    # was "something went wrong"). They are dropped like control characters.
    command = [os.fsencode(a) for a in bot_command("generate", "-q", "--out", "o")]
    argv = subprocess.run(  # noqa: S603 - our own command
        [*command, b"a fox \xff"], cwd=cwd, env=clean_env(), capture_output=True, timeout=60, check=False
    )
    assert argv.returncode == 0, argv.stderr
    piped = subprocess.run(  # noqa: S603 - our own command
        [*command, b"-"],
        cwd=cwd,
        env=clean_env(),
        input=b"a lighthouse\nat dawn \xfe --ar 16:9\n",
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert piped.returncode == 0, piped.stderr
    with Image.open(cwd / piped.stdout.decode().split()[0]) as img:
        assert img.size == (2848, 1600)  # the flags read from stdin too
    with sqlite3.connect(cwd / "seedbot.db") as db:
        prompts = [row[0] for row in db.execute("SELECT prompt FROM jobs ORDER BY rowid")]
    assert prompts == ["a fox", "a lighthouse\nat dawn"]


BAD_REQUESTS = [
    (["--count", "16"], "16"),
    (["--count", "0"], "0"),
    (["--resolution", "8K"], "8K"),
    (["--resolution", "100x100"], "100x100"),
    (["--aspect", "17:1"], "17:1"),
    (["--model", "4.5", "--format", "png"], "png"),
    (["--model", "4.5", "--resolution", "3K"], "3K"),
    (["--provider", "nowhere"], "nowhere"),
    (["--provider", "fal"], "fal is not set up: set FAL_KEY"),
]
# Flags typed in the prompt are checked like a chat message's, before anything is spent.
BAD_PROMPTS = [
    ("a fox --bogus", "'--bogus'"),
    ("a fox --n 99", "99"),
    # The shell's own command to list the cast, not the chat's `cast list` (no word of the shell).
    (
        "a fox --ref nobody",
        "There is no 'nobody' in your cast. `seedbot cast cli:local` shows what you saved.",
    ),
    ("a fox --style nope", "nope"),
]


def test_bad_requests_are_one_friendly_line_and_cost_nothing(tmp_path: Path) -> None:
    cases = [("a red fox", args, says) for args, says in BAD_REQUESTS]
    cases += [(prompt, [], says) for prompt, says in BAD_PROMPTS]
    dirs = [tmp_path / f"case{n}" for n in range(len(cases))]
    for d in dirs:
        d.mkdir()
    procs = in_parallel(
        [
            (d, ["generate", prompt, "--out", "out", *args])
            for d, (prompt, args, _) in zip(dirs, cases, strict=True)
        ]
    )
    for d, proc, (prompt, args, mentions) in zip(dirs, procs, cases, strict=True):
        line = friendly_one_liner(proc)
        assert mentions in line, (prompt, args, line)
        assert not (d / "out").exists()
        assert jobs_and_holds(d) == (0, 0), args
    shown = seedbot(dirs[0], "quota", "show", "cli:local")
    assert "20 of 20" in shown.stdout and "300 of 300" in shown.stdout


def test_an_unknown_model_is_a_usage_error_in_the_words_of_chat(cwd: Path) -> None:
    proc = seedbot(cwd, "generate", "a fox", "--model", "4", "--out", "out")
    assert proc.returncode == 2 and not (cwd / "out").exists()
    assert proc.stderr.rstrip().endswith(
        "argument --model: There is no model called '4'. Choose one of: 5.0-lite, 4.5."
    )


def test_empty_prompt_and_bad_reference(cwd: Path) -> None:
    assert "prompt" in friendly_one_liner(seedbot(cwd, "generate", "  ", "--out", "out"))
    fake = cwd / "photo.png"
    fake.write_text("not an image at all")
    assert "photo.png" in friendly_one_liner(seedbot(cwd, "generate", "a fox", "--image", str(fake)))
    assert "missing.png" in friendly_one_liner(seedbot(cwd, "generate", "a fox", "--image", "missing.png"))
    assert not (cwd / "out").exists()


def test_image_urls_to_private_addresses_are_refused(cwd: Path) -> None:
    line = friendly_one_liner(
        seedbot(cwd, "generate", "a fox", "--image", "http://169.254.169.254/latest/x.png")
    )
    assert "not allowed" in line


def test_quota_commands(cwd: Path) -> None:
    proc = seedbot(cwd, "quota", "set", "cli:local", "--daily", "3")
    assert proc.returncode == 0 and "3 of 3" in proc.stdout and "300 of 300" in proc.stdout

    over = friendly_one_liner(seedbot(cwd, "generate", "a fox", "--count", "4", "--out", "o"))
    assert "3" in over and "not charged" in over

    assert seedbot(cwd, "generate", "a fox", "--count", "2", "--out", "o").returncode == 0
    assert "1 of 3" in seedbot(cwd, "quota", "show", "cli:local").stdout

    blocked = seedbot(cwd, "quota", "block", "cli:local")
    assert blocked.returncode == 0 and "blocked" in blocked.stdout
    assert "blocked" in friendly_one_liner(seedbot(cwd, "generate", "a fox", "--out", "o"))
    unblocked = seedbot(cwd, "quota", "unblock", "cli:local")
    assert unblocked.returncode == 0 and "blocked" not in unblocked.stdout

    reset = seedbot(cwd, "quota", "reset", "cli:local")
    assert reset.returncode == 0 and "3 of 3" in reset.stdout  # usage forgotten, override kept

    monthly, needs = in_parallel(
        [(cwd, ["quota", "set", "discord:9", "--monthly", "50"]), (cwd, ["quota", "set", "discord:8"])]
    )
    assert "20 of 20" in monthly.stdout and "50 of 50" in monthly.stdout

    assert needs.returncode != 0 and "--daily" in needs.stderr
    no_traceback(needs)


def test_admins_from_the_environment_are_unlimited(cwd: Path) -> None:
    proc = seedbot(cwd, "quota", "grant", "cli:local", "--images", "1", env={"SEEDBOT_ADMINS": "cli:local"})
    assert proc.returncode == 0 and "unlimited" in proc.stdout


def test_settings_come_from_dot_env(cwd: Path) -> None:
    (cwd / ".env").write_text("SEEDBOT_DAILY_IMAGES=7\nSEEDBOT_DATABASE=data/bot.db\n")
    (cwd / "data").mkdir()
    proc = seedbot(cwd, "quota", "set", "cli:local", "--monthly", "50")
    assert proc.returncode == 0 and "7 of 7" in proc.stdout
    assert (cwd / "data" / "bot.db").is_file()


READ_ONLY = [["stats"], ["audit"], ["quota", "show", "cli:local"], ["settings", "discord:1"]]


def test_read_only_commands_on_a_missing_database_say_so_and_create_nothing(cwd: Path) -> None:
    for proc in in_parallel([(cwd, command) for command in READ_ONLY]):
        line = friendly_one_liner(proc)
        assert line == (
            "seedbot: there is no database at ./seedbot.db (SEEDBOT_DATABASE): nothing is recorded "
            "yet; `seedbot run` creates it"
        ), proc.args
        assert proc.stderr.strip() == line  # no migration log lines either
    assert list(cwd.iterdir()) == []


def test_every_command_refuses_a_database_a_newer_seedbot_migrated(cwd: Path) -> None:
    assert seedbot(cwd, "quota", "set", "discord:1", "--daily", "3").returncode == 0
    with sqlite3.connect(cwd / "seedbot.db") as db:
        db.execute("INSERT INTO schema_migrations VALUES (99, '2099-01-01T00:00:00')")
        known = db.execute("SELECT MAX(version) FROM schema_migrations WHERE version < 99").fetchone()[0]
    why = f"is at schema version 99, but this seedbot knows versions up to {known}"
    commands = [
        *READ_ONLY,
        ["quota", "set", "discord:1", "--daily", "4"],
        ["generate", "a fox", "--out", "o"],
    ]
    for proc in in_parallel([(cwd, command) for command in commands]):
        assert why in friendly_one_liner(proc), proc.args
    doctor = seedbot(cwd, "doctor")
    assert doctor.returncode != 0
    no_traceback(doctor)
    [problem] = [line for line in doctor.stdout.splitlines() if "schema version" in line]
    assert problem.startswith("  ! ") and why in problem and "migrations up to date" not in doctor.stdout
    with sqlite3.connect(cwd / "seedbot.db") as db:  # nothing was applied or changed
        assert db.execute("SELECT daily FROM quota_limits WHERE user_key = 'discord:1'").fetchone() == (3,)


def test_invalid_settings_are_reported_without_a_traceback(cwd: Path) -> None:
    proc = seedbot(cwd, "doctor", env={"SEEDBOT_DAILY_IMAGES": "lots"})
    assert proc.returncode != 0
    no_traceback(proc)
    assert "daily_images" in proc.stderr or "SEEDBOT_DAILY_IMAGES" in proc.stderr


def test_run_with_nothing_configured(cwd: Path) -> None:
    # Plain `run` serves the web playground then (tests/web/test_process.py); asked for a
    # platform that is not configured, it says what to set.
    proc = seedbot(cwd, "run", "--discord")
    assert proc.returncode != 0
    no_traceback(proc)
    assert "Discord is not configured: set DISCORD_TOKEN" in proc.stderr
    assert not (cwd / "seedbot.db").exists()  # nothing opened for nothing to run


def test_doctor(cwd: Path) -> None:
    token = "MTMwMDAw.discord-secret.token-value"  # shaped like a bot token; Discord unreachable here
    bare, configured, missing = (
        seedbot(cwd, "doctor", env=env)
        for env in (
            {},
            {
                "DISCORD_TOKEN": token,
                "DISCORD_API_BASE_URL": "http://127.0.0.1:9/api",
                "NOVITA_API_KEY": "sk_novita-secret-key",
            },
            {"DISCORD_TOKEN": token, "SEEDBOT_PROVIDERS": "segmind"},
        )
    )
    # Nothing configured is the first hour: the demo provider in the playground, nothing wrong.
    assert bare.returncode == 0, bare.stdout
    no_traceback(bare)
    assert "offline demo provider" in bare.stdout
    assert "web playground: runs with `seedbot run` when no chat platform is configured" in bare.stdout
    assert "nothing to serve" not in bare.stdout
    assert bare.stdout.rstrip().splitlines()[-1] == "ok", bare.stdout

    assert configured.returncode == 0, configured.stdout
    assert "discord: configured" in configured.stdout and "novita" in configured.stdout
    # Nothing wrong found, but the token could not be checked: not "ok".
    last = configured.stdout.rstrip().splitlines()[-1]
    assert last.startswith("no problem found, but 1 check not verified"), last
    for secret in (token, "sk_novita-secret-key"):
        assert secret not in configured.stdout + configured.stderr

    assert missing.returncode != 0 and "SEGMIND_API_KEY" in missing.stdout
    assert not (cwd / "seedbot.db").exists()  # a check, not a start-up


def test_doctor_refuses_a_junk_token_without_the_network(cwd: Path) -> None:
    proc = seedbot(cwd, "doctor", env={"DISCORD_TOKEN": "junk"})
    assert proc.returncode == 1
    assert "DISCORD_TOKEN is not shaped like a bot token" in proc.stdout
    assert proc.stdout.rstrip().endswith("\n1 problem found")  # not "1 problem(s)"


def test_doctor_names_what_a_half_set_slack_lacks(cwd: Path) -> None:
    for env, missing in (
        ({"SLACK_SIGNING_SECRET": "s3cret"}, "SLACK_SIGNING_SECRET is set but SLACK_BOT_TOKEN is not"),
        (
            {"SLACK_BOT_TOKEN": "xoxb-1-2", "SLACK_API_URL": "http://127.0.0.1:9/api/"},
            "neither SLACK_APP_TOKEN",
        ),
    ):
        proc = seedbot(cwd, "doctor", env=env)
        assert proc.returncode == 1, proc.stdout
        assert "slack: set up in part" in proc.stdout and missing in proc.stdout
        assert "s3cret" not in proc.stdout + proc.stderr


HELP = [
    ([], "Seedream images for Discord, Slack and Web playground:"),
    (["run"], "--discord"),
    (["generate"], "--count"),
    (["quota"], "--daily"),
    (["doctor"], "usage"),
]


def test_help(cwd: Path) -> None:
    procs = in_parallel([(cwd, [*command, "--help"]) for command, _ in HELP])
    for proc, (command, mentions) in zip(procs, HELP, strict=True):
        assert proc.returncode == 0, command
        assert proc.stdout.startswith("usage: seedbot") and mentions in proc.stdout, command
    assert not (cwd / "seedbot.db").exists()


def test_no_command_is_a_usage_error_that_shows_the_help(cwd: Path) -> None:
    proc = seedbot(cwd)
    assert proc.returncode == 2 and "usage" in proc.stderr
    no_traceback(proc)
    for command in ("run", "generate", "quota", "settings", "stats", "audit", "doctor", "backup"):
        assert f"    {command} " in proc.stderr, command  # the full help, every command listed
    assert "required" not in proc.stderr


def test_version_comes_from_the_package_metadata(cwd: Path) -> None:
    proc = seedbot(cwd, "--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"seedbot {version('seedbot')}"
    assert not (cwd / "seedbot.db").exists()


def test_generate_help_says_what_every_option_does_and_its_default(cwd: Path) -> None:
    proc = seedbot(cwd, "generate", "--help")
    assert proc.returncode == 0, proc.stderr
    text = " ".join(proc.stdout.split())  # argparse wraps lines
    for expected in (
        "prompt what to make",
        "--model {4.5,5.0-lite} Seedream model (default: SEEDBOT_MODEL, else 5.0-lite)",
        "(default: 2K)",
        "(default: 1)",
        "(default: jpeg)",
        "--watermark, --no-watermark add the provider's watermark (default: no watermark)",
        "--out DIR directory to write the images to (default: .)",
        "-q, --quiet",
        "-v, --verbose",
    ):
        assert expected in text, expected
    assert "(the default)" not in text


def test_generate_is_quiet_by_default_with_plain_progress_off_a_terminal(cwd: Path) -> None:
    quiet = seedbot(cwd, "generate", "a red fox", "--out", "o")
    assert quiet.returncode == 0, quiet.stderr
    lines = quiet.stderr.splitlines()
    assert not [line for line in lines if " INFO " in line or " WARNING " in line], quiet.stderr
    assert lines[0].startswith("generating: 0 s") and lines[1] == "done in 0 s (demo)"  # no terminal
    assert lines[2] == messages.DEMO_NOTICE and len(lines) == 3

    silent = seedbot(cwd, "generate", "a red fox", "--out", "o", "-q")
    assert silent.returncode == 0 and silent.stderr.splitlines() == [messages.DEMO_NOTICE]

    verbose = seedbot(cwd, "generate", "a red fox", "--out", "o", "-v")
    assert verbose.returncode == 0
    assert " INFO " in verbose.stderr and "asked for 1 image(s)" in verbose.stderr
    assert " DEBUG " not in verbose.stderr
    assert len(verbose.stdout.split()) == 1  # stdout stays the paths written


def test_generate_names_the_output_path_and_the_os_error(cwd: Path, tmp_path: Path) -> None:
    line = friendly_one_liner(seedbot(cwd, "generate", "a fox", "--out", "/proc/nope"))
    assert "could not be written to /proc/nope: No such file or directory" in line
    assert "posted here" not in line  # not the chat wording
    shown = seedbot(cwd, "quota", "show", "cli:local")
    assert "20 of 20" in shown.stdout  # made, not delivered: not charged

    (cwd / "afile").write_text("x")
    line = friendly_one_liner(seedbot(cwd, "generate", "a fox", "--out", "afile"))
    assert "--out afile is a file, not a directory" in line
    line = friendly_one_liner(seedbot(cwd, "generate", "a fox", "--out", "afile/sub"))
    assert "afile is a file, not a directory" in line
    assert jobs_and_holds(cwd) == (1, 0)  # only the /proc/nope job was run

    line = friendly_one_liner(seedbot(cwd, "generate", "a fox", "--image", str(tmp_path)))
    assert f"{tmp_path} is a directory" in line and "There is no file" not in line
    line = friendly_one_liner(seedbot(cwd, "generate", "a fox", "--image", "ftp://example.com/a.png"))
    assert "ftp://example.com/a.png is not an http(s) URL" in line


MALFORMED = [
    (["quota", "set", "bob", "--daily", "5"], "'bob' is not a user"),
    (["quota", "show", "discord:bob"], "'discord:bob' is not a user"),
    (["quota", "grant", "slack:U1", "--images", "2"], "'slack:U1' is not a user"),
    (["quota", "block", "cli:someone"], "'cli:someone' is not a user"),
    (["settings", "foo", "model", "4.5"], "'foo' is not a server or workspace"),
    (["settings", "slack:T1:U1", "model", "4.5"], "is not a server or workspace"),
    (["stats", "discord:abc"], "'discord:abc' is not a server or workspace"),
    (["audit", "nobody"], "'nobody' is not a user or workspace"),
]


def test_malformed_user_and_workspace_keys_are_refused_with_the_expected_shapes(cwd: Path) -> None:
    procs = in_parallel([(cwd, args) for args, _ in MALFORMED])
    for proc, (args, says) in zip(procs, MALFORMED, strict=True):
        assert proc.returncode == 2, args
        line = friendly_one_liner(proc)
        assert says in line, (args, line)
    users = friendly_one_liner(procs[0])
    for shape in ("discord:<numeric user id>", "slack:<TEAM ID>:<USER ID>", "cli:local", "web:local"):
        assert shape in users, shape
    assert "discord:<numeric server id>, slack:<TEAM ID> or web:local" in friendly_one_liner(procs[4])
    assert not (cwd / "seedbot.db").exists()  # nothing applied, nothing audited

    # Well-formed keys are taken (read-only commands need a database to read: make one).
    assert seedbot(cwd, "quota", "grant", "web:local", "--images", "1").returncode == 0
    for good in (["quota", "show", "web:local"], ["settings", "slack:T0ABC"], ["audit", "slack:T0ABC"]):
        assert seedbot(cwd, *good).returncode == 0, good


def test_run_with_nothing_configured_names_a_command_that_works(cwd: Path) -> None:
    proc = seedbot(cwd, "run", "--slack")  # plain `run` serves the playground instead
    assert proc.returncode == 2
    hint = proc.stderr.strip().splitlines()[-1]
    assert hint.startswith("Try it without any platform: ")
    command = shlex.split(hint.split(": ", 1)[1])
    assert command[:3] == [sys.executable, "-m", "bot"]  # how this test ran it: a path, not `seedbot`
    tried = subprocess.run(  # noqa: S603 - the command the hint names
        command, cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=60, check=False
    )
    assert tried.returncode == 0, tried.stderr
    assert (cwd / tried.stdout.split()[0]).is_file()


def test_images_written_are_the_engines_images(cwd: Path) -> None:
    proc = seedbot(cwd, "generate", "a red fox", "--out", "out", "--count", "2")
    assert proc.returncode == 0, proc.stderr
    with sqlite3.connect(cwd / "seedbot.db") as db:
        rows = db.execute(
            "SELECT b.data FROM job_images i JOIN blobs b ON b.sha256 = i.sha256 WHERE i.role = 'output' ORDER BY i.position"
        ).fetchall()
        job = db.execute("SELECT status, images_delivered, user_key FROM jobs").fetchone()
    assert job == ("succeeded", 2, "cli:local")
    written = [(cwd / p).read_bytes() for p in proc.stdout.split()]
    assert written == [row[0] for row in rows]
    for data in written:
        Image.open(io.BytesIO(data)).verify()


def test_run_for_a_platform_that_is_not_configured_says_what_to_set(cwd: Path) -> None:
    proc = seedbot(cwd, "run", "--slack", env={"DISCORD_TOKEN": "MTMwMDAw.discord.token"})
    assert proc.returncode == 2
    assert friendly_one_liner(proc).startswith("seedbot: Slack is not configured: set SLACK_BOT_TOKEN and ")
    assert not (cwd / "seedbot.db").exists()


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({"SLACK_BOT_TOKEN": "xoxb-1-2"}, "neither SLACK_APP_TOKEN (Socket Mode) nor SLACK_SIGNING_SECRET"),
        ({"SLACK_SIGNING_SECRET": "s3cret"}, "SLACK_SIGNING_SECRET is set but SLACK_BOT_TOKEN is not"),
        ({"SLACK_APP_TOKEN": "xapp-1-2"}, "SLACK_APP_TOKEN is set but SLACK_BOT_TOKEN is not"),
    ],
)
def test_run_refuses_a_platform_set_up_in_part(cwd: Path, env: dict[str, str], missing: str) -> None:
    """It used to leave Slack out without a word and open the playground instead."""
    proc = seedbot(cwd, "run", env=env)
    assert proc.returncode == 2
    line = friendly_one_liner(proc)
    assert line.startswith("seedbot: Slack is set up in part: ") and missing in line
    assert not (cwd / "seedbot.db").exists()
    # Asked for another platform only, the half-set one is none of this run's business.
    other = seedbot(cwd, "run", "--discord", env=env)
    assert "Discord is not configured" in friendly_one_liner(other)


def test_invalid_platform_settings_are_reported_like_the_others(cwd: Path) -> None:
    proc = seedbot(cwd, "quota", "show", "cli:local", env={"DISCORD_SHARD_IDS": "3"})
    assert proc.returncode == 2
    no_traceback(proc)
    assert "DISCORD_SHARD_IDS needs DISCORD_SHARD_COUNT" in proc.stderr


def test_an_admin_command_loads_no_engine_provider_or_http_stack(cwd: Path) -> None:
    """What a fresh interpreter imports for `quota show` (a real one: the forked commands start
    with everything imported already). The engine, providers, Pillow and aiohttp are what made
    every admin command take a second."""
    assert seedbot(cwd, "quota", "grant", "cli:local", "--images", "1").returncode == 0
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "bot", "quota", "show", "cli:local"],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0 and "Images left today" in proc.stdout, proc.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
    assert "bot.conversation.community" in imported  # the command's own work, so the list is real
    heavy = ("bot.engine.pipeline", "bot.providers", "bot.app.runtime", "PIL", "aiohttp", "httpx", "discord")
    assert not {name for name in imported if name.split(".")[0] in heavy or name in heavy}


def test_settings_the_bot_cannot_use_are_a_line_not_a_traceback(cwd: Path) -> None:
    """Each was a traceback: a daily limit past SQLite's integers (at the first request), a
    playground port past 65535 (a plug-in's settings), PostgreSQL down (at connect)."""
    for env, args, says in (
        (
            {"SEEDBOT_DAILY_IMAGES": "1" + "0" * 22},
            ["generate", "a fox", "--provider", "demo"],
            "SEEDBOT_DAILY_IMAGES: Input should be less than or equal to 1000000",
        ),
        (
            {"SEEDBOT_WEB_PORT": "99999"},
            ["run"],
            "SEEDBOT_WEB_PORT: Input should be less than or equal to 65535",
        ),
        (  # the hourly retention pass failed on it, with a traceback in the log each time
            {"SEEDBOT_IMAGE_RETENTION_DAYS": "100000000"},
            ["run"],
            "SEEDBOT_IMAGE_RETENTION_DAYS: Input should be less than or equal to 36500",
        ),
        (
            {"SEEDBOT_DATABASE": "postgresql://seed:hunter2@127.0.0.1:1/seedbot"},
            ["quota", "show", "cli:local"],
            "seedbot: could not connect to PostgreSQL at 127.0.0.1:1/seedbot (SEEDBOT_DATABASE)",
        ),
        (  # a scheme's case means nothing: this was taken for a file path
            {"SEEDBOT_DATABASE": "PostgreSQL://seed:hunter2@127.0.0.1:1/seedbot"},
            ["quota", "show", "cli:local"],
            "seedbot: could not connect to PostgreSQL at 127.0.0.1:1/seedbot (SEEDBOT_DATABASE)",
        ),
        (  # other URLs were taken for file paths too ("there is no directory mysql:/db.host")
            {"SEEDBOT_DATABASE": "mysql://seed:hunter2@db.host/seedbot"},
            ["quota", "show", "cli:local"],
            "SEEDBOT_DATABASE: Value error, seedbot keeps its data in SQLite or PostgreSQL, not mysql",
        ),
        (
            {"SEEDBOT_DATABASE": "sqlite:///var/lib/seedbot.db"},
            ["run"],
            "give the SQLite file's path itself (./seedbot.db), not a sqlite:// URL",
        ),
    ):
        proc = seedbot(cwd, *args, env=env)
        assert proc.returncode in (1, 2), proc.stderr
        no_traceback(proc)
        assert says in proc.stderr and "hunter2" not in proc.stderr, proc.stderr


def test_a_key_pasted_with_an_invisible_character_is_one_line_without_the_key(cwd: Path) -> None:
    """A zero-width space pasted after a key crashed `doctor` and failed every request with
    httpx's UnicodeEncodeError traceback."""
    (cwd / ".env").write_text("NOVITA_API_KEY=sk_0123456789abcdef\u200b\n", encoding="utf-8")
    for args in (["doctor"], ["generate", "a fox", "--provider", "novita"]):
        proc = seedbot(cwd, *args)
        assert proc.returncode == 2, proc.stderr
        no_traceback(proc)
        assert "NOVITA_API_KEY: Value error, it has a non-ASCII character at position 20 of 20" in proc.stderr
        assert "0123456789" not in proc.stderr + proc.stdout


def test_a_settings_file_named_is_a_file(cwd: Path) -> None:
    """A directory (or "", the current one) as --env-file was quietly read as no settings at all."""
    (cwd / "conf").mkdir()
    for name, says in (
        (str(cwd / "conf"), f"seedbot: {cwd / 'conf'} is a directory, not a settings file (--env-file)"),
        ("", "seedbot: there is no file '' (--env-file)"),
    ):
        proc = seedbot(cwd, "--env-file", name, "stats")
        assert proc.returncode == 2 and friendly_one_liner(proc) == says
    no_settings = seedbot(cwd, "--env-file", os.devnull, "stats")  # as the tests run
    assert no_settings.returncode == 1 and "there is no database at ./seedbot.db" in no_settings.stderr


def test_doctor_refuses_the_playground_settings_run_refuses(cwd: Path) -> None:
    """Without SEEDBOT_WEB_PORT doctor said nothing of them, while `run`, which then serves the
    playground, refused to start on them."""
    for env, says in (
        ({"SEEDBOT_WEB_HOST": "0.0.0.0"}, messages.web_needs_token("0.0.0.0")),  # noqa: S104
        ({"SEEDBOT_WEB_TOKEN": "x7Kp2"}, messages.web_token_too_short(16)),
    ):
        proc = seedbot(cwd, "doctor", env=env)
        assert proc.returncode == 1, proc.stdout
        no_traceback(proc)
        assert f"  ! {says}" in proc.stdout.splitlines()
        assert proc.stdout.rstrip().endswith("1 problem found")


def test_a_reader_that_goes_away_stops_it_quietly(cwd: Path) -> None:
    """`seedbot style slack:T1 list | head -1` was a BrokenPipeError traceback."""
    assert seedbot(cwd, "quota", "grant", "web:local", "--images", "1").returncode == 0  # a database
    proc = subprocess.Popen(  # noqa: S603 - this interpreter, our own arguments
        bot_command("style", "slack:T1", "list"),
        cwd=cwd,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # before it writes: it starts in about half a second
    assert proc.wait(timeout=60) == 141
    assert proc.stderr.read() == ""


def test_ctrl_c_in_generate_cancels_the_job_and_says_nothing_was_charged(cwd: Path) -> None:
    """It exited 130 in silence, the progress line left as it was."""
    proc = subprocess.Popen(  # noqa: S603 - our own command
        bot_command("generate", "a fox", "--out", "o"),
        cwd=cwd,
        env=clean_env(SEEDBOT_DEMO_LATENCY="60"),
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    started = proc.stderr.read(len("generating"))  # the job is running: its progress line
    assert started == "generating", started
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "interrupted: the job was cancelled, nothing was charged" in err
    assert "Traceback" not in err
    shown = seedbot(cwd, "quota", "show", "cli:local")
    assert "Used today: 0; this month: 0." in shown.stdout, shown.stdout
    assert not (cwd / "o").exists()

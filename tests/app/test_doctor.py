"""`seedbot doctor` in a subprocess against the loopback Discord and Slack emulators: each
credential checked offline for its shape, then with a real free call; the invite URL and
manifest path printed; a wrong token reported as a clear failure without ever printing it; an
unreachable service "not verified", never "ok"."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from adapters.discord_adapter.invite import DISCORD_PERMISSIONS
from tests.app.helpers import REPO, clean_env, cli_args
from tests.cli_process import run_cli_async
from tests.emulators.discord import DiscordEmulator
from tests.emulators.slack import SlackEmulator

DISCORD_TOKEN = "MTMwMDAw.discord-doctor-token.secret"
SLACK_TOKEN = "xoxb-doctor-bot-token-secret"
APP_TOKEN = "xapp-doctor-app-token-secret"
EXPECTED_PERMISSIONS = 1024 + 2048 + 16384 + 32768 + 65536 + (1 << 31) + (1 << 35) + (1 << 38)


async def doctor(cwd: Path, **env: str) -> tuple[int, str, str]:
    proc = await run_cli_async(cwd, cli_args("doctor"), clean_env(**env))
    return proc.returncode, proc.stdout, proc.stderr


def test_permissions_are_the_ones_the_bot_needs() -> None:
    assert sum(DISCORD_PERMISSIONS.values()) == EXPECTED_PERMISSIONS == 311385246720


async def test_doctor_checks_every_credential_against_the_emulators(tmp_path: Path) -> None:
    async with (
        DiscordEmulator(token=DISCORD_TOKEN) as discord,
        SlackEmulator(bot_token=SLACK_TOKEN, app_token=APP_TOKEN) as slack,
    ):
        code, out, err = await doctor(
            tmp_path,
            DISCORD_TOKEN=DISCORD_TOKEN,
            DISCORD_API_BASE_URL=discord.api_base,
            SLACK_BOT_TOKEN=SLACK_TOKEN,
            SLACK_APP_TOKEN=APP_TOKEN,
            SLACK_API_URL=slack.api_url,
            NOVITA_API_KEY="sk_novita-doctor-key-secret",
        )
        discord_calls = [(r.method, r.path) for r in discord.requests]
        slack_calls = [(r.api_method, r.ok) for r in slack.requests if r.kind == "api"]
    assert code == 0, out + err
    assert "Traceback" not in err
    lines = out.splitlines()
    assert lines[-1] == "ok"
    assert "  novita: key set, starts with sk_, no free check available" in lines
    assert "  ok: token accepted, signed in as seedbot (id 1300000000000000001)" in lines
    assert "  ok: bot token accepted (team Seed Test, bot user seedbot)" in lines
    assert "  ok: app token accepted (Socket Mode)" in lines
    assert "  not created yet: `seedbot run` creates and migrates it here" in lines
    assert not (tmp_path / "seedbot.db").exists()  # a check, not a start-up

    (invite,) = [line.split("invite: ", 1)[1] for line in lines if "invite: " in line]
    url = urlparse(invite)
    query = parse_qs(url.query)
    assert (url.scheme, url.netloc, url.path) == ("https", "discord.com", "/oauth2/authorize")
    assert query["client_id"] == [DiscordEmulator.APPLICATION_ID]
    assert query["scope"] == ["bot applications.commands"]
    assert query["permissions"] == [str(EXPECTED_PERMISSIONS)]
    (mine,) = [line.split("user install: ", 1)[1] for line in lines if "user install: " in line]
    query = parse_qs(urlparse(mine).query)
    assert query == {
        "client_id": [DiscordEmulator.APPLICATION_ID],
        "integration_type": ["1"],
        "scope": ["applications.commands"],
    }
    assert "User Install" not in out  # the emulated application allows it

    (manifest,) = [line.split("manifest: ", 1)[1].split(" ", 1)[0] for line in lines if "manifest: " in line]
    assert Path(manifest) == REPO / "slack-manifest.yml" and Path(manifest).is_file()

    assert ("GET", "/users/@me") in discord_calls
    assert ("GET", "/oauth2/applications/@me") in discord_calls
    assert slack_calls == [("auth.test", True), ("apps.connections.open", True)]
    for secret in (DISCORD_TOKEN, SLACK_TOKEN, APP_TOKEN, "sk_novita-doctor-key-secret"):
        assert secret not in out + err


async def test_wrong_tokens_are_clear_failures_without_the_token(tmp_path: Path) -> None:
    wrong_discord, wrong_slack = "MTMwMDAx.wrong-discord.token-value", "xoxb-wrong-slack-token"
    async with DiscordEmulator(token=DISCORD_TOKEN) as discord, SlackEmulator(bot_token=SLACK_TOKEN) as slack:
        code, out, err = await doctor(
            tmp_path,
            DISCORD_TOKEN=wrong_discord,
            DISCORD_API_BASE_URL=discord.api_base,
            SLACK_BOT_TOKEN=wrong_slack,
            SLACK_SIGNING_SECRET="signing-secret-value",
            SLACK_API_URL=slack.api_url,
        )
    assert code == 1
    assert "Traceback" not in err
    assert "  ! DISCORD_TOKEN was refused (401 Unauthorized)" in out
    assert "  ! SLACK_BOT_TOKEN was refused by auth.test: invalid_auth (the token is not valid)" in out
    assert "invite:" not in out
    assert out.splitlines()[-1] == "2 problems found"
    for secret in (wrong_discord, wrong_slack, "signing-secret-value"):
        assert secret not in out + err


async def test_doctor_opens_and_migrates_an_existing_database(tmp_path: Path) -> None:
    db = tmp_path / "data" / "bot.db"
    db.parent.mkdir()
    sqlite3.connect(db).close()  # an empty file: doctor migrates it
    code, out, _ = await doctor(
        tmp_path, SEEDBOT_DATABASE=str(db), DISCORD_TOKEN=DISCORD_TOKEN, DISCORD_API_BASE_URL=UNREACHABLE
    )
    assert "  ok: opened, migrations up to date, answers queries" in out
    assert code == 0  # unreachable is reported, not counted as a wrong credential
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0] >= 1

    code, out, _ = await doctor(
        tmp_path,
        SEEDBOT_DATABASE=str(tmp_path / "nowhere" / "bot.db"),
        DISCORD_TOKEN=DISCORD_TOKEN,
        DISCORD_API_BASE_URL=UNREACHABLE,
    )
    assert code == 1 and "does not exist or is not writable" in out


UNREACHABLE = "http://127.0.0.1:9/api"  # the discard port: nothing listens


async def test_an_unreachable_service_is_not_verified_and_the_invite_comes_from_the_token(
    tmp_path: Path,
) -> None:
    code, out, err = await doctor(tmp_path, DISCORD_TOKEN=DISCORD_TOKEN, DISCORD_API_BASE_URL=UNREACHABLE)
    lines = out.splitlines()
    assert code == 0, out + err
    assert f"  ? could not reach {UNREACHABLE} to check DISCORD_TOKEN (ConnectError); not verified" in lines
    assert not any(line.startswith("  ok: token") for line in lines)
    (invite,) = [line.split("invite: ", 1)[1] for line in lines if "invite: " in line]
    assert parse_qs(urlparse(invite).query)["client_id"] == ["130000"]  # MTMwMDAw is base64 of it
    assert "          (application id read from the token, not verified)" in lines
    assert lines[-1].startswith("no problem found, but 1 check not verified")
    assert lines[-1] != "ok" and DISCORD_TOKEN not in out + err


async def test_malformed_credentials_are_problems_found_offline(tmp_path: Path) -> None:
    async with DiscordEmulator(token=DISCORD_TOKEN) as discord, SlackEmulator(bot_token=SLACK_TOKEN) as slack:
        code, out, err = await doctor(
            tmp_path,
            DISCORD_TOKEN="junk-token",
            DISCORD_API_BASE_URL=discord.api_base,
            SLACK_BOT_TOKEN="xoxp-a-user-token",
            SLACK_APP_TOKEN="xoxb-not-an-app-token",
            SLACK_API_URL=slack.api_url,
            NOVITA_API_KEY="novita-key-without-its-prefix",
            SEGMIND_API_KEY="SG_0123456789abcdef",
        )
        assert discord.requests == [] and [r for r in slack.requests if r.kind == "api"] == []
    assert code == 1, out + err
    assert "  ! DISCORD_TOKEN is not shaped like a bot token (three parts joined by dots)" in out
    assert "invite:" not in out  # no application id to be had from junk
    assert "  ! SLACK_BOT_TOKEN should be a bot token (xoxb-...), but this is a user token" in out
    assert "  ! SLACK_APP_TOKEN should be an app-level token (xapp-...), but this is a bot token" in out
    assert "  ! NOVITA_API_KEY does not start with sk_" in out
    assert "  segmind: key set, starts with SG_, no free check available" in out
    assert out.splitlines()[-1] == "4 problems found"
    for secret in ("junk-token", "xoxp-a-user-token", "xoxb-not-an-app-token", "novita-key-without"):
        assert secret not in out + err

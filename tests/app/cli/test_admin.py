"""`seedbot quota grant`, `seedbot settings`, `seedbot stats`, `seedbot audit` from the shell: the operator's
side of the admin controls, every change audited with the operator's name."""

from __future__ import annotations

import asyncio
import getpass
from pathlib import Path

from bot.ledger import SQLiteLedger
from tests.app.cli.helpers import friendly_one_liner, no_traceback, seedbot


async def _audit(db: Path) -> list[tuple[str, str, str, str]]:
    ledger = SQLiteLedger(str(db), daily_limit=20, monthly_limit=300)
    await ledger.open()
    try:
        return [(e.actor, e.action, e.target, e.detail) for e in await ledger.audit_entries()]
    finally:
        await ledger.close()


def test_quota_grant_settings_and_stats(tmp_path: Path) -> None:
    grant = seedbot(tmp_path, "quota", "grant", "discord:5", "--images", "3")
    assert grant.returncode == 0, grant.stderr
    assert "Granted 3 extra images today for discord:5" in grant.stdout
    assert "Images left today: 23 of 23" in grant.stdout and "3 extra granted" in grant.stdout
    needs = seedbot(tmp_path, "quota", "grant", "discord:5")
    assert needs.returncode == 2 and "--images" in needs.stderr
    no_traceback(needs)

    shown = seedbot(tmp_path, "settings", "discord:77")
    assert shown.returncode == 0 and "channels: everywhere" in shown.stdout
    changed = seedbot(tmp_path, "settings", "discord:77", "channels", "111", "222")
    assert changed.returncode == 0, changed.stderr
    assert "channels is now #111, #222 for discord:77" in changed.stdout
    # A channel's name is not its id: stored, it would lock the whole server or workspace out.
    for workspace, shape in (("discord:77", "Copy Channel ID"), ("slack:T1", "C0123ABCD")):
        named = seedbot(tmp_path, "settings", workspace, "channels", "general")
        assert named.returncode == 2 and "'general' is not a channel id" in named.stderr, named.stderr
        assert shape in named.stderr
        no_traceback(named)
    assert "channels: #111, #222" in seedbot(tmp_path, "settings", "discord:77").stdout  # unchanged
    assert seedbot(tmp_path, "settings", "discord:77", "pool", "40").returncode == 0
    bad = seedbot(tmp_path, "settings", "discord:77", "max_batch", "99")
    assert bad.returncode == 1 and "from 1 to 15" in bad.stderr
    no_traceback(bad)

    made = seedbot(tmp_path, "generate", "a fox", "--provider", "demo", "--count", "2", "--out", "o")
    assert made.returncode == 0, made.stderr
    stats = seedbot(tmp_path, "stats")
    assert stats.returncode == 0 and "Today: 1 job, 2 images" in stats.stdout
    assert "cli:local: 1 job, 2 images" in stats.stdout and "demo: 1 job, 2 images" in stats.stdout
    assert "Today: 0 jobs" in seedbot(tmp_path, "stats", "discord:77").stdout

    actor = f"cli:{getpass.getuser()}"
    assert asyncio.run(_audit(tmp_path / "seedbot.db")) == [
        (actor, "settings.set", "discord:77", "pool=40"),
        (actor, "settings.set", "discord:77", "channels=#111, #222"),
        (actor, "quota.grant", "discord:5", "+3 today (total 3)"),
    ]

    # The operator reads the trail back, all of it or for one target.
    trail = seedbot(tmp_path, "audit")
    assert trail.returncode == 0, trail.stderr
    lines = trail.stdout.splitlines()
    assert lines[0] == "Admin changes, newest first:" and len(lines) == 4
    assert lines[1].endswith(f"UTC  {actor}  settings.set  discord:77  pool=40")
    assert lines[3].endswith(f"{actor}  quota.grant  discord:5  +3 today (total 3)")
    one = seedbot(tmp_path, "audit", "discord:5", "--limit", "5").stdout.splitlines()
    assert one[0] == "Admin changes for discord:5, newest first:" and len(one) == 2
    assert (
        seedbot(tmp_path, "audit", "slack:T9:U9").stdout.strip()
        == "No admin changes recorded for slack:T9:U9."
    )


def test_limits_out_of_range_are_one_line_from_the_shell(tmp_path: Path) -> None:
    """argparse takes any integer; the core's range answers (it was a traceback from SQLite)."""
    for args, says in (
        (
            ["quota", "set", "discord:5", "--daily", "-1"],
            "'-1' doesn't work for daily: a number from 0 to 1000000",
        ),
        (
            ["quota", "grant", "discord:5", "--images", "1" + "0" * 20],
            "doesn't work for grant: a number from 1",
        ),
    ):
        proc = seedbot(tmp_path, *args)
        assert says in friendly_one_liner(proc), proc.stderr
    assert asyncio.run(_audit(tmp_path / "seedbot.db")) == []


def test_audit_limit_is_a_whole_number_in_range(tmp_path: Path) -> None:
    """--limit 10**20 was a SQLite traceback; 0 and -5 quietly showed one entry."""
    assert seedbot(tmp_path, "quota", "grant", "discord:5", "--images", "1").returncode == 0
    for bad in ("0", "-5", "1" + "0" * 20, "many", "²"):
        proc = seedbot(tmp_path, "audit", "--limit", bad)
        assert proc.returncode == 2, proc.stderr
        no_traceback(proc)
        assert f"--limit: use a whole number from 1 to 1000, not '{bad}'" in proc.stderr
    shown = seedbot(tmp_path, "audit", "--limit", "1")
    assert shown.returncode == 0 and "quota.grant" in shown.stdout


def test_settings_take_the_slash_commands_words(tmp_path: Path) -> None:
    """`seedbot settings WS set pool 40` said "There is no setting 'set'"."""
    worded = seedbot(tmp_path, "settings", "discord:77", "set", "pool", "40")
    assert worded.returncode == 0 and "pool is now 40 for discord:77" in worded.stdout, worded.stderr
    shown = seedbot(tmp_path, "settings", "discord:77", "show")
    assert shown.stdout == seedbot(tmp_path, "settings", "discord:77").stdout and "pool: 40" in shown.stdout
    assert "buttons" in seedbot(tmp_path, "settings", "--help").stdout  # the help's list had lost it
    # A setting's name alone shows that one (it cleared it), as `admin settings pool` does in chat.
    one = seedbot(tmp_path, "settings", "discord:77", "pool")
    assert one.returncode == 0 and one.stdout == "Settings for discord:77:\npool: 40\n", one.stdout
    assert "pool: 40" in seedbot(tmp_path, "settings", "discord:77").stdout

"""`seedbot backup PATH` in a subprocess while writers hammer the same SQLite file; the copy
opens, passes integrity_check, and its quota counters agree with its reservations (a torn copy
would not)."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import subprocess
from pathlib import Path

from bot.ledger import SQLiteLedger
from tests.app.helpers import bot_command, clean_env, cli_args
from tests.cli_process import run_cli_async


async def backup(cwd: Path, db: Path, *args: str) -> tuple[int, str, str]:
    proc = await run_cli_async(cwd, cli_args("backup", *args), clean_env(SEEDBOT_DATABASE=str(db)))
    return proc.returncode, proc.stdout, proc.stderr


def consistent(copy: Path) -> tuple[int, int]:
    """integrity_check, and every user's usage equals what their reservations hold or used."""
    with sqlite3.connect(copy) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        mismatched = db.execute(
            """
            SELECT u.user_key, u.period, u.used, COALESCE(SUM(
                CASE r.state WHEN 'reserved' THEN r.amount ELSE r.used END), 0) AS held
            FROM quota_usage u LEFT JOIN reservations r
              ON r.user_key = u.user_key AND (r.day = u.period OR r.month = u.period)
            GROUP BY u.user_key, u.period HAVING u.used != held
            """
        ).fetchall()
        assert mismatched == []
        reservations = db.execute("SELECT COUNT(*) FROM reservations").fetchone()[0]
        settled = db.execute("SELECT COUNT(*) FROM reservations WHERE state = 'settled'").fetchone()[0]
    return reservations, settled


async def test_backup_under_load_is_consistent(tmp_path: Path) -> None:
    db = tmp_path / "live.db"
    ledger = SQLiteLedger(str(db), daily_limit=10**9, monthly_limit=10**9)
    await ledger.open()
    # A few MB of history first, so the copy takes more than an instant.
    for i in range(300):
        r = await ledger.reserve(f"discord:{i % 7}", 1)
        await ledger.settle(r.id, 1)
    await ledger.db.execute("CREATE TABLE IF NOT EXISTS ballast (data BLOB)")
    await ledger.db.executemany("INSERT INTO ballast VALUES (?)", [(b"x" * 65536,) for _ in range(64)])

    stop = asyncio.Event()
    done = [0]

    async def writer(user: str) -> None:
        while not stop.is_set():
            r = await ledger.reserve(user, 2)
            await asyncio.sleep(0)
            await ledger.settle(r.id, 1)
            done[0] += 1

    writers = [asyncio.create_task(writer(f"slack:T1:U{i}")) for i in range(8)]
    try:
        await asyncio.sleep(0.05)
        before = done[0]
        code, out, err = await backup(tmp_path, db, str(tmp_path / "copy.db"))
        during = done[0] - before
        # A second copy into a directory, still under load.
        (tmp_path / "backups").mkdir()
        code2, out2, _ = await backup(tmp_path, db, str(tmp_path / "backups"))
    finally:
        stop.set()
        await asyncio.gather(*writers)
        await ledger.close()

    assert code == 0, err
    assert during > 0  # the writers kept going while the backup ran
    assert "integrity ok" in out and "copy.db" in out
    assert re.search(
        r"copy\.db: [\d,]+ bytes, [\d,]+ jobs?, [\d,]+ open reservations?, integrity ok$", out.strip()
    ), out
    reservations, settled = consistent(tmp_path / "copy.db")
    assert reservations >= 300 + before
    assert settled >= 300
    with sqlite3.connect(tmp_path / "copy.db") as copy:
        assert copy.execute("SELECT COUNT(*) FROM ballast").fetchone()[0] == 64
        assert copy.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0] >= 1

    assert code2 == 0
    (dated,) = (tmp_path / "backups").glob("seedbot-*.db")
    assert dated.name in out2
    consistent(dated)
    assert not list(tmp_path.rglob("*.partial"))


async def test_backup_refuses_to_overwrite_or_copy_nothing(tmp_path: Path) -> None:
    code, _, err = await backup(tmp_path, tmp_path / "missing.db", str(tmp_path / "copy.db"))
    assert code == 1 and "no database" in err and "Traceback" not in err

    db = tmp_path / "live.db"
    ledger = SQLiteLedger(str(db), daily_limit=5, monthly_limit=50)
    await ledger.open()
    await ledger.close()
    (tmp_path / "copy.db").write_text("keep me")
    code, _, err = await backup(tmp_path, db, str(tmp_path / "copy.db"))
    assert code == 1 and "--force" in err
    assert (tmp_path / "copy.db").read_text() == "keep me"
    code, _, err = await backup(tmp_path, db, str(tmp_path / "copy.db"), "--force")
    assert code == 0, err
    consistent(tmp_path / "copy.db")


async def empty_database(tmp_path: Path) -> Path:
    db = tmp_path / "live.db"
    ledger = SQLiteLedger(str(db), daily_limit=5, monthly_limit=50)
    await ledger.open()
    await ledger.close()
    return db


async def test_backup_into_a_directory_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    """`backup DIR/` with no DIR wrote a file named DIR (Path() drops the trailing slash)."""
    missing = f"{tmp_path / 'backups'}/"
    code, _, err = await backup(tmp_path, await empty_database(tmp_path), missing)
    assert code == 1 and err.strip() == f"seedbot: there is no directory {missing}: create it first", err
    assert not (tmp_path / "backups").exists()


async def test_backup_into_a_directory_that_cannot_be_written_is_one_line(tmp_path: Path) -> None:
    """sqlite3's "unable to open database file" was a traceback. /proc stands in for a directory
    the service user can't write: not even root creates files there."""
    code, _, err = await backup(tmp_path, await empty_database(tmp_path), "/proc/")
    assert code == 1 and "Traceback" not in err, err
    (line,) = err.strip().splitlines()
    assert line.startswith("seedbot: can't write /proc/seedbot-")
    assert line.endswith(".db: No such file or directory")


def test_backup_help() -> None:
    proc = subprocess.run(  # noqa: S603
        bot_command("backup", "--help"),
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 0 and "--force" in proc.stdout

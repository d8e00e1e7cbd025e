"""The ledger's contract on both backends (a SQLite file, a real PostgreSQL server): exact quotas
under concurrency, refunds, idempotent settlement, overrides, jobs and lineage, job leases and
shared event dedupe. Two ledger instances on one database stand in for two bot processes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.errors import LedgerUnavailable, QuotaExceeded, UserBlocked
from bot.ledger import PostgresLedger, SQLiteLedger, open_ledger
from bot.ledger import base as ledger_base
from bot.ledger.base import Reservation, output_of
from bot.request.models import GeneratedImage, ImageInput, JobStatus
from tests.ledger.conftest import MakeLedger
from tests.ledger.helpers import USER, image, make_job

NOW = datetime(2026, 3, 14, 15, 9, 26, tzinfo=UTC)
MIGRATIONS = Path(__file__).resolve().parents[2] / "bot" / "ledger" / "migrations"


async def try_reserve(store: Any, user: str = USER, amount: int = 1, **kw: Any) -> Reservation | None:
    try:
        return await store.reserve(user, amount, **kw)  # type: ignore[no-any-return]
    except QuotaExceeded:
        return None


# -- quotas ------------------------------------------------------------------------------------


async def test_two_hundred_concurrent_reservations_grant_exactly_the_quota(ledger: Any) -> None:
    results = await asyncio.gather(*(ledger.reserve(USER, 1) for _ in range(200)), return_exceptions=True)
    granted = [r for r in results if isinstance(r, Reservation)]
    refused = [r for r in results if isinstance(r, QuotaExceeded)]
    assert len(granted) == 5 and len(refused) == 195
    assert len({r.id for r in granted}) == 5
    assert all(e.scope == "daily" and e.limit == 5 for e in refused)
    await asyncio.gather(*(ledger.settle(r.id, 1) for r in granted))
    status = await ledger.quota(USER)
    assert (status.day_used, status.month_used, status.left) == (5, 5, 0)
    assert await ledger.open_reservations() == 0


async def test_race_across_two_instances(make_ledger: MakeLedger) -> None:
    first, second = await make_ledger(), await make_ledger()

    async def one(store: Any) -> bool:
        reservation = await try_reserve(store)
        if reservation is None:
            return False
        await asyncio.sleep(0)
        await store.settle(reservation.id, 1)
        return True

    outcomes = await asyncio.gather(*(one(store) for _ in range(100) for store in (first, second)))
    assert outcomes.count(True) == 5
    assert (await first.quota(USER)).day_used == 5
    assert (await second.quota(USER)).month_used == 5


async def test_multi_unit_requests_never_overshoot(ledger: Any) -> None:
    results = await asyncio.gather(*(try_reserve(ledger, amount=2) for _ in range(50)))
    assert sum(r is not None for r in results) == 2
    assert (await ledger.quota(USER)).day_used == 4
    assert await try_reserve(ledger, amount=1) is not None
    assert await try_reserve(ledger, amount=1) is None


async def test_refund_restores_the_quota(ledger: Any) -> None:
    reservation = await ledger.reserve(USER, 5)
    assert (await ledger.quota(USER)).left == 0
    assert await try_reserve(ledger) is None
    await ledger.settle(reservation.id, 0)
    status = await ledger.quota(USER)
    assert (status.day_used, status.month_used, status.left) == (0, 0, 5)
    partial = await ledger.reserve(USER, 4)
    await ledger.settle(partial.id, 1)
    assert (await ledger.quota(USER)).day_used == 1


async def test_settle_is_idempotent_even_concurrently(make_ledger: MakeLedger) -> None:
    first, second = await make_ledger(), await make_ledger()
    reservation = await first.reserve(USER, 3)
    await asyncio.gather(*(store.settle(reservation.id, 2) for _ in range(20) for store in (first, second)))
    await second.settle(reservation.id, 0)  # a late refund after the commit changes nothing
    await first.settle(reservation.id, 3)
    assert (await first.quota(USER)).day_used == 2
    await first.settle(999_999, 1)  # unknown ids are ignored
    clamped = await first.reserve(USER, 2)
    await first.settle(clamped.id, 10)
    negative = await first.reserve(USER, 1)
    await first.settle(negative.id, -3)
    assert (await first.quota(USER)).day_used == 4
    assert await first.open_reservations() == 0


async def test_limits_and_reset_times(make_ledger: MakeLedger) -> None:
    store = await make_ledger(daily=100, monthly=7)
    await store.reserve(USER, 5, now=NOW)
    await store.reserve(USER, 2, now=NOW + timedelta(days=1))
    with pytest.raises(QuotaExceeded) as err:
        await store.reserve(USER, 1, now=NOW + timedelta(days=1))
    assert (err.value.scope, err.value.limit, err.value.used) == ("monthly", 7, 7)
    assert err.value.resets_at == datetime(2026, 4, 1, tzinfo=UTC)
    daily = await make_ledger(daily=5, monthly=100)
    await daily.reserve("discord:9", 4, now=NOW)
    with pytest.raises(QuotaExceeded) as err:
        await daily.reserve("discord:9", 2, now=NOW)
    assert (err.value.scope, err.value.limit, err.value.used) == ("daily", 5, 4)
    assert err.value.resets_at == datetime(2026, 3, 15, tzinfo=UTC)


async def test_overrides_block_and_unlimited(ledger: Any) -> None:
    await ledger.set_limits(USER, daily=2, monthly=None)
    status = await ledger.quota(USER)
    assert (status.day_limit, status.month_limit) == (2, 100)
    assert await try_reserve(ledger, amount=2) is not None
    assert await try_reserve(ledger) is None
    assert (await ledger.quota("discord:7")).day_limit == 5
    await ledger.set_limits(USER, daily=10, monthly=3)
    assert await try_reserve(ledger) is not None
    with pytest.raises(QuotaExceeded) as err:
        await ledger.reserve(USER, 1)
    assert err.value.scope == "monthly"
    await ledger.set_blocked(USER, True)
    with pytest.raises(UserBlocked):
        await ledger.reserve(USER, 1)
    with pytest.raises(UserBlocked):
        await ledger.reserve(USER, 1, unlimited=True)  # blocking beats admin rights
    assert (await ledger.quota(USER)).blocked
    await ledger.set_blocked(USER, False)
    assert (await ledger.quota(USER)).day_limit == 10  # blocking kept the overrides
    await ledger.set_limits(USER, daily=None, monthly=None)
    assert (await ledger.quota(USER)).day_limit == 5
    await ledger.set_limits("discord:0", daily=0, monthly=None)
    assert await try_reserve(ledger, "discord:0") is None

    for _ in range(4):
        reservation = await ledger.reserve("discord:admin", 15, unlimited=True)
        await ledger.settle(reservation.id, 15)
    admin = await ledger.quota("discord:admin", unlimited=True)
    assert admin.unlimited and admin.left is None and (admin.day_used, admin.month_used) == (60, 60)


async def test_an_operators_block_and_limits_are_marked_theirs(ledger: Any) -> None:
    """A server admin's change leaves the mark; an operator's marks the row while it holds a
    block or a limit, and clears it once they are all lifted (the bot's defaults again)."""
    await ledger.set_limits(USER, daily=3)
    assert not (await ledger.quota(USER)).by_operator
    await ledger.set_blocked(USER, True, by_operator=True)
    assert (await ledger.quota(USER)).by_operator
    await ledger.set_limits(USER, daily=1)  # a server admin tightens: still the operator's
    await ledger.set_blocked(USER, False)
    status = await ledger.quota(USER)
    assert status.by_operator and not status.blocked and status.day_limit == 1
    await ledger.set_limits(USER, daily=None, monthly=None, by_operator=True)
    assert not (await ledger.quota(USER)).by_operator
    await ledger.set_limits("discord:7", monthly=4, by_operator=True)  # a row made by the mark's change
    assert (await ledger.quota("discord:7")).by_operator
    assert not (await ledger.quota("discord:8")).by_operator  # no row


async def test_reset_usage_keeps_open_reservations(ledger: Any) -> None:
    done = await ledger.reserve(USER, 3, now=NOW)
    await ledger.settle(done.id, 3)
    held = await ledger.reserve(USER, 2, now=NOW)
    other = await ledger.reserve("discord:7", 2, now=NOW)
    await ledger.settle(other.id, 2)
    await ledger.reset_usage(USER, now=NOW)
    status = await ledger.quota(USER, now=NOW)
    assert (status.day_used, status.month_used) == (2, 2)
    await ledger.settle(held.id, 0)
    status = await ledger.quota(USER, now=NOW)
    assert (status.day_used, status.month_used) == (0, 0)
    assert (await ledger.quota("discord:7", now=NOW)).day_used == 2
    assert await try_reserve(ledger, amount=5, now=NOW) is not None


async def test_a_refund_lands_in_its_own_period(ledger: Any) -> None:
    late = datetime(2026, 3, 14, 23, 59, 59, 999000, tzinfo=UTC)
    midnight = datetime(2026, 3, 15, tzinfo=UTC)
    await ledger.reserve(USER, 5, now=late)
    assert await try_reserve(ledger, now=late) is None
    reservation = await ledger.reserve(USER, 5, now=midnight)
    assert (await ledger.quota(USER, now=midnight)).month_used == 10
    await ledger.settle(reservation.id, 0)
    assert (await ledger.quota(USER, now=late)).day_used == 5
    assert (await ledger.quota(USER, now=midnight)).day_used == 0


# -- jobs, lineage, blobs -----------------------------------------------------------------------


async def test_job_row_round_trip(ledger: Any) -> None:
    reservation = await ledger.reserve(USER, 2)
    job = make_job(
        "j1",
        workspace_id="g1",
        thread_id="t1",
        message_id="m0",
        reservation_id=reservation.id,
        created_at="2026-03-14T15:09:26.000+00:00",
    )
    await ledger.create_job(job, ())
    assert await ledger.get_job("j1") == job
    assert await ledger.get_job("nope") is None
    await ledger.update_job(
        "j1",
        status=JobStatus.RUNNING,
        provider="demo",
        provider_task_id="task-1",
        started_at="2026-03-14T15:09:27.000+00:00",
    )
    got = await ledger.get_job("j1")
    assert (got.status, got.provider, got.provider_task_id) == (JobStatus.RUNNING, "demo", "task-1")
    with pytest.raises(ValueError):
        await ledger.update_job("j1", user_key="someone else")
    await ledger.finish_job("j1", JobStatus.SUCCEEDED, delivered=2)
    got = await ledger.get_job("j1")
    assert (got.status, got.images_delivered, got.error_kind) == (JobStatus.SUCCEEDED, 2, None)
    assert got.finished_at and got.duration_ms is not None and got.duration_ms > 0
    await ledger.create_job(make_job("j2", kind="reroll", parent_id="j1"), ())
    await ledger.finish_job("j2", JobStatus.FAILED, error_kind="moderation", error="refused")
    child = await ledger.get_job("j2")
    assert (child.parent_id, child.kind, child.status, child.error_kind, child.error) == (
        "j1",
        "reroll",
        JobStatus.FAILED,
        "moderation",
        "refused",
    )


async def test_lineage(ledger: Any) -> None:
    async def done(job_id: str, thread: str | None, status: JobStatus, delivered: int, when: str) -> None:
        await ledger.create_job(make_job(job_id, thread_id=thread, created_at=when), ())
        await ledger.finish_job(job_id, status, delivered=delivered)

    await done("old", "t1", JobStatus.SUCCEEDED, 1, "2026-03-14T10:00:00.000+00:00")
    await done("new", "t1", JobStatus.SUCCEEDED, 2, "2026-03-14T11:00:00.000+00:00")
    await done("failed", "t1", JobStatus.FAILED, 0, "2026-03-14T12:00:00.000+00:00")
    await done("top", None, JobStatus.SUCCEEDED, 1, "2026-03-14T09:00:00.000+00:00")
    await ledger.create_job(make_job("s1", platform="slack"), ())
    assert (await ledger.latest_in_thread("discord", "c1", "t1")).id == "new"
    assert (await ledger.latest_in_thread("discord", "c1", None)).id == "top"
    assert await ledger.latest_in_thread("slack", "c1", "t1") is None
    await ledger.mark_deleted("new")  # deleted by its owner: the thread's latest is the one before
    await ledger.mark_deleted("new")  # again (two presses): the first time stays
    deleted = (await ledger.get_job("new")).deleted_at
    assert deleted and not (await ledger.get_job("new")).shows_result
    assert (await ledger.latest_in_thread("discord", "c1", "t1")).id == "old"
    assert (await ledger.get_job("old")).deleted_at is None
    assert await ledger.working_in_thread("discord", "c1", "t1") is None  # all finished
    await ledger.create_job(
        make_job("busy", thread_id="t1", status=JobStatus.RUNNING, user_key="discord:7"), ()
    )
    assert (await ledger.working_in_thread("discord", "c1", "t1")).id == "busy"
    assert await ledger.working_in_thread("discord", "c1", "t2") is None
    await ledger.finish_job("busy", JobStatus.FAILED)

    await ledger.link_messages("new", "discord", ["m1", "m2"])
    await ledger.link_messages("s1", "slack", ["m1"])
    found = await ledger.job_for_message("discord", "m2")
    assert found.id == "new" and found.result_message_ids == ("m1", "m2")
    assert (await ledger.job_for_message("slack", "m1")).id == "s1"
    assert await ledger.job_for_message("discord", "m3") is None
    # A job at work is found by the message it answers in (its status message) until linked.
    await ledger.create_job(
        make_job("w1", message_id="m3", status=JobStatus.RUNNING, user_key="discord:7"), ()
    )
    assert (await ledger.job_for_message("discord", "m3")).id == "w1"
    assert await ledger.job_for_message("slack", "m3") is None
    await ledger.finish_job("w1", JobStatus.FAILED)

    assert [j.id for j in await ledger.jobs_for_user(USER, limit=3)][:2] == ["s1", "failed"]
    assert [j.id for j in await ledger.unfinished_jobs()] == ["s1"]


async def test_inputs_and_outputs_round_trip(ledger: Any) -> None:
    inputs = (
        image(1, "cat.png"),
        ImageInput(
            data=b"\xff\xd8\xff" + b"j" * 50,
            mime="image/jpeg",
            width=30,
            height=40,
            name="dog.jpg",
            url="https://example.com/dog.jpg",
        ),
        image(1, "cat again.png"),
    )
    await ledger.create_job(make_job("j1"), inputs)
    got = await ledger.job_inputs("j1")
    assert [(i.data, i.mime, i.width, i.height) for i in got] == [
        (i.data, i.mime, i.width, i.height) for i in inputs
    ]
    assert got[1].url == "https://example.com/dog.jpg" and got[0].name == "cat.png"
    outputs = [
        GeneratedImage(bytes([9]) * 300, "image/jpeg", 2048, 2048),
        GeneratedImage(bytes([8]) * 300, "image/png", 1024, 512),
    ]
    await ledger.save_outputs("j1", outputs)
    await ledger.save_outputs("j1", outputs)  # saving again replaces, never duplicates
    results = await ledger.job_outputs("j1")
    assert [(r.data, r.mime, r.width, r.height) for r in results] == [
        (o.data, o.mime, o.width, o.height) for o in outputs
    ]
    assert [(r.name, output_of(r.blob or "")) for r in results] == [("", ("j1", 0)), ("", ("j1", 1))]
    assert all(r.source == "result:j1" for r in results)
    assert await ledger.job_outputs("nope") == []
    await ledger.create_job(make_job("j2", parent_id="j1"), (results[0],))
    assert (await ledger.job_inputs("j2"))[0].data == outputs[0].data


async def blob_count(store: Any) -> int:
    if isinstance(store, SQLiteLedger):
        return int((await store.db.execute_fetchall("SELECT COUNT(*) FROM blobs"))[0][0])
    return int(await store.pool.fetchval("SELECT count(*) FROM blobs"))


async def test_a_result_is_kept_once_and_never_hashed(ledger: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A result is new bytes: kept under its own key, not hashed (issue 17); used again as an
    edit's reference or saved to the cast, it is kept under that key, not a second time."""
    hashed: list[bytes] = []
    original = ledger_base._sha256

    def noting(datas: Any) -> list[str]:
        hashed.extend(datas)
        return original(datas)

    monkeypatch.setattr(ledger_base, "_sha256", noting)
    upload = image(1, "cat.png")
    await ledger.create_job(make_job("j1"), (upload, upload))
    assert hashed == [upload.data, upload.data] and await blob_count(ledger) == 1  # an upload: once
    hashed.clear()
    result = GeneratedImage(bytes([9]) * 300, "image/jpeg", 2048, 2048)
    await ledger.save_outputs("j1", [result, result])
    assert hashed == [] and await blob_count(ledger) == 3  # two results, each its own
    outputs = await ledger.job_outputs("j1")
    assert outputs[0].blob != outputs[1].blob and all(o.blob for o in outputs)
    await ledger.create_job(make_job("j2", parent_id="j1"), (outputs[0], upload))
    assert hashed == [upload.data]  # the fresh upload only
    assert await ledger.save_cast(USER, "mia", outputs[1], limit=5)
    assert hashed == [upload.data] and await blob_count(ledger) == 3
    (again,) = [entry.image for entry in await ledger.cast(USER)]
    assert again.data == result.data and again.blob == outputs[1].blob
    inputs = await ledger.job_inputs("j2")
    assert [i.data for i in inputs] == [result.data, upload.data] and inputs[0].blob == outputs[0].blob


async def test_expired_images_go_and_shared_blobs_stay(ledger: Any) -> None:
    shared, own, result = (
        image(1, "cat.png"),
        image(2, "dog.png"),
        GeneratedImage(bytes([7]) * 300, "image/png", 8, 8),
    )
    old = NOW - timedelta(days=40)
    await ledger.create_job(make_job("old", created_at=old.isoformat()), (shared, own))
    await ledger.save_outputs("old", [result])
    await ledger.finish_job("old", JobStatus.SUCCEEDED, delivered=1)
    await ledger.create_job(
        make_job("old-running", status=JobStatus.RUNNING, created_at=old.isoformat()), (own,)
    )
    await ledger.create_job(make_job("new", created_at=NOW.isoformat()), (shared,))
    await ledger.finish_job("new", JobStatus.SUCCEEDED, delivered=1)

    assert await ledger.expire_images(NOW - timedelta(days=30)) == (1, 1)  # jobs, blobs: the result
    assert await ledger.job_inputs("old") == [] and await ledger.job_outputs("old") == []
    assert (await ledger.get_job("old")).images_delivered == 1  # the job itself stays
    assert [i.data for i in await ledger.job_inputs("new")] == [shared.data]  # still used: kept
    assert [i.data for i in await ledger.job_inputs("old-running")] == [own.data]  # may resume
    assert await ledger.expire_images(NOW - timedelta(days=30)) == (0, 0)

    await ledger.finish_job("old-running", JobStatus.FAILED)
    await ledger.finish_job("new", JobStatus.SUCCEEDED, delivered=1)
    assert await ledger.expire_images(NOW + timedelta(days=1), limit=1) == (1, 1)
    assert await ledger.expire_images(NOW + timedelta(days=1), limit=1) == (1, 1)
    assert await ledger.expire_images(NOW + timedelta(days=1)) == (0, 0)
    assert await ledger.job_inputs("new") == [] and await ledger.job_inputs("old-running") == []


# -- job leases ---------------------------------------------------------------------------------


async def test_a_lease_is_taken_over_only_after_it_expires(make_ledger: MakeLedger) -> None:
    alive, other = await make_ledger(), await make_ledger()
    await alive.create_job(make_job("j1", status=JobStatus.RUNNING), ())
    assert await alive.claim_job("j1", "proc-a", 1.5)
    assert await alive.claim_job("j1", "proc-a", 1.5)  # re-claiming one's own job renews it
    assert not await other.claim_job("j1", "proc-b", 1.5)
    assert await other.take_over_expired("proc-b", 1.5) == []
    assert await alive.renew_leases("proc-a", 1.0) == ["j1"]
    job = await other.get_job("j1")
    assert job.owner == "proc-a" and job.lease_expires_at is not None

    await asyncio.sleep(1.2)  # proc-a stopped renewing: it died
    taken = await other.take_over_expired("proc-b", 30)
    assert [(j.id, j.owner, j.status) for j in taken] == [("j1", "proc-b", JobStatus.RUNNING)]
    assert await other.take_over_expired("proc-c", 30) == []  # nobody takes it twice
    assert await alive.renew_leases("proc-a", 30) == []  # the old owner learns it lost the job
    assert not await alive.claim_job("j1", "proc-a", 30)
    assert await other.renew_leases("proc-b", 30) == ["j1"]

    await other.finish_job("j1", JobStatus.SUCCEEDED, delivered=1)
    assert await other.renew_leases("proc-b", 30) == []
    assert not await other.claim_job("j1", "proc-b", 30)  # finished jobs are nobody's to claim


async def test_only_the_jobs_owner_settles_and_finishes_it(make_ledger: MakeLedger) -> None:
    """settle_job: the reservation and the job's outcome in one transaction, applied only while
    the caller still holds the job; a process that stalled past its lease changes nothing."""
    stalled, taker = await make_ledger(), await make_ledger()
    held = await stalled.reserve(USER, 2)
    await stalled.create_job(make_job("j1", status=JobStatus.RUNNING, reservation_id=held.id), ())
    assert await stalled.claim_job("j1", "proc-a", 0.2)
    await asyncio.sleep(0.4)
    assert [j.id for j in await taker.take_over_expired("proc-b", 30)] == ["j1"]

    # The stalled process wakes up and refunds (or delivers): not its job any more.
    assert not await stalled.settle_job(
        "j1", "proc-a", JobStatus.FAILED, reservation_id=held.id, error_kind="timeout"
    )
    job = await taker.get_job("j1")
    assert (job.status, job.owner, job.error_kind) == (JobStatus.RUNNING, "proc-b", None)
    assert await taker.open_reservations() == 1

    assert await taker.settle_job(
        "j1", "proc-b", JobStatus.SUCCEEDED, reservation_id=held.id, used=1, delivered=1
    )
    job = await taker.get_job("j1")
    assert (job.status, job.images_delivered) == (JobStatus.SUCCEEDED, 1)
    assert job.finished_at is not None and job.duration_ms is not None
    assert await taker.open_reservations() == 0
    assert (await taker.quota(USER)).day_used == 1  # one image committed, one refunded
    # Settled and finished once: nobody, the owner included, does it again.
    for owner in ("proc-a", "proc-b"):
        assert not await stalled.settle_job(
            "j1", owner, JobStatus.FAILED, reservation_id=held.id, error_kind="late"
        )
    assert (await taker.get_job("j1")).status == JobStatus.SUCCEEDED
    assert (await taker.quota(USER)).day_used == 1

    # A job nobody leased (SQLite, one process) is settled by whoever runs it.
    other = await stalled.reserve(USER, 1)
    await stalled.create_job(make_job("j2", reservation_id=other.id), ())
    assert await stalled.settle_job("j2", "proc-a", JobStatus.FAILED, reservation_id=other.id)
    assert (await stalled.get_job("j2")).status == JobStatus.FAILED
    assert await stalled.open_reservations() == 0


async def test_unclaimed_jobs_are_taken_over_after_a_grace_period(ledger: Any) -> None:
    await ledger.create_job(make_job("fresh"), ())
    await ledger.create_job(make_job("orphan", created_at="2026-03-14T10:00:00.000+00:00"), ())
    await ledger.create_job(make_job("done", created_at="2026-03-14T09:00:00.000+00:00"), ())
    await ledger.finish_job("done", JobStatus.FAILED)
    taken = await ledger.take_over_expired("proc-b", 30)
    assert [j.id for j in taken] == ["orphan"]


async def test_concurrent_take_overs_hand_each_job_to_one_process(make_ledger: MakeLedger) -> None:
    stores = [await make_ledger() for _ in range(4)]
    for n in range(30):
        await stores[0].create_job(make_job(f"j{n:02}", status=JobStatus.RUNNING), ())
        assert await stores[0].claim_job(f"j{n:02}", "dead", 0.2)
    await asyncio.sleep(0.4)

    async def sweep(store: Any, owner: str) -> list[str]:
        got: list[str] = []
        while batch := await store.take_over_expired(owner, 30, limit=3):
            got += [job.id for job in batch]
            await asyncio.sleep(0)
        return got

    shares = await asyncio.gather(*(sweep(stores[n % 4], f"proc-{n}") for n in range(8)))
    everything = [job_id for share in shares for job_id in share]
    assert sorted(everything) == [f"j{n:02}" for n in range(30)]  # every job once, none twice
    for n, share in enumerate(shares):
        for job_id in share:
            assert (await stores[0].get_job(job_id)).owner == f"proc-{n}"


# -- platform event dedupe ----------------------------------------------------------------------


async def test_first_sighting_is_shared_by_replicas(make_ledger: MakeLedger) -> None:
    first, second = await make_ledger(), await make_ledger()
    answers = await asyncio.gather(
        *(store.first_sighting("slack:T1:Ev123") for _ in range(25) for store in (first, second))
    )
    assert answers.count(True) == 1
    assert not await second.first_sighting("slack:T1:Ev123")
    assert await second.first_sighting("slack:T1:Ev124")
    assert not await first.first_sighting("slack:T1:Ev124")


async def test_first_sighting_forgets_after_the_retention(make_ledger: MakeLedger) -> None:
    store = await make_ledger(event_retention=1.0, prune_every=0.0)
    assert await store.first_sighting("a")
    assert not await store.first_sighting("a")
    await asyncio.sleep(1.2)
    assert await store.first_sighting("b")  # prunes "a"
    assert await store.first_sighting("a")
    assert not await store.first_sighting("a")


# -- opening ------------------------------------------------------------------------------------


async def test_open_ledger_picks_the_backend(backend: str, database: str) -> None:
    urls = [database]
    if backend == "postgres":
        urls.append(database.replace("postgresql://", "postgres://", 1))
    for url in urls:
        settings = Settings(_env_file=None, database=url, daily_images=3, monthly_images=9)  # type: ignore[call-arg]
        store = await open_ledger(settings)
        try:
            assert isinstance(store, PostgresLedger if backend == "postgres" else SQLiteLedger)
            status = await store.quota(USER)
            assert (status.day_limit, status.month_limit) == (3, 9)
        finally:
            await store.close()


async def test_a_database_a_newer_seedbot_migrated_is_refused(backend: str, database: str) -> None:
    """README: an older seedbot can't run on a database a newer one migrated. Every way of
    opening it refuses with one line naming both versions, and applies nothing."""
    known = max(int(f.name.split("_", 1)[0]) for f in (MIGRATIONS / "sqlite").glob("*.sql"))
    settings = Settings(_env_file=None, database=database)  # type: ignore[call-arg]
    store = await open_ledger(settings)
    try:
        if isinstance(store, PostgresLedger):
            await store.pool.execute("INSERT INTO schema_migrations (version) VALUES (99)")
        else:
            await store.db.execute("INSERT INTO schema_migrations VALUES (99, '2099-01-01')")
    finally:
        await store.close()
    for mode in ("read", "write", "run"):
        with pytest.raises(LedgerUnavailable) as refused:
            await open_ledger(settings, mode=mode)
        text = refused.value.user_text
        assert "\n" not in text
        assert f"schema version 99, but this seedbot knows versions up to {known}" in text, text
        assert "newer seedbot" in text


async def test_migrations_apply_once_even_when_replicas_start_together(
    backend: str, make_ledger: MakeLedger
) -> None:
    stores = await asyncio.gather(*(make_ledger() for _ in range(3)))
    reservation = await stores[0].reserve(USER, 2)
    await stores[1].settle(reservation.id, 2)
    again = await make_ledger()
    assert (await again.quota(USER)).day_used == 2
    if isinstance(again, PostgresLedger):
        rows = await again.pool.fetch("SELECT version FROM schema_migrations ORDER BY version")
    else:
        rows = await again.db.execute_fetchall("SELECT version FROM schema_migrations ORDER BY version")
    scripts = sorted((MIGRATIONS / backend).glob("*.sql"))
    assert len(scripts) >= 2
    assert [row[0] for row in rows] == [int(path.name.split("_", 1)[0]) for path in scripts]


async def test_a_job_begun_by_a_replica_whose_clock_is_ahead_took_no_less_than_nothing(ledger: Any) -> None:
    """Replicas on one PostgreSQL each write their own clock's time: one 3 s ahead started it,
    this one finished it, and PostgreSQL kept -2996 ms (Info: "took -3 s"); SQLite clamped it."""
    ahead = (datetime.now(UTC) + timedelta(seconds=3)).isoformat(timespec="milliseconds")
    await ledger.create_job(make_job("skewed", created_at=ahead), ())
    await ledger.finish_job("skewed", JobStatus.SUCCEEDED, delivered=1)
    assert (await ledger.get_job("skewed")).duration_ms == 0
    await ledger.create_job(make_job("owned", created_at=ahead), ())
    await ledger.settle_job("owned", "this-process", JobStatus.SUCCEEDED, reservation_id=None, delivered=1)
    assert (await ledger.get_job("owned")).duration_ms == 0

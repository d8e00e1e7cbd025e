from datetime import UTC, datetime, timedelta, timezone

from tests.daybreak import MARGIN, seconds_to_wait


def test_a_test_far_from_midnight_starts_at_once() -> None:
    assert seconds_to_wait(datetime(2026, 12, 7, 12, 0, tzinfo=UTC)) == 0.0
    assert seconds_to_wait(datetime(2026, 12, 7, 0, 0, 1, tzinfo=UTC)) == 0.0
    assert seconds_to_wait(datetime(2026, 12, 7, 23, 58, 29, tzinfo=UTC)) == 0.0


def test_a_test_near_midnight_waits_until_just_past_it() -> None:
    now = datetime(2026, 12, 7, 23, 59, 30, tzinfo=UTC)
    wait = seconds_to_wait(now)
    assert wait == 31.0
    assert (now + timedelta(seconds=wait)).date() == datetime(2026, 12, 8, tzinfo=UTC).date()
    assert seconds_to_wait(datetime(2026, 12, 31, 23, 59, 59, 500_000, tzinfo=UTC)) == 1.5


def test_midnight_is_utc_whatever_the_clock_says() -> None:
    # 01:59:30 in UTC+2 is 23:59:30 UTC; 23:59:30 in UTC+2 is far from a UTC midnight.
    plus_two = timezone(timedelta(hours=2))
    assert seconds_to_wait(datetime(2026, 12, 8, 1, 59, 30, tzinfo=plus_two)) == 31.0
    assert seconds_to_wait(datetime(2026, 12, 7, 23, 59, 30, tzinfo=plus_two)) == 0.0


def test_the_margin_covers_pytests_timeout_for_most_of_it() -> None:
    assert timedelta(seconds=60) <= MARGIN <= timedelta(seconds=120)

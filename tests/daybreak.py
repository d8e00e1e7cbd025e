"""Keep a test from straddling midnight UTC.

Quotas count per UTC day (bot/ledger/base.py), and many tests compare today's usage with an
exact number, some through bot subprocesses whose clock can't be shifted. A test that starts in
the last seconds of a day and finishes in the next reads a counter that reset under it; rather
than fail one run in a few hundred, the test waits for the new day first.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

# Longer than any one test takes on a busy 2-core machine (pytest's timeout is 120 s).
MARGIN = timedelta(seconds=90)


def seconds_to_wait(now: datetime, margin: timedelta = MARGIN) -> float:
    """How long to wait so that a test started now ends on the day it began: 0 unless midnight
    UTC is nearer than `margin`, else until just past it."""
    now = now.astimezone(UTC)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    left = midnight - now
    if left > margin:
        return 0.0
    return (left + timedelta(seconds=1)).total_seconds()

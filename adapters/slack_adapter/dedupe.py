"""Answer each user message once, though Slack may deliver it several times.

One message can arrive as an `app_mention` and a `message` event, and Slack retries either
(`X-Slack-Retry-Num`) when an ack is slow. Both carry the message's (channel, ts), which is
the key claimed here. Kept in memory with a TTL: Slack's last retry comes about 5 minutes
after the first delivery, so an hour is plenty. This is only the fast first filter: the
handler then asks the ledger (`first_sighting`), which decides across restarts and replicas.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

__all__ = ["SeenMessages"]


class SeenMessages:
    def __init__(
        self, *, ttl: float = 3600.0, max_entries: int = 50_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()

    def claim(self, key: str) -> bool:
        """True the first time `key` is claimed within the TTL, False for every repeat."""
        now = self._clock()
        self._expire(now)
        if key in self._seen:
            return False
        self._seen[key] = now
        while len(self._seen) > self.max_entries:
            self._seen.popitem(last=False)
        return True

    def _expire(self, now: float) -> None:
        while self._seen:
            key, at = next(iter(self._seen.items()))
            if now - at < self.ttl:
                break
            del self._seen[key]

    def __len__(self) -> int:
        return len(self._seen)

    @staticmethod
    def message_key(channel: str, ts: str) -> str:
        return f"{channel}:{ts}"

"""The playground's timeline: one thread per request, each a list of entries, pushed to every
open page over server-sent events.

    ask       what the user sent (text as typed, options picked, file names), or a button pressed
    status    the job's status line, edited in place: queue position, then progress
    result    a result's images, caption and actions
    note      a private answer (info, usage, deleted)
    refusal   a refusal or failure, in the core's words

Entries hold plain values only (no markup); the page renders user text with textContent.
A page that connects gets a snapshot of every thread, then each thread again whenever it
changes. Kept in memory and bounded: the oldest threads go first.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["MAX_THREADS", "Entry", "Subscriber", "Thread", "Timeline", "new_id", "sse"]

MAX_THREADS = 100
MAX_ENTRIES = 200  # per thread
SUBSCRIBER_BACKLOG = 500  # events a slow page may fall behind before it is made to reconnect


def new_id(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(6)}"


def sse(event: str, payload: Any) -> str:
    """One server-sent event (json.dumps never writes a raw newline)."""
    return f"event: {event}\ndata: {json.dumps(payload, ensure_ascii=False)}\n\n"


@dataclass
class Entry:
    id: str
    kind: str
    data: dict[str, Any]
    rev: int = 0

    def json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "rev": self.rev, **self.data}


@dataclass
class Thread:
    id: str
    title: str
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    entries: list[Entry] = field(default_factory=list)

    def json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "created": self.created,
            "entries": [e.json() for e in self.entries],
        }

    def find(self, entry_id: str) -> Entry | None:
        return next((e for e in self.entries if e.id == entry_id), None)


class Subscriber:
    """One open page's event stream."""

    def __init__(self, backlog: int = SUBSCRIBER_BACKLOG) -> None:
        self.backlog = backlog
        self.closed = False
        self._events: deque[str] = deque()
        self._wake = asyncio.Event()

    def push(self, text: str) -> None:
        if self.closed:
            return
        if len(self._events) >= self.backlog:
            self.close()  # the page reconnects and gets a fresh snapshot
            return
        self._events.append(text)
        self._wake.set()

    def close(self) -> None:
        self.closed = True
        self._wake.set()

    async def next(self, timeout: float) -> str | None:
        """The next event; "" when `timeout` passed without one; None once closed."""
        if not self._events and not self.closed:
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
        if self._events:
            return self._events.popleft()
        return None if self.closed else ""


class Timeline:
    def __init__(self, max_threads: int = MAX_THREADS) -> None:
        self.max_threads = max_threads
        self.threads: OrderedDict[str, Thread] = OrderedDict()
        self.subscribers: set[Subscriber] = set()

    # -- threads and entries ---------------------------------------------------------------------

    def new_thread(self, title: str) -> Thread:
        return self.ensure(new_id("t"), title)

    def ensure(self, thread_id: str, title: str) -> Thread:
        """The thread, made (last in the timeline) when it is not there: a button on a result the
        page no longer shows, or a job resumed after a restart."""
        thread = self.threads.get(thread_id)
        if thread is None:
            thread = self.threads[thread_id] = Thread(thread_id, title)
            while len(self.threads) > self.max_threads:
                old, _ = self.threads.popitem(last=False)
                self.publish("gone", {"id": old})
        return thread

    def get(self, thread_id: str) -> Thread | None:
        return self.threads.get(thread_id)

    def add(self, thread_id: str, kind: str, entry_id: str | None = None, **data: Any) -> Entry:
        thread = self.ensure(thread_id, str(data.get("text") or ""))
        entry = Entry(entry_id or new_id("e"), kind, data)
        thread.entries.append(entry)
        del thread.entries[:-MAX_ENTRIES]
        self.changed(thread)
        return entry

    def update(self, thread_id: str, entry_id: str, **data: Any) -> Entry | None:
        thread = self.threads.get(thread_id)
        entry = thread.find(entry_id) if thread else None
        if thread is None or entry is None:
            return None
        entry.data.update(data)
        entry.rev += 1
        self.changed(thread)
        return entry

    def remove(self, thread_id: str, entry_ids: set[str]) -> bool:
        thread = self.threads.get(thread_id)
        if thread is None:
            return False
        before = len(thread.entries)
        thread.entries = [e for e in thread.entries if e.id not in entry_ids]
        if len(thread.entries) == before:
            return False
        self.changed(thread)
        return True

    def hide(self, thread_id: str) -> bool:
        """Take a thread off the page (its jobs stay in the history)."""
        if self.threads.pop(thread_id, None) is None:
            return False
        self.publish("gone", {"id": thread_id})
        return True

    def changed(self, thread: Thread) -> None:
        if thread.id in self.threads:
            # `at`: when the change left the core (wall clock), for the page's latency figure.
            self.publish("thread", {**thread.json(), "at": time.time()})

    # -- pages -------------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        return {"threads": [t.json() for t in self.threads.values()]}

    def subscribe(self) -> Subscriber:
        subscriber = Subscriber()
        subscriber.push(sse("snapshot", self.snapshot()))
        self.subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)

    def publish(self, event: str, payload: Any) -> None:
        text = sse(event, payload)
        for subscriber in list(self.subscribers):
            subscriber.push(text)
            if subscriber.closed:
                self.subscribers.discard(subscriber)

    def close(self) -> None:
        """Shutting down: every stream ends."""
        for subscriber in list(self.subscribers):
            subscriber.close()
        self.subscribers.clear()

"""The process's wake-up board: streams and threads wait on a topic, commits wake them.

A wake-up is a hint, never data: whoever is woken re-reads the database, which stays the
record. Wake-ups come from commits in this process (``app.live.commit``) and, on
PostgreSQL, from commits in any other process (``app.live.postgres``, one ``LISTEN``
connection per process). Many wake-ups while a stream is busy collapse into one.
"""

from __future__ import annotations

import asyncio
import threading
from typing import NamedTuple


class Waiter(NamedTuple):
    loop: asyncio.AbstractEventLoop
    flag: asyncio.Event

    async def wait(self, timeout_s: float) -> bool:
        """Wait until woken or ``timeout_s`` passes; True when woken."""
        try:
            await asyncio.wait_for(self.flag.wait(), timeout=timeout_s)
        except TimeoutError:
            return False
        return True


class Topic:
    """What one kind of write wakes (``alerts``, ``sorties``); thread-safe."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._waiters: set[Waiter] = set()
        self._threads: set[threading.Event] = set()
        self.generation = 0  # bumped on every wake-up; shared caches compare it

    def subscribe(self) -> Waiter:
        """A waiter for the running event loop (an SSE stream)."""
        waiter = Waiter(asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._waiters.add(waiter)
        return waiter

    def unsubscribe(self, waiter: Waiter) -> None:
        with self._lock:
            self._waiters.discard(waiter)

    def watch(self, flag: threading.Event) -> None:
        """Set ``flag`` on every wake-up (a worker thread)."""
        with self._lock:
            self._threads.add(flag)

    def unwatch(self, flag: threading.Event) -> None:
        with self._lock:
            self._threads.discard(flag)

    @property
    def waiting(self) -> int:
        with self._lock:
            return len(self._waiters) + len(self._threads)

    def wake(self) -> None:
        with self._lock:
            self.generation += 1
            waiters = list(self._waiters)
            threads = list(self._threads)
        for flag in threads:
            flag.set()
        for waiter in waiters:
            if not waiter.loop.is_closed():
                waiter.loop.call_soon_threadsafe(waiter.flag.set)

    # The name the alert feed and the worker used before topics had names.
    notify = wake


ALERTS = Topic("alerts")
SORTIES = Topic("sorties")
TOPICS: dict[str, Topic] = {topic.name: topic for topic in (ALERTS, SORTIES)}


def wake_all() -> None:
    """Wake every topic (after a listener reconnects: what it missed is re-read)."""
    for topic in TOPICS.values():
        topic.wake()

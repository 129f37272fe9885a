"""Process-local wake-up hint for SSE streams: the database stays the source of truth.

After a session that wrote alerts commits, every waiting stream in this process is woken
and re-queries ``alerts WHERE id > :last``. Streams also re-query on a timer, so alerts
written by another process (the standalone worker, another replica) arrive within
``sse_poll_s`` even without a hint.
"""

from __future__ import annotations

import asyncio
import threading

from sqlalchemy import event
from sqlalchemy.orm import Session

ALERTS_WRITTEN = "alerts_written"


class AlertHub:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._threads: set[threading.Event] = set()
        self.generation = 0  # bumped on every notice; the stream feed compares it

    def watch(self, flag: threading.Event) -> None:
        """Set ``flag`` after every commit that wrote alerts (the embedded worker)."""
        with self._lock:
            self._threads.add(flag)

    def unwatch(self, flag: threading.Event) -> None:
        with self._lock:
            self._threads.discard(flag)

    def subscribe(self) -> tuple[asyncio.AbstractEventLoop, asyncio.Event]:
        waiter = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._waiters.add(waiter)
        return waiter

    def unsubscribe(self, waiter: tuple[asyncio.AbstractEventLoop, asyncio.Event]) -> None:
        with self._lock:
            self._waiters.discard(waiter)

    def notify(self) -> None:
        with self._lock:
            self.generation += 1
            waiters = list(self._waiters)
            threads = list(self._threads)
        for flag in threads:
            flag.set()
        for loop, event_flag in waiters:
            if not loop.is_closed():
                loop.call_soon_threadsafe(event_flag.set)


HUB = AlertHub()


def _after_commit(session: Session) -> None:
    if session.info.pop(ALERTS_WRITTEN, False):
        HUB.notify()


def _after_rollback(session: Session) -> None:
    session.info.pop(ALERTS_WRITTEN, None)


def install_listener() -> None:
    """Wake streams after commits that wrote alerts; idempotent."""
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)

"""Process-local wake-up hint for the live stream; the database stays the source of truth.

A session that wrote sortie events or telemetry sets ``session.info[LIVE_WRITTEN]``; after
it commits, every waiting stream in this process is woken and re-queries. Streams also
poll on a timer, so writes from another process arrive within ``sse_poll_s``.
"""

from __future__ import annotations

import asyncio
import threading

from sqlalchemy import event
from sqlalchemy.orm import Session

LIVE_WRITTEN = "sortie_live_written"


class LiveHub:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

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
            waiters = list(self._waiters)
        for loop, flag in waiters:
            if not loop.is_closed():
                loop.call_soon_threadsafe(flag.set)


HUB = LiveHub()


def mark(session: Session) -> None:
    session.info[LIVE_WRITTEN] = True


def _after_commit(session: Session) -> None:
    if session.info.pop(LIVE_WRITTEN, False):
        HUB.notify()


def _after_rollback(session: Session) -> None:
    session.info.pop(LIVE_WRITTEN, None)


def install_listener() -> None:
    """Wake live streams after commits that wrote sortie events or telemetry; idempotent."""
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)

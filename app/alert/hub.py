"""The alerts topic of ``app.live``: streams and the worker wait on ``HUB``; a unit of work
that wrote alerts calls ``mark(session)`` and everyone, in every process, wakes after it
commits. The database stays the source of truth; streams re-check it every
``SSE_POLL_S`` (a safety net, default 30 s) even without a wake-up.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app import live

HUB = live.ALERTS


def mark(session: Session) -> None:
    live.mark(session, live.ALERTS)


def install_listener() -> None:
    """Hook the commit events (idempotent; ``mark`` also does it)."""
    live.install()

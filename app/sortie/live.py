"""The sorties topic of ``app.live``: a unit of work that wrote sortie events or telemetry
calls ``mark(session)``; after it commits every live stream, in every process, wakes and
re-queries. The database stays the source of truth.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app import live

HUB = live.SORTIES


def mark(session: Session) -> None:
    live.mark(session, live.SORTIES)


def install_listener() -> None:
    """Hook the commit events (idempotent; ``mark`` also does it)."""
    live.install()

"""Worker entry points for sorties: the no-telemetry sweep."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from app.audit import service as audit_service
from app.db import session_scope
from app.sortie import telemetry as sortie_telemetry


def sweep_silent(factory: sessionmaker[Session], *, now: datetime, silence_s: float) -> int:
    """Flag flying sorties without telemetry for ``silence_s`` (run every few seconds)."""
    with session_scope(factory) as session:
        audit_service.set_actor(session, audit_service.Actor("worker:sortie-sweep", "system"))
        return sortie_telemetry.sweep_silent(session, now=now, silence_s=silence_s)

"""Worker entry point for the escalation timers stored on ``dispatches``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from app.audit import service as audit_service
from app.db import session_scope
from app.incident import evidence as evidence_service
from app.incident import service as incident_service
from app.storage import Storage

WORKER_ACTOR = audit_service.Actor("worker", "system")


def run_timers(factory: sessionmaker[Session], *, now: datetime) -> int:
    with session_scope(factory) as session:
        audit_service.set_actor(session, WORKER_ACTOR)
        return incident_service.run_due_timers(session, now=now)


def purge_evidence(
    factory: sessionmaker[Session],
    *,
    now: datetime,
    storage: Storage,
    minor_days: int,
    adult_days: int,
) -> int:
    with session_scope(factory) as session:
        audit_service.set_actor(session, WORKER_ACTOR)
        return evidence_service.purge_evidence(
            session, now=now, storage=storage, minor_days=minor_days, adult_days=adult_days
        )

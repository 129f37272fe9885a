"""Worker entry points: follow-up reminders and overdue escalation; person retention."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from app.audit import service as audit_service
from app.db import session_scope
from app.referral import service as referral_service

WORKER_ACTOR = audit_service.Actor("worker", "system")


def remind(
    factory: sessionmaker[Session],
    *,
    now: datetime,
    interval_s: int,
    escalate_after_s: int,
    remind_before_due_s: int = referral_service.REMIND_BEFORE_DUE_S,
) -> int:
    with session_scope(factory) as session:
        audit_service.set_actor(session, WORKER_ACTOR)
        return referral_service.send_reminders(
            session,
            now=now,
            interval_s=interval_s,
            escalate_after_s=escalate_after_s,
            remind_before_due_s=remind_before_due_s,
        )


def purge_persons(
    factory: sessionmaker[Session],
    *,
    now: datetime,
    minor_days: int,
    adult_days: int,
    ceiling_days: int,
) -> int:
    with session_scope(factory) as session:
        audit_service.set_actor(session, WORKER_ACTOR)
        return referral_service.redact_expired(
            session,
            now=now,
            minor_days=minor_days,
            adult_days=adult_days,
            ceiling_days=ceiling_days,
        )

"""The background work as plain functions over a :class:`Context`, shared by both engines.

The in-process worker (``app.worker.Worker``) calls them from its loop and threads; the
Celery tasks (``app.engine.tasks``) call the very same functions, one per task. Each is a
short transaction (or a few) on the database, safe to run twice or side by side: timers,
reminders, the sweep and fan-out claim their rows, webhook deliveries carry a lease and a
stable ``webhook-id``, a detection job is claimed with ``UPDATE ... WHERE status =
'queued'``. Running one twice therefore repeats nothing.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from app.alert import tasks as alert_tasks
from app.alert.signing import KeyRing
from app.config import Settings
from app.db import session_scope, utcnow
from app.detection_job import service as detection_job_service
from app.detection_job import tasks as detection_tasks
from app.detection_job.models import DetectionJobStatus
from app.incident import tasks as incident_tasks
from app.referral import tasks as referral_tasks
from app.sortie import tasks as sortie_tasks
from app.storage import evidence_storage

DELIVERIES_PER_TASK = 20  # then the endpoint's task hands its worker back (fairness)


@dataclass
class Context:
    """What every piece of background work needs: the database, the settings, the keys
    webhook secrets derive from, the sender and the clock."""

    factory: sessionmaker[Session]
    settings: Settings
    ring: KeyRing
    sender: alert_tasks.WebhookSender
    clock: Callable[[], datetime] = utcnow
    rng: random.Random = field(default_factory=random.Random)


def escalation_timers(ctx: Context) -> int:
    """Fire the due escalation and first-response timers."""
    return incident_tasks.run_timers(ctx.factory, now=ctx.clock())


def fan_out(ctx: Context) -> int:
    """The outbox: new alerts into one delivery row per matching webhook endpoint."""
    return alert_tasks.fan_out(ctx.factory, now=ctx.clock())


def endpoints_due(ctx: Context) -> list[int]:
    return alert_tasks.endpoints_due(ctx.factory, now=ctx.clock())


def deliver_endpoint(ctx: Context, endpoint_id: int, *, max_jobs: int = DELIVERIES_PER_TASK) -> int:
    """Send one endpoint's due deliveries (at most ``max_jobs``); returns the attempts."""
    return alert_tasks.deliver_endpoint(
        ctx.factory,
        ctx.ring,
        ctx.sender,
        endpoint_id,
        clock=ctx.clock,
        lease_s=ctx.settings.delivery_lease_s,
        rng=ctx.rng,
        max_jobs=max_jobs,
        retry_schedule_s=ctx.settings.webhook_retry_schedule_s,
    )


def reminders(ctx: Context) -> int:
    """Follow-up task reminders and escalations."""
    settings = ctx.settings
    return referral_tasks.remind(
        ctx.factory,
        now=ctx.clock(),
        interval_s=settings.task_reminder_interval_s,
        escalate_after_s=settings.task_escalate_after_s,
        remind_before_due_s=settings.task_remind_before_due_s,
    )


def silent_sorties(ctx: Context) -> int:
    """The no-telemetry sweep: flying sorties that went quiet."""
    return sortie_tasks.sweep_silent(
        ctx.factory, now=ctx.clock(), silence_s=ctx.settings.telemetry_silence_s
    )


def purge(ctx: Context) -> int:
    """Retention: evidence files and persons past their terms."""
    settings = ctx.settings
    now = ctx.clock()
    return incident_tasks.purge_evidence(
        ctx.factory,
        now=now,
        storage=evidence_storage(settings),
        minor_days=settings.retention_minor_days,
        adult_days=settings.retention_adult_days,
    ) + referral_tasks.purge_persons(
        ctx.factory,
        now=now,
        minor_days=settings.retention_minor_days,
        adult_days=settings.retention_adult_days,
        ceiling_days=settings.retention_ceiling_days,
    )


def recover_detection_jobs(ctx: Context) -> int:
    """Jobs of dead workers back to the queue (submitted again after commit) or failed."""
    return detection_tasks.recover(ctx.factory, settings=ctx.settings, now=ctx.clock())


def run_detection_job(
    ctx: Context, job_id: int, *, worker: str, stopping: threading.Event | None = None
) -> DetectionJobStatus | None:
    """Claim and run one detection job; ``None`` when it was not ours to run or finish."""
    return detection_tasks.run_job(
        ctx.factory,
        job_id,
        settings=ctx.settings,
        worker=worker,
        clock=ctx.clock,
        stopping=stopping,
    )


def detection_job_holder(ctx: Context, job_id: int) -> str | None:
    """The worker running the job now (``None``: not running)."""
    with session_scope(ctx.factory) as session:
        return detection_job_service.holder(session, job_id)

"""Composition root for background work: escalation timers, the alert outbox (fan-out and
webhook delivery), follow-up reminders, the retention purge and detection jobs.

It runs in-process in a daemon thread when ``WATERGUARD_EMBEDDED_WORKER`` is on (what
``waterguard serve`` does by default), or standalone as ``waterguard worker``. Every step
is a short transaction on the database, so several workers (or a worker killed at any
point) neither lose nor duplicate work: rows are claimed with ``FOR UPDATE SKIP LOCKED``
on PostgreSQL and deliveries carry a lease that a restarted worker takes over.

Detection jobs (videos, streams) run in the detection runner's own threads
(``app.detection_job.tasks.JobRunner``): a pass only re-queues jobs of dead workers and
hands queued ones to a free thread, so a long video never holds up alerts.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from app.alert import tasks as alert_tasks
from app.alert.hub import HUB
from app.alert.signing import KeyRing
from app.config import Settings
from app.db import utcnow
from app.detection_job import queue as detection_queue
from app.detection_job import tasks as detection_tasks
from app.incident import tasks as incident_tasks
from app.referral import tasks as referral_tasks
from app.sortie import tasks as sortie_tasks

log = logging.getLogger("waterguard.worker")
PURGE_INTERVAL = timedelta(hours=1)


@dataclass
class Worker:
    factory: sessionmaker[Session]
    settings: Settings
    secret_key: str
    clock: Callable[[], datetime] = utcnow
    sender: alert_tasks.WebhookSender | None = None
    rng: random.Random = field(default_factory=random.Random)
    _last_purge: datetime | None = None

    def __post_init__(self) -> None:
        self.ring = KeyRing(self.secret_key)
        if self.sender is None:
            self.sender = alert_tasks.HttpxWebhookSender(timeout_s=self.settings.webhook_timeout_s)
        self.pool = ThreadPoolExecutor(
            max_workers=self.settings.webhook_concurrency, thread_name_prefix="webhook"
        )
        self.detection = detection_tasks.JobRunner(self.factory, self.settings, clock=self.clock)

    def run_once(self) -> dict[str, int]:
        """One pass over every job; returns how much each did (tests drive this)."""
        assert self.sender is not None
        done = {
            "timers": incident_tasks.run_timers(self.factory, now=self.clock()),
            "fanned_out": alert_tasks.fan_out(self.factory, now=self.clock()),
            "sent": alert_tasks.deliver_due(
                self.factory,
                self.ring,
                self.sender,
                clock=self.clock,
                lease_s=self.settings.delivery_lease_s,
                pool=self.pool,
                rng=self.rng,
                retry_schedule_s=self.settings.webhook_retry_schedule_s,
            ),
            "reminders": referral_tasks.remind(
                self.factory,
                now=self.clock(),
                interval_s=self.settings.task_reminder_interval_s,
                escalate_after_s=self.settings.task_escalate_after_s,
                remind_before_due_s=self.settings.task_remind_before_due_s,
            ),
            "silent_sorties": sortie_tasks.sweep_silent(
                self.factory, now=self.clock(), silence_s=self.settings.telemetry_silence_s
            ),
            "detection_jobs": self.detection.step(),
        }
        now = self.clock()
        if self._last_purge is None or now - self._last_purge >= PURGE_INTERVAL:
            self._last_purge = now
            media_dir = self.settings.media_dir or self.settings.var_dir / "media"
            done["purged"] = incident_tasks.purge_evidence(
                self.factory,
                now=now,
                media_dir=media_dir,
                minor_days=self.settings.retention_minor_days,
                adult_days=self.settings.retention_adult_days,
            ) + referral_tasks.purge_persons(
                self.factory,
                now=now,
                minor_days=self.settings.retention_minor_days,
                adult_days=self.settings.retention_adult_days,
            )
        return done

    def run_forever(self, stop: threading.Event) -> None:
        wake = threading.Event()
        HUB.watch(wake)
        detection_queue.DEFAULT.watch(wake)
        try:
            while not stop.is_set():
                wake.clear()
                try:
                    done = self.run_once()
                except Exception:  # the loop edge: log with context and keep going
                    log.exception("worker pass failed; retrying after the poll interval")
                    done = {}
                if done.get("sent") or done.get("fanned_out"):
                    continue
                wake.wait(self.settings.worker_poll_s)
        finally:
            HUB.unwatch(wake)
            detection_queue.DEFAULT.unwatch(wake)

    def close(self) -> None:
        self.detection.close()
        self.pool.shutdown(wait=True)
        close = getattr(self.sender, "close", None)
        if callable(close):
            close()


@dataclass
class RunningWorker:
    worker: Worker
    thread: threading.Thread
    stop: threading.Event

    def shutdown(self, timeout_s: float = 10.0) -> None:
        self.stop.set()
        self.thread.join(timeout_s)
        self.worker.close()


def start_in_thread(worker: Worker) -> RunningWorker:
    stop = threading.Event()
    thread = threading.Thread(
        target=worker.run_forever, args=(stop,), name="waterguard-worker", daemon=True
    )
    thread.start()
    return RunningWorker(worker, thread, stop)


@asynccontextmanager
async def embedded_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the worker with the server when the settings ask for it."""
    settings: Settings = app.state.settings
    running = None
    if settings.embedded_worker:
        running = start_in_thread(
            Worker(app.state.sessionmaker, settings, secret_key=app.state.secret_key)
        )
        log.info("embedded worker started")
    try:
        yield
    finally:
        if running is not None:
            running.shutdown()


def run_standalone(settings: Settings, stop: threading.Event | None = None) -> None:
    """``waterguard worker``: the same loop in its own process, until SIGINT/SIGTERM."""
    from app.audit import service as audit_service
    from app.db import make_engine, make_sessionmaker

    audit_service.install_listener()
    engine = make_engine(settings.database_url)
    worker = Worker(make_sessionmaker(engine), settings, secret_key=settings.resolved_secret_key())
    stop = stop or threading.Event()
    try:
        worker.run_forever(stop)
    finally:
        worker.close()
        engine.dispose()

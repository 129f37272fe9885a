"""The two engines behind one test interface, so the task logic runs on both.

``embedded`` is the in-process worker (``app.worker.Worker``, what ``make run`` uses);
``celery`` runs the Celery tasks of ``app.engine.tasks`` eagerly in this process (the
broker is ``memory://``): the same tasks a deployed worker runs, the same work functions.
The multi-process tests (``tests/app/engine/cluster``) run them on a real broker.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from fastapi import FastAPI

from app import egress
from app.alert import tasks as alert_tasks
from app.alert.signing import KeyRing
from app.config import Settings
from app.detection_job.models import DetectionJobStatus
from app.detection_job.tasks import worker_name
from app.engine import tasks as engine_tasks
from app.engine import work
from app.worker import Worker

ENGINES = ["embedded", "celery"]


class Driver:
    """One round of the periodic work, and one detection job."""

    def tick(self) -> None:
        raise NotImplementedError

    def run_job(self, job_id: int) -> DetectionJobStatus | None:
        raise NotImplementedError


class Embedded(Driver):
    def __init__(self, worker: Worker) -> None:
        self.worker = worker

    def tick(self) -> None:
        self.worker.run_once()

    def run_job(self, job_id: int) -> DetectionJobStatus | None:
        return work.run_detection_job(self.worker.ctx, job_id, worker=worker_name())


class Eager(Driver):
    def tick(self) -> None:
        for task in (
            engine_tasks.escalation_timers,
            engine_tasks.relay_outbox,
            engine_tasks.reminders,
            engine_tasks.silent_sorties,
            engine_tasks.recover_detection_jobs,
        ):
            task.apply().get()

    def run_job(self, job_id: int) -> DetectionJobStatus | None:
        value = engine_tasks.detection_job.apply(args=(job_id,)).get()
        return DetectionJobStatus(value) if value is not None else None


@contextmanager
def driver(kind: str, app: FastAPI, clock: Callable[[], datetime]) -> Iterator[Driver]:
    settings: Settings = app.state.settings
    if kind == "embedded":
        worker = Worker(
            app.state.sessionmaker,
            settings,
            secret_key=app.state.secret_key,
            clock=clock,
            rng=random.Random(7),
        )
        try:
            yield Embedded(worker)
        finally:
            worker.close()
        return
    celery = engine_tasks.configure(settings.model_copy(update={"broker_url": "memory://"}))
    celery.conf.update(task_always_eager=True, task_eager_propagates=True)
    sender = alert_tasks.HttpxWebhookSender(
        timeout_s=settings.webhook_timeout_s, egress=egress.policy_of(settings)
    )
    ctx = work.Context(
        app.state.sessionmaker,
        settings,
        KeyRing(app.state.secret_key),
        sender,
        clock=clock,
        rng=random.Random(7),
    )
    engine_tasks.use_context(ctx)
    try:
        yield Eager()
    finally:
        engine_tasks.use_context(None)
        celery.conf.update(task_always_eager=False, task_eager_propagates=False)
        sender.close()

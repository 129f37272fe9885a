"""The job interface: ``JobQueue.submit(job_id)``, called after the job's row is committed.

The ``detection_jobs`` table is the queue and the source of truth: a job is ``queued`` until
a worker claims it with ``UPDATE ... WHERE status = 'queued'`` (``tasks.run_job``), so a
job submitted twice, or picked by two workers, runs once. The default
:class:`DatabaseQueue` only wakes in-process workers (``app.worker`` watches it); they
also poll, so jobs written by other processes are found within the poll interval.

A distributed task engine serves the same interface: its ``submit`` sends the job id to
the engine (e.g. ``run_detection_job.delay(job_id)`` for Celery), whose task calls
``app.detection_job.tasks.run_job`` with the same session factory and settings; the
in-process runner is switched off with ``WATERGUARD_DETECTION_CONCURRENCY=0``. Install it
with :func:`use` in the composition root.
"""

from __future__ import annotations

import threading
from typing import Protocol

from sqlalchemy import event
from sqlalchemy.orm import Session

SUBMITTED = "detection_jobs_submitted"


class JobQueue(Protocol):
    def submit(self, job_id: int) -> None:
        """Hand a committed, queued job to whoever runs jobs (may be called twice)."""
        ...


class DatabaseQueue:
    """The default queue: the table; ``submit`` wakes the threads watching it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flags: set[threading.Event] = set()
        self.submitted: list[int] = []  # recent ids, for tests and logs (bounded)

    def watch(self, flag: threading.Event) -> None:
        with self._lock:
            self._flags.add(flag)

    def unwatch(self, flag: threading.Event) -> None:
        with self._lock:
            self._flags.discard(flag)

    def submit(self, job_id: int) -> None:
        with self._lock:
            self.submitted = [*self.submitted[-99:], job_id]
            flags = list(self._flags)
        for flag in flags:
            flag.set()


DEFAULT = DatabaseQueue()
_current: list[JobQueue] = [DEFAULT]


def use(queue: JobQueue) -> None:
    """Replace the queue jobs are submitted to (a composition root's choice)."""
    _current[0] = queue


def current() -> JobQueue:
    return _current[0]


def mark_submitted(session: Session, job_id: int) -> None:
    """Submit ``job_id`` once ``session`` commits (never before: the row must be visible)."""
    install_listener()
    session.info.setdefault(SUBMITTED, []).append(job_id)


def _after_commit(session: Session) -> None:
    for job_id in session.info.pop(SUBMITTED, []):
        current().submit(job_id)


def _after_rollback(session: Session) -> None:
    session.info.pop(SUBMITTED, None)


def install_listener() -> None:
    """Submit marked jobs after commit; idempotent."""
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)

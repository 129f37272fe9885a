"""Composition root for background work: escalation timers, the alert outbox (fan-out and
webhook delivery), follow-up reminders, the retention purge and detection jobs.

It runs in-process in a daemon thread when ``WATERGUARD_EMBEDDED_WORKER`` is on (what
``waterguard serve`` does by default), or standalone as ``waterguard worker``. Every step
is a short transaction on the database, so several workers (or a worker killed at any
point) neither lose nor duplicate work: rows are claimed with ``FOR UPDATE SKIP LOCKED``
on PostgreSQL and deliveries carry a lease that a restarted worker takes over.

A pass never waits on the network: webhook delivery runs in per-endpoint queues on a
thread pool (``DeliveryQueues``), so a hanging receiver delays neither the escalation
timers nor any other endpoint. Each step of a pass is isolated: one that raises is logged
and the next step runs. Every pass (at most every 5 s) writes the worker's heartbeat,
which ``/readyz`` and ``/metrics`` read.

Detection jobs (videos, streams) run in the detection runner's own threads
(``app.detection_job.tasks.JobRunner``): a pass only re-queues jobs of dead workers and
hands queued ones to a free thread, so a long video never holds up alerts.

With ``WATERGUARD_BROKER_URL`` set, none of this runs in the API process: Celery workers
(``app.engine``) run the same work functions (``app.engine.work``) as tasks, and the API
only submits detection jobs and kicks the outbox relay after commits.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from app import egress
from app.alert import tasks as alert_tasks
from app.alert.hub import HUB
from app.alert.signing import KeyRing
from app.audit import service as audit_service
from app.config import Settings
from app.db import utcnow
from app.detection_job import queue as detection_queue
from app.detection_job import tasks as detection_tasks
from app.engine import work
from app.health import service as health_service

log = logging.getLogger("waterguard.worker")
PURGE_INTERVAL = timedelta(hours=1)
HEARTBEAT_INTERVAL = timedelta(seconds=5)
DELIVERIES_PER_TASK = work.DELIVERIES_PER_TASK  # then the endpoint's thread goes back


class DeliveryQueues:
    """One delivery queue per webhook endpoint, worked on a shared thread pool: an endpoint
    has at most one task in flight, and nobody waits for it. A tarpit endpoint ties up one
    thread and delays only its own messages; the worker loop only submits."""

    def __init__(self, pool: ThreadPoolExecutor, work: Callable[[int], int]) -> None:
        self._pool = pool
        self._work = work
        self._busy: set[int] = set()
        self._lock = threading.Lock()
        self.on_done: Callable[[], None] = lambda: None

    def submit(self, endpoint_ids: list[int]) -> list[Future[int]]:
        futures: list[Future[int]] = []
        for endpoint_id in endpoint_ids:
            with self._lock:
                if endpoint_id in self._busy:
                    continue
                self._busy.add(endpoint_id)
            futures.append(self._pool.submit(self._task, endpoint_id))
        return futures

    def _task(self, endpoint_id: int) -> int:
        try:
            return self._work(endpoint_id)
        except Exception:  # the task edge: log and free the queue for the next pass
            log.exception("webhook queue failed", extra={"endpoint_id": endpoint_id})
            return 0
        finally:
            with self._lock:
                self._busy.discard(endpoint_id)
            self.on_done()

    @property
    def busy(self) -> int:
        with self._lock:
            return len(self._busy)


@dataclass
class Worker:
    factory: sessionmaker[Session]
    settings: Settings
    secret_key: str
    clock: Callable[[], datetime] = utcnow
    sender: alert_tasks.WebhookSender | None = None
    rng: random.Random = field(default_factory=random.Random)
    _last_purge: datetime | None = None
    _last_beat: datetime | None = None
    _last_checkpoint: datetime | None = None

    def __post_init__(self) -> None:
        self.ring = KeyRing(self.secret_key)
        if self.sender is None:
            self.sender = alert_tasks.HttpxWebhookSender(
                timeout_s=self.settings.webhook_timeout_s, egress=egress.policy_of(self.settings)
            )
        # The same work functions the Celery tasks call (app.engine.work).
        self.ctx = work.Context(
            self.factory,
            self.settings,
            self.ring,
            self.sender,
            clock=lambda: self.clock(),  # tests move the worker's clock after it is built
            rng=self.rng,
        )
        self.pool = ThreadPoolExecutor(
            max_workers=self.settings.webhook_concurrency, thread_name_prefix="webhook"
        )
        self.queues = DeliveryQueues(self.pool, self._deliver_endpoint)
        self.detection = detection_tasks.JobRunner(self.factory, self.settings, clock=self.clock)
        self.name = f"worker:{socket.gethostname()}:{os.getpid()}:{id(self):x}"

    def _deliver_endpoint(self, endpoint_id: int) -> int:
        return work.deliver_endpoint(self.ctx, endpoint_id, max_jobs=DELIVERIES_PER_TASK)

    def _step(self, name: str, run: Callable[[], int]) -> int:
        """One step of a pass; a step that fails (a row that always fails, a database
        hiccup) is logged and the pass goes on with the next one."""
        try:
            return run()
        except Exception:  # the loop edge: log with context and keep going
            log.exception("worker step failed", extra={"step": name})
            return 0

    def run_once(self, *, wait: bool = True) -> dict[str, int]:
        """One pass over every job; returns how much each did (tests drive this).

        Delivery is handed to the endpoints' queues; ``wait`` (tests, the CLI) waits for
        them, the running loop does not, so timers and fan-out never wait on a receiver.
        """
        now = self.clock()
        done = {
            "timers": self._step("timers", lambda: work.escalation_timers(self.ctx)),
            "fanned_out": self._step("fan_out", lambda: work.fan_out(self.ctx)),
        }
        futures = self.queues.submit(
            self._step_list("deliveries", lambda: work.endpoints_due(self.ctx))
        )
        done["reminders"] = self._step("reminders", lambda: work.reminders(self.ctx))
        done["silent_sorties"] = self._step("silent_sorties", lambda: work.silent_sorties(self.ctx))
        done["detection_jobs"] = self._step("detection_jobs", self.detection.step)
        if self._last_purge is None or now - self._last_purge >= PURGE_INTERVAL:
            self._last_purge = now
            done["purged"] = self._step("purge", lambda: work.purge(self.ctx))
        self._step("audit checkpoint", lambda: self._checkpoint(now))
        self._beat(now)
        if wait:
            done["sent"] = sum(future.result() for future in futures)
        else:
            done["sent"] = len(futures)
        return done

    def _step_list(self, name: str, run: Callable[[], list[int]]) -> list[int]:
        try:
            return run()
        except Exception:  # the loop edge
            log.exception("worker step failed", extra={"step": name})
            return []

    def _checkpoint(self, now: datetime) -> int:
        self.checkpoint_audit(now)
        return 0

    def checkpoint_audit(self, now: datetime) -> None:
        """Every ``AUDIT_CHECKPOINT_INTERVAL_S``: verify the audit chain from the newest
        checkpoint and, when intact, sign a checkpoint of its head (outside the database)."""
        interval = timedelta(seconds=self.settings.audit_checkpoint_interval_s)
        if self._last_checkpoint is not None and now - self._last_checkpoint < interval:
            return
        self._last_checkpoint = now
        with self.factory() as session:
            report = audit_service.verify(
                session, checkpoints=audit_service.checkpoint_file(self.settings)
            )
        if not report.is_intact:
            log.error("audit chain broken at row %s: %s", report.first_bad_seq, report.problem)

    def _beat(self, now: datetime) -> None:
        """Tell readiness and /metrics that this worker is alive (a row per worker)."""
        if self._last_beat is not None and now - self._last_beat < HEARTBEAT_INTERVAL:
            return
        try:
            health_service.beat(self.factory, self.name, now=now)
        except Exception:  # no heartbeat is what readiness reports; the loop goes on
            log.exception("worker heartbeat failed")
            return
        self._last_beat = now

    def run_forever(self, stop: threading.Event) -> None:
        wake = threading.Event()
        HUB.watch(wake)
        detection_queue.DEFAULT.watch(wake)
        self.queues.on_done = wake.set
        try:
            while not stop.is_set():
                wake.clear()
                try:
                    done = self.run_once(wait=False)
                except Exception:  # the loop edge: log with context and keep going
                    log.exception("worker pass failed; retrying after the poll interval")
                    done = {}
                if done.get("fanned_out"):
                    continue
                wake.wait(self.settings.worker_poll_s)
        finally:
            self.queues.on_done = lambda: None
            HUB.unwatch(wake)
            detection_queue.DEFAULT.unwatch(wake)

    def close(self) -> None:
        self.detection.close()
        self.pool.shutdown(wait=True, cancel_futures=True)
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
    if settings.broker_url:
        # Distributed: Celery workers do the work; this process only hands it over.
        async with _broker_lifespan(settings):
            yield
        return
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


@asynccontextmanager
async def _broker_lifespan(settings: Settings) -> AsyncIterator[None]:
    from app.engine import tasks as engine_tasks
    from app.engine.client import CeleryJobQueue, RelayKick

    engine_tasks.configure(settings)
    detection_queue.use(CeleryJobQueue(engine_tasks.detection_job.delay))
    kick = RelayKick(engine_tasks.relay_outbox.delay)
    kick.start()
    log.info("background work goes to the broker")
    try:
        yield
    finally:
        kick.stop()
        detection_queue.use(detection_queue.DEFAULT)


def run_standalone(settings: Settings, stop: threading.Event | None = None) -> None:
    """``waterguard worker``: the same loop in its own process, until SIGINT/SIGTERM."""
    import app.models  # noqa: F401  (every table: a detection job's ORM work needs them all)
    from app.db import make_engine, make_sessionmaker

    audit_service.install_listener()
    engine = make_engine(settings.database_url)
    audit_service.use_key(engine, settings.resolved_audit_key())
    worker = Worker(make_sessionmaker(engine), settings, secret_key=settings.resolved_secret_key())
    stop = stop or threading.Event()
    try:
        worker.run_forever(stop)
    finally:
        worker.close()
        engine.dispose()

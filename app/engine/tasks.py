"""The Celery tasks: each is a thin shell over one function of :mod:`app.engine.work`.

The process's :class:`~app.engine.work.Context` (engine, keys, webhook sender) is built on
first use in each worker process (after the prefork fork, never before), from the
environment's settings, or installed by :func:`use_context` (tests, the benchmark).

- ``detection_job(job_id)``: late ack, one per worker process; a job still held by a
  worker that died (the message came back: ``redelivered``) is retried once that worker's
  lease has run out, when :func:`~app.engine.work.recover_detection_jobs` hands it over.
  Cancelling a job (``POST /detection-jobs/{id}/cancel``) stops the task at its next check.
- ``deliver_endpoint(endpoint_id)``: one endpoint's queue; sends itself again while more is
  due, so a busy endpoint never holds a worker for long and a slow one delays only itself.
- ``relay_outbox``: the outbox relay (new alerts into deliveries, a task per due endpoint).
- The beat ticks (timers, reminders, the no-telemetry sweep, retention purge, job recovery)
  run once per period however many workers and schedulers there are (:mod:`app.engine.locks`).
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from celery import Celery, Task, signals

import app.models  # noqa: F401  (every table, for the ORM's foreign keys)
from app import egress
from app.alert import tasks as alert_tasks
from app.alert.signing import KeyRing
from app.config import Settings, get_settings
from app.detection_job import queue as detection_queue
from app.detection_job.tasks import worker_name
from app.engine import celery_app as names
from app.engine import work
from app.engine.client import CeleryJobQueue, Heartbeat
from app.engine.locks import Always, OncePerPeriod, RedisOnce

log = logging.getLogger("waterguard.engine")
celery = Celery("waterguard")
_state: dict[str, Any] = {}
_lock = threading.Lock()


def configure(settings: Settings) -> Celery:
    """Point the app at ``settings``' broker, queues and schedule."""
    names.configure(celery, settings)
    with _lock:
        _state["settings"] = settings
    return celery


def use_context(ctx: work.Context | None, once: OncePerPeriod | None = None) -> None:
    """Install (or, with ``None``, drop) this process's context."""
    with _lock:
        _state.pop("pid", None)
        if ctx is None:
            _state.pop("ctx", None)
            _state.pop("once", None)
            return
        _state["ctx"] = ctx
        _state["once"] = once or Always()
        _state["pid"] = os.getpid()


def _build(settings: Settings) -> tuple[work.Context, OncePerPeriod]:
    from app.audit import service as audit_service
    from app.db import make_engine, make_sessionmaker

    audit_service.install_listener()
    engine = make_engine(settings.database_url)
    audit_service.use_key(engine, settings.resolved_audit_key())
    sender = alert_tasks.HttpxWebhookSender(
        timeout_s=settings.webhook_timeout_s, egress=egress.policy_of(settings)
    )
    ctx = work.Context(
        make_sessionmaker(engine), settings, KeyRing(settings.resolved_secret_key()), sender
    )
    once: OncePerPeriod = (
        RedisOnce(settings.redis_url, settings.broker_prefix) if settings.redis_url else Always()
    )
    # Jobs this process puts back in the queue (recovery) go to the broker after commit.
    detection_queue.use(CeleryJobQueue(detection_job.delay))
    return ctx, once


def context() -> tuple[work.Context, OncePerPeriod]:
    """This process's context, built once per process (a forked child builds its own)."""
    with _lock:
        if "ctx" in _state and _state.get("pid") in (None, os.getpid()):
            return _state["ctx"], _state["once"]
        settings = _state.get("settings") or get_settings()
        ctx, once = _build(settings)
        _state.update(ctx=ctx, once=once, pid=os.getpid())
        return ctx, once


@signals.worker_process_init.connect
def _forked(**_: Any) -> None:
    # The parent's connections must not be shared: the child builds its own context.
    with _lock:
        if _state.get("pid") not in (None, os.getpid()):
            _state.pop("ctx", None)


@signals.worker_ready.connect
def _ready(**_: Any) -> None:
    # The main process of each worker beats for /readyz (prefork children do the work).
    ctx, _once = context()
    beat = Heartbeat(ctx.factory, f"celery:{worker_name()}")
    beat.start()
    _state["heartbeat"] = beat


def _periodic(name: str, run: Any) -> int:
    ctx, once = context()
    period_s = names.periods_s(ctx.settings)[name]
    if not once.acquire(name, period_s=period_s):
        return 0
    done: int = run(ctx)
    return done


@celery.task(name=names.DETECTION_JOB, bind=True, acks_late=True, reject_on_worker_lost=True)
def detection_job(self: Task[Any, Any], job_id: int) -> str | None:
    ctx, _ = context()
    status = work.run_detection_job(ctx, job_id, worker=worker_name())
    if status is not None:
        return status.value
    delivery = getattr(self.request, "delivery_info", None) or {}
    if (delivery.get("redelivered") or self.request.retries) and work.detection_job_holder(
        ctx, job_id
    ):
        # Our message came back while the job still names a worker: that worker most likely
        # died with it. Once its lease runs out, recovery puts the job back; then we run it.
        work.recover_detection_jobs(ctx)
        if work.detection_job_holder(ctx, job_id):
            raise self.retry(
                countdown=ctx.settings.detection_lease_s / 2,
                max_retries=4 * ctx.settings.detection_max_attempts,
            )
        again = work.run_detection_job(ctx, job_id, worker=worker_name())
        return again.value if again is not None else None
    return None


@celery.task(name=names.DELIVER_ENDPOINT, acks_late=True)
def deliver_endpoint(endpoint_id: int) -> int:
    ctx, _ = context()
    sent = work.deliver_endpoint(ctx, endpoint_id)
    if sent >= work.DELIVERIES_PER_TASK:
        deliver_endpoint.delay(endpoint_id)  # more waiting: back of the line, others first
    return sent


def relay(ctx: work.Context) -> int:
    """The outbox relay: fan new alerts out, then one delivery task per due endpoint."""
    fanned = work.fan_out(ctx)
    for endpoint_id in work.endpoints_due(ctx):
        deliver_endpoint.delay(endpoint_id)
    return fanned


@celery.task(name=names.RELAY_OUTBOX, acks_late=True)
def relay_outbox() -> int:
    ctx, _ = context()
    return relay(ctx)


def _then_relay(run: Any) -> Any:
    """Work that may write alerts relays them at once (beat's relay tick is the backstop)."""

    def both(ctx: work.Context) -> int:
        done: int = run(ctx)
        if done:
            relay(ctx)
        return done

    return both


@celery.task(name=names.ESCALATION_TIMERS)
def escalation_timers() -> int:
    return _periodic(names.ESCALATION_TIMERS, _then_relay(work.escalation_timers))


@celery.task(name=names.REMINDERS)
def reminders() -> int:
    return _periodic(names.REMINDERS, _then_relay(work.reminders))


@celery.task(name=names.SILENT_SORTIES)
def silent_sorties() -> int:
    return _periodic(names.SILENT_SORTIES, _then_relay(work.silent_sorties))


@celery.task(name=names.RETENTION_PURGE)
def retention_purge() -> int:
    return _periodic(names.RETENTION_PURGE, work.purge)


@celery.task(name=names.RECOVER_DETECTION)
def recover_detection_jobs() -> int:
    return _periodic(names.RECOVER_DETECTION, work.recover_detection_jobs)


def run_worker(settings: Settings, *, concurrency: int, pool: str, queues: list[str]) -> None:
    """``waterguard worker`` with a broker: a Celery worker on this deployment's queues."""
    configure(settings)
    known = names.queue_names(settings.broker_prefix)
    chosen = [known[kind] for kind in queues] if queues else list(known.values())
    celery.worker_main(
        [
            "worker",
            f"--concurrency={concurrency}",
            f"--pool={pool}",
            f"--queues={','.join(chosen)}",
            f"--loglevel={settings.log_level}",
            f"--hostname=waterguard-{os.getpid()}@%h",
            "--without-gossip",
            "--without-mingle",
        ]
    )


def run_beat(settings: Settings) -> None:
    """``waterguard beat``: the one scheduler of the periodic ticks."""
    configure(settings)
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    celery.start(["beat", f"--loglevel={settings.log_level}"])

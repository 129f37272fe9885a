"""The Celery application: broker, queues, routing and the beat schedule, from the settings.

Three queues, all named after ``WATERGUARD_BROKER_PREFIX`` (so two deployments, or two test
suites, on one broker never take each other's messages): ``<prefix>.detection`` (long
jobs), ``<prefix>.webhooks`` (one task per endpoint) and ``<prefix>.periodic`` (the beat
ticks and the outbox relay). Detection tasks are acknowledged late, one at a time per worker
process (``worker_prefetch_multiplier=1``), and go back to the queue when their worker
process dies (``task_reject_on_worker_lost``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from celery import Celery
from kombu import Exchange, Queue

from app.config import Settings

PURGE_EVERY = timedelta(hours=1)

# Task names (stable: they are what the broker carries).
DETECTION_JOB = "waterguard.detection_job"
DELIVER_ENDPOINT = "waterguard.deliver_endpoint"
RELAY_OUTBOX = "waterguard.relay_outbox"
ESCALATION_TIMERS = "waterguard.escalation_timers"
REMINDERS = "waterguard.reminders"
SILENT_SORTIES = "waterguard.silent_sorties"
RETENTION_PURGE = "waterguard.retention_purge"
RECOVER_DETECTION = "waterguard.recover_detection_jobs"


def queue_names(prefix: str) -> dict[str, str]:
    return {kind: f"{prefix}.{kind}" for kind in ("detection", "webhooks", "periodic")}


def periods_s(settings: Settings) -> dict[str, float]:
    """How often beat sends each periodic task."""
    tick = settings.beat_tick_s
    return {
        ESCALATION_TIMERS: tick,
        RELAY_OUTBOX: tick,
        REMINDERS: tick,
        SILENT_SORTIES: tick,
        RECOVER_DETECTION: max(tick, settings.detection_lease_s / 4),
        RETENTION_PURGE: PURGE_EVERY.total_seconds(),
    }


def config_of(settings: Settings) -> dict[str, Any]:
    prefix = settings.broker_prefix
    names = queue_names(prefix)
    exchange = Exchange(prefix, type="direct")
    periods = periods_s(settings)
    return {
        "broker_url": settings.broker_url,
        "broker_connection_retry_on_startup": True,
        "task_default_exchange": prefix,
        "task_default_queue": names["periodic"],
        "task_default_routing_key": names["periodic"],
        "task_queues": [Queue(name, exchange, routing_key=name) for name in names.values()],
        "task_routes": {
            DETECTION_JOB: {"queue": names["detection"], "routing_key": names["detection"]},
            DELIVER_ENDPOINT: {"queue": names["webhooks"], "routing_key": names["webhooks"]},
        },
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_ignore_result": True,
        "task_serializer": "json",
        "accept_content": ["json"],
        # Control and event traffic stays inside this prefix too.
        "control_exchange": f"{prefix}.control",
        "event_exchange": f"{prefix}.events",
        "worker_hijack_root_logger": False,
        "beat_schedule": {
            name: {
                "task": name,
                "schedule": timedelta(seconds=period),
                # A tick nobody took within its period is dropped: the next one comes.
                "options": {"expires": max(period, 1.0)},
            }
            for name, period in periods.items()
        },
        "beat_schedule_filename": str(settings.var_dir / f"celerybeat-{prefix}"),
        "timezone": "UTC",
    }


def configure(app: Celery, settings: Settings) -> Celery:
    app.conf.update(config_of(settings))
    return app

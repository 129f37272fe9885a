"""Readiness (the database takes a write, a worker is alive) and the figures ``/metrics``
derives from the database: outbox lag, delivery backlog, dead deliveries, timer lateness,
the worker heartbeat."""

from __future__ import annotations

import math
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from prometheus_client import CollectorRegistry, Gauge, generate_latest
from sqlalchemy.orm import Session, sessionmaker

from app.alert.models import DeliveryStatus
from app.db import session_scope
from app.health.repository import HealthRepository

WORKER = "worker"
API = "api"
HEARTBEAT_KEEP = timedelta(days=1)  # rows of processes gone this long are pruned


def process_name(kind: str) -> str:
    return f"{kind}:{socket.gethostname()}:{os.getpid()}"


def beat(factory: sessionmaker[Session], name: str, *, now: datetime) -> None:
    """A worker's heartbeat: its own short transaction."""
    with session_scope(factory) as session:
        repo = HealthRepository(session)
        repo.upsert_heartbeat(name, WORKER, now)
        repo.prune_heartbeats(now - HEARTBEAT_KEEP)


@dataclass(frozen=True, slots=True)
class Readiness:
    worker_age_s: float | None  # None: no worker has ever beaten

    def worker_is_alive(self, max_age_s: float) -> bool:
        return self.worker_age_s is not None and self.worker_age_s <= max_age_s


def check_ready(factory: sessionmaker[Session], *, now: datetime) -> Readiness:
    """Commit a write (this process's probe row) and read the newest worker heartbeat.
    Raises SQLAlchemyError when the database does not take the write."""
    with session_scope(factory) as session:
        repo = HealthRepository(session)
        repo.upsert_heartbeat(process_name(API), API, now)
        last = repo.last_beat(WORKER)
    return Readiness(None if last is None else max((now - last).total_seconds(), 0.0))


def _age_s(since: datetime | None, now: datetime) -> float:
    return 0.0 if since is None else max((now - since).total_seconds(), 0.0)


def database_metrics(session: Session, *, now: datetime) -> bytes:
    """Prometheus text for the figures kept in the database (any process may serve them)."""
    repo = HealthRepository(session)
    registry = CollectorRegistry()

    def gauge(name: str, text: str, value: float) -> None:
        Gauge(name, text, registry=registry).set(value)

    gauge(
        "waterguard_outbox_lag_seconds",
        "Age of the oldest alert not yet fanned out to webhook deliveries (0: none waiting)",
        _age_s(repo.oldest_unfanned_alert(), now),
    )
    gauge(
        "waterguard_webhook_delivery_lag_seconds",
        "How long the longest-waiting due delivery of an enabled endpoint has waited",
        _age_s(repo.oldest_due_delivery(now), now),
    )
    counts = repo.deliveries_by_status()
    by_status = Gauge(
        "waterguard_webhook_deliveries",
        "Webhook deliveries by status",
        ["status"],
        registry=registry,
    )
    for status in DeliveryStatus:
        by_status.labels(status.value).set(counts.get(status.value, 0))
    gauge(
        "waterguard_webhook_deliveries_dead",
        "Webhook deliveries that gave up (retry schedule spent or 410); replay them",
        counts.get(DeliveryStatus.dead.value, 0),
    )
    gauge(
        "waterguard_timer_lateness_seconds",
        "How far past its deadline the most overdue escalation timer is (0: none overdue)",
        _age_s(repo.oldest_overdue_timer(now), now),
    )
    last = repo.last_beat(WORKER)
    gauge(
        "waterguard_worker_heartbeat_timestamp_seconds",
        "Unix time of the newest worker heartbeat (0: never)",
        0.0 if last is None else last.timestamp(),
    )
    gauge(
        "waterguard_worker_heartbeat_age_seconds",
        "Seconds since the newest worker heartbeat (+Inf: never)",
        math.inf if last is None else _age_s(last, now),
    )
    return generate_latest(registry)

"""Worker entry points for delivery: fan the outbox out to webhook deliveries, then send
due deliveries with Standard Webhooks headers, after commit, outside any transaction."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Protocol

import httpx
from sqlalchemy.orm import Session, sessionmaker

from app.alert import service as alert_service
from app.alert.service import DeliveryJob, SendResult
from app.alert.signing import KeyRing, signature_header
from app.audit import service as audit_service
from app.db import session_scope

log = logging.getLogger("waterguard.alert")
WORKER_ACTOR = audit_service.Actor("worker", "system")


class WebhookSender(Protocol):
    def send(self, job: DeliveryJob, *, timestamp: int) -> SendResult: ...


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None


class HttpxWebhookSender:
    """POSTs the stored body; no redirects (a 3xx is a failure), bounded timeout."""

    def __init__(self, *, timeout_s: float) -> None:
        self._client = httpx.Client(timeout=timeout_s, follow_redirects=False)

    def send(self, job: DeliveryJob, *, timestamp: int) -> SendResult:
        body = job.body.encode()
        headers = {
            "content-type": "application/json",
            "user-agent": "waterguard-webhooks/1",
            "webhook-id": job.message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature_header(
                list(job.secrets), job.message_id, timestamp, body
            ),
        }
        try:
            response = self._client.post(job.url, content=body, headers=headers)
        except httpx.TimeoutException as exc:
            return SendResult(None, f"timeout: {exc}")
        except httpx.HTTPError as exc:
            return SendResult(None, f"{type(exc).__name__}: {exc}")
        error = None if 200 <= response.status_code < 300 else response.text[:200]
        return SendResult(response.status_code, error, _retry_after(response))

    def close(self) -> None:
        self._client.close()


def fan_out(factory: sessionmaker[Session], *, now: datetime) -> int:
    with session_scope(factory) as session:
        audit_service.set_actor(session, WORKER_ACTOR)
        return alert_service.fan_out(session, now=now)


def deliver_due(
    factory: sessionmaker[Session],
    ring: KeyRing,
    sender: WebhookSender,
    *,
    clock: Callable[[], datetime],
    lease_s: int,
    pool: ThreadPoolExecutor | None = None,
    rng: random.Random | None = None,
    limit: int = 100,
    retry_schedule_s: Sequence[int] = alert_service.RETRY_SCHEDULE_S,
) -> int:
    """Claim (commit), send (no transaction open), record (commit). Returns jobs sent."""
    rng = rng or random.Random()
    with session_scope(factory) as session:
        audit_service.set_actor(session, WORKER_ACTOR)
        jobs = alert_service.claim_due(session, ring, now=clock(), lease_s=lease_s, limit=limit)
    if not jobs:
        return 0

    def one(job: DeliveryJob) -> tuple[DeliveryJob, SendResult]:
        timestamp = int(clock().timestamp())
        return job, sender.send(job, timestamp=timestamp)

    results = list(pool.map(one, jobs)) if pool is not None else [one(job) for job in jobs]
    with session_scope(factory) as session:
        audit_service.set_actor(session, WORKER_ACTOR)
        for job, result in results:
            status = alert_service.record_result(
                session, job, result, now=clock(), rng=rng, schedule=retry_schedule_s
            )
            if status is not None and not result.is_success:
                log.warning(
                    "webhook delivery failed",
                    extra={
                        "delivery_id": job.delivery_id,
                        "attempt": job.attempt,
                        "status_code": result.status_code,
                        "error": result.error,
                        "now": str(status),
                    },
                )
    return len(jobs)

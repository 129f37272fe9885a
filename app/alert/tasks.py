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
from app.egress import EgressPolicy, EgressTransport

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
    """POSTs the stored body; no redirects (a 3xx is a failure), bounded timeout. Every
    connect passes the egress policy (``app.egress.EgressTransport``): a refused address is a
    failed attempt (``ConnectError: refused by the egress policy ...``)."""

    def __init__(self, *, timeout_s: float, egress: EgressPolicy) -> None:
        self._client = httpx.Client(
            timeout=timeout_s, follow_redirects=False, transport=EgressTransport(egress)
        )

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


def send_one(sender: WebhookSender, job: DeliveryJob, *, timestamp: int) -> SendResult:
    """The one place a delivery goes out. Whatever the sender raises is this attempt's
    failure (recorded with backoff like a 500), never the worker's."""
    try:
        return sender.send(job, timestamp=timestamp)
    except Exception as exc:  # the delivery edge: one bad row must not stop the queue
        log.exception("webhook sender raised", extra={"delivery_id": job.delivery_id})
        return SendResult(None, f"{type(exc).__name__}: {exc}")


def _record(
    factory: sessionmaker[Session],
    job: DeliveryJob,
    result: SendResult,
    *,
    now: datetime,
    rng: random.Random,
    retry_schedule_s: Sequence[int] = alert_service.RETRY_SCHEDULE_S,
) -> None:
    with session_scope(factory) as session:
        audit_service.set_actor(session, WORKER_ACTOR)
        status = alert_service.record_result(
            session, job, result, now=now, rng=rng, schedule=retry_schedule_s
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


def deliver_endpoint(
    factory: sessionmaker[Session],
    ring: KeyRing,
    sender: WebhookSender,
    endpoint_id: int,
    *,
    clock: Callable[[], datetime],
    lease_s: int,
    rng: random.Random | None = None,
    max_jobs: int = 100,
    retry_schedule_s: Sequence[int] = alert_service.RETRY_SCHEDULE_S,
) -> int:
    """Work through one endpoint's queue, one delivery at a time: claim (commit), send (no
    transaction open), record (commit). Each result is saved as it comes, so a crash after
    a 2xx never re-sends that message; a slow endpoint only ever delays itself. Returns
    the attempts made (at most ``max_jobs``, so one busy endpoint hands its thread back)."""
    rng = rng or random.Random()
    sent = 0
    while sent < max_jobs:
        with session_scope(factory) as session:
            audit_service.set_actor(session, WORKER_ACTOR)
            jobs = alert_service.claim_due(
                session, ring, now=clock(), lease_s=lease_s, limit=1, endpoint_id=endpoint_id
            )
        if not jobs:
            break
        (job,) = jobs
        result = send_one(sender, job, timestamp=int(clock().timestamp()))
        _record(factory, job, result, now=clock(), rng=rng, retry_schedule_s=retry_schedule_s)
        sent += 1
    return sent


def endpoints_due(factory: sessionmaker[Session], *, now: datetime) -> list[int]:
    with session_scope(factory) as session:
        return alert_service.endpoints_due(session, now=now)


def deliver_due(
    factory: sessionmaker[Session],
    ring: KeyRing,
    sender: WebhookSender,
    *,
    clock: Callable[[], datetime],
    lease_s: int,
    pool: ThreadPoolExecutor | None = None,
    rng: random.Random | None = None,
    max_jobs: int = 100,
    retry_schedule_s: Sequence[int] = alert_service.RETRY_SCHEDULE_S,
) -> int:
    """Every endpoint's queue once, the endpoints side by side on ``pool``, and wait for
    them (the CLI and tests; the embedded worker submits per endpoint without waiting)."""
    rng = rng or random.Random()
    endpoint_ids = endpoints_due(factory, now=clock())

    def one(endpoint_id: int) -> int:
        return deliver_endpoint(
            factory,
            ring,
            sender,
            endpoint_id,
            clock=clock,
            lease_s=lease_s,
            rng=rng,
            max_jobs=max_jobs,
            retry_schedule_s=retry_schedule_s,
        )

    if pool is None:
        return sum(one(endpoint_id) for endpoint_id in endpoint_ids)
    return sum(pool.map(one, endpoint_ids))

"""Alerts: the outbox (written with the change), the SSE feed, webhook endpoints and
deliveries (fan-out, claim with a lease, record results with backoff, replay)."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

from sqlalchemy.orm import Session

from app.alert import hub
from app.alert.models import (
    Alert,
    AlertKind,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
)
from app.alert.repository import AlertRepository
from app.alert.schemas import WebhookEndpointCreate, WebhookEndpointUpdate
from app.alert.signing import KeyRing, new_salt, rotated
from app.auth.principal import Principal
from app.egress import EgressPolicy
from app.errors import Conflict, NotFound, Unprocessable
from app.jurisdiction import service as jurisdiction_service
from app.jurisdiction.models import Jurisdiction
from app.unit import service as unit_service

# Standard Webhooks' example schedule: wait this long after each failed attempt. The sum
# is about 75 hours, so a receiver that is down for a day still gets every message.
RETRY_SCHEDULE_S: tuple[int, ...] = (5, 300, 1_800, 7_200, 18_000, 36_000, 50_400, 72_000, 86_400)
JITTER = 0.1
MAX_RETRY_AFTER_S = 86_400


class AlertNotFound(NotFound):
    pass


class WebhookEndpointNotFound(NotFound):
    pass


class WebhookDeliveryNotFound(NotFound):
    pass


class DeliveryNotReplayable(Conflict):
    pass


class InvalidWebhookUnit(Unprocessable):
    pass


def enqueue(
    session: Session,
    *,
    kind: AlertKind,
    jurisdiction: Jurisdiction,
    payload: dict[str, Any],
    incident_id: int | None = None,
    unit_id: int | None = None,
    user_id: int | None = None,
    now: datetime,
) -> Alert:
    """Write an alert in the caller's transaction; it is delivered only after commit."""
    repo = AlertRepository(session)
    repo.lock_sequence()
    alert = repo.add(
        Alert(
            created_at=now,
            kind=kind,
            incident_id=incident_id,
            jurisdiction_id=jurisdiction.id,
            jurisdiction_path=jurisdiction.path,
            recipient_unit_id=unit_id,
            recipient_user_id=user_id,
            payload=payload,
        )
    )
    hub.mark(session)
    return alert


# The feed (SSE and its JSON fallback)


@dataclass(frozen=True, slots=True)
class Audience:
    """Whose alerts a caller receives: their own, their unit's, or (monitoring devices
    without a unit) everything under their jurisdiction."""

    user_id: int | None
    unit_id: int | None
    subtree: str | None

    @classmethod
    def of(cls, principal: Principal) -> Audience:
        if principal.kind == "user":
            return cls(principal.id, principal.ground_unit_id, None)
        if principal.ground_unit_id is not None:
            return cls(None, principal.ground_unit_id, None)
        return cls(None, None, principal.jurisdiction_path)

    def matches(self, *, user_id: int | None, unit_id: int | None, path: str) -> bool:
        return (
            (self.user_id is not None and user_id == self.user_id)
            or (self.unit_id is not None and unit_id == self.unit_id)
            or (self.subtree is not None and path.startswith(self.subtree))
        )


def alerts_after(
    session: Session,
    audience: Audience,
    after_id: int,
    *,
    limit: int = 200,
    until_id: int | None = None,
) -> Sequence[Alert]:
    repo = AlertRepository(session)
    clause = repo.audience(
        user_id=audience.user_id, unit_id=audience.unit_id, subtree=audience.subtree
    )
    return repo.after(clause, after_id, limit, until_id=until_id)


def all_alerts_after(session: Session, after_id: int, *, limit: int) -> Sequence[Alert]:
    """Every alert after ``after_id`` (the stream cache of one server process)."""
    return AlertRepository(session).after(None, after_id, limit)


def last_alert_id(session: Session) -> int:
    return AlertRepository(session).last_id()


def list_mine(
    session: Session, principal: Principal, *, limit: int, offset: int
) -> tuple[Sequence[Alert], int]:
    audience = Audience.of(principal)
    repo = AlertRepository(session)
    clause = repo.audience(
        user_id=audience.user_id, unit_id=audience.unit_id, subtree=audience.subtree
    )
    return repo.page(clause, limit=limit, offset=offset)


def _is_for(alert: Alert, audience: Audience) -> bool:
    return (
        (audience.user_id is not None and alert.recipient_user_id == audience.user_id)
        or (audience.unit_id is not None and alert.recipient_unit_id == audience.unit_id)
        or (audience.subtree is not None and alert.jurisdiction_path.startswith(audience.subtree))
    )


def confirm_receipt(session: Session, principal: Principal, alert_id: int, now: datetime) -> Alert:
    """Idempotent: the first receipt time stays."""
    alert = AlertRepository(session).get(alert_id)
    if alert is None or not _is_for(alert, Audience.of(principal)):
        raise AlertNotFound(f"alert {alert_id} not found")
    if alert.received_at is None:
        alert.received_at = now
        session.flush()
    return alert


# Webhook endpoints


def _endpoint(session: Session, principal: Principal, endpoint_id: int) -> WebhookEndpoint:
    repo = AlertRepository(session)
    endpoint = repo.get_endpoint(endpoint_id)
    if endpoint is None or not principal.can_see(repo.jurisdiction_path(endpoint.jurisdiction_id)):
        raise WebhookEndpointNotFound(f"webhook endpoint {endpoint_id} not found")
    return endpoint


def get_endpoint(session: Session, principal: Principal, endpoint_id: int) -> WebhookEndpoint:
    return _endpoint(session, principal, endpoint_id)


def list_endpoints(
    session: Session, principal: Principal, *, limit: int, offset: int
) -> tuple[Sequence[WebhookEndpoint], int]:
    return AlertRepository(session).endpoints_under(
        principal.jurisdiction_path, limit=limit, offset=offset
    )


def create_endpoint(
    session: Session,
    principal: Principal,
    data: WebhookEndpointCreate,
    ring: KeyRing,
    *,
    egress: EgressPolicy,
) -> tuple[WebhookEndpoint, str]:
    jurisdiction = jurisdiction_service.get_for_assignment(session, principal, data.jurisdiction_id)
    if data.ground_unit_id is not None:
        unit = unit_service.get(session, principal, data.ground_unit_id)
        if (
            not AlertRepository(session)
            .jurisdiction_path(unit.station_id)
            .startswith(jurisdiction.path)
        ):
            raise InvalidWebhookUnit("the unit must belong to the endpoint's jurisdiction")
    egress.check_url(data.url)
    salt = new_salt()
    endpoint = AlertRepository(session).add_endpoint(
        WebhookEndpoint(
            jurisdiction_id=jurisdiction.id,
            ground_unit_id=data.ground_unit_id,
            url=data.url,
            description=data.description,
            key_salt=salt,
            signing_keys=[{"version": 1, "expires_at": None}],
        )
    )
    return endpoint, ring.secret(salt, 1)


def update_endpoint(
    session: Session,
    principal: Principal,
    endpoint_id: int,
    data: WebhookEndpointUpdate,
    *,
    egress: EgressPolicy,
) -> WebhookEndpoint:
    endpoint = _endpoint(session, principal, endpoint_id)
    if data.url is not None:
        egress.check_url(data.url)
        endpoint.url = data.url
    if "description" in data.model_fields_set:
        endpoint.description = data.description
    if data.is_enabled is not None:
        endpoint.is_enabled = data.is_enabled
        endpoint.disabled_reason = None if data.is_enabled else "disabled by a user"
    session.flush()
    return endpoint


def rotate_secret(
    session: Session,
    principal: Principal,
    endpoint_id: int,
    ring: KeyRing,
    *,
    now: datetime,
    overlap_s: int,
) -> tuple[WebhookEndpoint, str]:
    """A new secret signs from now on; the old ones keep signing for ``overlap_s``."""
    endpoint = _endpoint(session, principal, endpoint_id)
    keys = rotated(list(endpoint.signing_keys), now=now, overlap_s=overlap_s)
    endpoint.signing_keys = keys
    session.flush()
    return endpoint, ring.secret(endpoint.key_salt, int(keys[0]["version"]))


# Deliveries


def event_body(alert: Alert) -> tuple[str, str]:
    """Standard Webhooks payload ``{type, timestamp, data}``; thin: no personal data."""
    event_type = f"alert.{alert.kind}"
    body = {
        "type": event_type,
        "timestamp": alert.created_at.isoformat(),
        "data": {
            "alert_id": alert.id,
            "incident_id": alert.incident_id,
            "jurisdiction_id": alert.jurisdiction_id,
            "recipient_unit_id": alert.recipient_unit_id,
            **alert.payload,
        },
    }
    return event_type, json.dumps(body, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def fan_out(session: Session, *, now: datetime, limit: int = 500) -> int:
    """Create one delivery per (alert, matching endpoint); safe to repeat after a crash.

    Disabled endpoints get their deliveries too: they wait in the endpoint's queue and go
    out once it is enabled again (nothing said while a receiver was off is lost)."""
    repo = AlertRepository(session)
    alerts = repo.unfanned(limit)
    if not alerts:
        return 0
    endpoints = repo.endpoints_with_paths()
    existing = repo.existing_deliveries([a.id for a in alerts]) if endpoints else set()
    for alert in alerts:
        for endpoint, path in endpoints:
            if not alert.jurisdiction_path.startswith(path):
                continue
            if endpoint.ground_unit_id is not None and (
                endpoint.ground_unit_id != alert.recipient_unit_id
            ):
                continue
            if (alert.id, endpoint.id) in existing:
                continue
            event_type, body = event_body(alert)
            repo.add_delivery(
                WebhookDelivery(
                    alert_id=alert.id,
                    endpoint_id=endpoint.id,
                    jurisdiction_id=endpoint.jurisdiction_id,
                    message_id=f"msg_{uuid4().hex}",
                    event_type=event_type,
                    body=body,
                    next_attempt_at=now,
                )
            )
        alert.fanned_out_at = now
    session.flush()
    return len(alerts)


@dataclass(frozen=True, slots=True)
class DeliveryJob:
    delivery_id: int
    attempt: int
    url: str
    message_id: str
    body: str
    secrets: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SendResult:
    status_code: int | None
    error: str | None = None
    retry_after_s: float | None = None

    @property
    def is_success(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def endpoints_due(session: Session, *, now: datetime, limit: int = 1_000) -> list[int]:
    """Ids of enabled endpoints with something due in their queue."""
    return AlertRepository(session).endpoints_with_due_deliveries(now, limit)


def claim_due(
    session: Session,
    ring: KeyRing,
    *,
    now: datetime,
    lease_s: int,
    limit: int = 100,
    endpoint_id: int | None = None,
) -> list[DeliveryJob]:
    """Lease due deliveries (of one endpoint's queue when ``endpoint_id`` is given) to this
    sender; a sender that dies loses its lease, not the row."""
    repo = AlertRepository(session)
    jobs: list[DeliveryJob] = []
    for delivery in repo.due_deliveries(now, limit, endpoint_id=endpoint_id):
        endpoint = repo.get_endpoint(delivery.endpoint_id)
        if endpoint is None or not endpoint.is_enabled:  # disabled meanwhile: it waits
            continue
        delivery.status = DeliveryStatus.sending
        delivery.lease_until = now + timedelta(seconds=lease_s)
        delivery.attempts += 1
        jobs.append(
            DeliveryJob(
                delivery_id=delivery.id,
                attempt=delivery.attempts,
                url=endpoint.url,
                message_id=delivery.message_id,
                body=delivery.body,
                secrets=tuple(ring.active(endpoint.key_salt, endpoint.signing_keys, now)),
            )
        )
    session.flush()
    return jobs


def backoff_s(
    attempts: int, rng: random.Random, schedule: Sequence[int] = RETRY_SCHEDULE_S
) -> float | None:
    """Seconds to wait after ``attempts`` failed tries; None when the schedule is spent."""
    if attempts > len(schedule):
        return None
    base = schedule[attempts - 1]
    return base * (1 + rng.uniform(-JITTER, JITTER))


def record_result(
    session: Session,
    job: DeliveryJob,
    result: SendResult,
    *,
    now: datetime,
    rng: random.Random,
    schedule: Sequence[int] = RETRY_SCHEDULE_S,
) -> DeliveryStatus | None:
    """Apply one attempt's outcome; ignored when the lease was taken over meanwhile."""
    repo = AlertRepository(session)
    delivery = repo.get_delivery(job.delivery_id)
    if delivery is None or delivery.status != DeliveryStatus.sending:
        return None
    if delivery.attempts != job.attempt:
        return None
    delivery.lease_until = None
    delivery.last_status_code = result.status_code
    delivery.last_error = (result.error or "")[:500] or None
    if result.is_success:
        delivery.status = DeliveryStatus.delivered
        delivery.delivered_at = now
    elif result.status_code == 410:
        delivery.status = DeliveryStatus.dead
        delivery.last_error = "410 Gone: endpoint disabled"
        endpoint = repo.get_endpoint(delivery.endpoint_id)
        if endpoint is not None:
            endpoint.is_enabled = False
            endpoint.disabled_reason = f"answered 410 Gone at {now.isoformat()}"
    else:
        wait = backoff_s(delivery.attempts, rng, schedule)
        if wait is None:
            delivery.status = DeliveryStatus.dead
        else:
            if result.retry_after_s is not None:
                wait = max(wait, min(result.retry_after_s, MAX_RETRY_AFTER_S))
            delivery.status = DeliveryStatus.pending
            delivery.next_attempt_at = now + timedelta(seconds=wait)
    session.flush()
    return DeliveryStatus(delivery.status)


def list_deliveries(
    session: Session,
    principal: Principal,
    *,
    status: DeliveryStatus | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[WebhookDelivery], int]:
    return AlertRepository(session).deliveries_under(
        principal.jurisdiction_path, status=status, limit=limit, offset=offset
    )


def _delivery(session: Session, principal: Principal, delivery_id: int) -> WebhookDelivery:
    repo = AlertRepository(session)
    delivery = repo.get_delivery(delivery_id)
    if delivery is None or not principal.can_see(repo.jurisdiction_path(delivery.jurisdiction_id)):
        raise WebhookDeliveryNotFound(f"webhook delivery {delivery_id} not found")
    return delivery


def get_delivery(session: Session, principal: Principal, delivery_id: int) -> WebhookDelivery:
    return _delivery(session, principal, delivery_id)


def replay(
    session: Session, principal: Principal, delivery_id: int, *, now: datetime
) -> WebhookDelivery:
    """Manual replay of a dead delivery: same webhook-id, a fresh retry schedule."""
    delivery = _delivery(session, principal, delivery_id)
    if delivery.status != DeliveryStatus.dead:
        raise DeliveryNotReplayable(f"delivery {delivery_id} is {delivery.status}, not dead")
    endpoint = AlertRepository(session).get_endpoint(delivery.endpoint_id)
    if endpoint is None or not endpoint.is_enabled:
        raise DeliveryNotReplayable("enable the endpoint before replaying its deliveries")
    delivery.status = DeliveryStatus.pending
    delivery.attempts = 0
    delivery.next_attempt_at = now
    delivery.last_error = None
    session.flush()
    return delivery

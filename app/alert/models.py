from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class AlertKind(StrEnum):
    dispatch = "dispatch"
    escalation = "escalation"
    ack_expired = "ack_expired"
    incident_update = "incident_update"
    referral = "referral"
    task_reminder = "task_reminder"
    task_overdue = "task_overdue"
    # Incident lifecycle (app.incident.events; catalogue in docs/events.md).
    incident_warned = "incident_warned"
    incident_cleared = "incident_cleared"
    incident_escalated = "incident_escalated"
    incident_dispatched = "incident_dispatched"
    incident_acknowledged = "incident_acknowledged"
    incident_on_scene = "incident_on_scene"
    incident_resolved = "incident_resolved"
    incident_closed = "incident_closed"
    # Issue 12: nobody is left unpaged.
    first_response = "first_response"  # operators: the ladder started without a response
    repage = "repage"  # command and duty officers, again, until someone acknowledges
    stand_down = "stand_down"  # a unit whose dispatch expired or was taken by another
    # Issue 14: a dock (or its aircraft) went offline while its sortie was flying.
    dock_offline = "dock_offline"


class Alert(Base):
    """The transactional outbox and the SSE event log in one table.

    A row is written in the same transaction as the change that causes it; ``id`` (an
    autoincrement: a sequence on PostgreSQL) is the SSE event id, so ``Last-Event-ID``
    resume is ``WHERE id > :last``. ``fanned_out_at`` marks rows whose webhook deliveries
    have been created by the worker.
    """

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[AlertKind] = mapped_column(String(24))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), default=None)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    jurisdiction_path: Mapped[str] = mapped_column(String(200))
    recipient_unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("ground_units.id"), default=None, index=True
    )
    recipient_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id"), default=None, index=True
    )
    payload: Mapped[dict[str, Any]]
    fanned_out_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    received_at: Mapped[datetime | None] = mapped_column(default=None)


class WebhookEndpoint(Base):
    """A receiver (unit terminal, other system) of Standard Webhooks pushes."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    ground_unit_id: Mapped[int | None] = mapped_column(ForeignKey("ground_units.id"), default=None)
    url: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(String(200), default=None)
    # Secrets are derived from the service key and this salt (app.alert.signing.KeyRing);
    # only the key versions are stored: [{"version": n, "expires_at": iso | None}, ...].
    key_salt: Mapped[str] = mapped_column(String(32))
    signing_keys: Mapped[list[dict[str, Any]]]
    is_enabled: Mapped[bool] = mapped_column(default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(200), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeliveryStatus(StrEnum):
    pending = "pending"
    sending = "sending"
    delivered = "delivered"
    dead = "dead"


class WebhookDelivery(Base):
    """One alert to one endpoint: attempts, schedule and the last error are data."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("alert_id", "endpoint_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id"), index=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    event_type: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[DeliveryStatus] = mapped_column(String(16), default=DeliveryStatus.pending)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(index=True)
    lease_until: Mapped[datetime | None] = mapped_column(default=None)
    last_status_code: Mapped[int | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(String(500), default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

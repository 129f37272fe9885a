"""Every query of the health checks and the database-derived metrics."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.alert.models import Alert, DeliveryStatus, WebhookDelivery, WebhookEndpoint
from app.dispatch.models import Dispatch, DispatchState
from app.health.models import Heartbeat
from app.incident.models import Incident, IncidentState


class HealthRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def upsert_heartbeat(self, name: str, kind: str, now: datetime) -> None:
        """A write that must reach the disk: insert or move ``beat_at`` (plain SQL)."""
        values = {"name": name, "kind": kind, "beat_at": now}
        if self.session.get_bind().dialect.name == "postgresql":
            pg = pg_insert(Heartbeat).values(values)
            self.session.execute(
                pg.on_conflict_do_update(index_elements=["name"], set_={"beat_at": now})
            )
            return
        lite = sqlite_insert(Heartbeat).values(values)
        self.session.execute(
            lite.on_conflict_do_update(index_elements=["name"], set_={"beat_at": now})
        )

    def prune_heartbeats(self, before: datetime) -> None:
        self.session.execute(delete(Heartbeat).where(Heartbeat.beat_at < before))

    def last_beat(self, kind: str) -> datetime | None:
        return self.session.scalar(
            select(func.max(Heartbeat.beat_at)).where(Heartbeat.kind == kind)
        )

    def oldest_unfanned_alert(self) -> datetime | None:
        return self.session.scalar(
            select(func.min(Alert.created_at)).where(Alert.fanned_out_at.is_(None))
        )

    def oldest_due_delivery(self, now: datetime) -> datetime | None:
        """When the longest-waiting due delivery of an enabled endpoint became due."""
        return self.session.scalar(
            select(func.min(WebhookDelivery.next_attempt_at))
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(
                WebhookEndpoint.is_enabled.is_(True),
                WebhookDelivery.status.in_([DeliveryStatus.pending, DeliveryStatus.sending]),
                WebhookDelivery.next_attempt_at <= now,
            )
        )

    def deliveries_by_status(self) -> Mapping[str, int]:
        query = select(WebhookDelivery.status, func.count()).group_by(WebhookDelivery.status)
        return {str(row[0]): int(row[1]) for row in self.session.execute(query)}

    def oldest_overdue_timer(self, now: datetime) -> datetime | None:
        """The earliest escalation deadline that has passed and not been acted on."""
        ack = self.session.scalar(
            select(func.min(Dispatch.ack_deadline)).where(
                Dispatch.state == DispatchState.pending, Dispatch.ack_deadline <= now
            )
        )
        on_scene = self.session.scalar(
            select(func.min(Dispatch.on_scene_deadline)).where(
                Dispatch.state == DispatchState.acknowledged,
                Dispatch.on_scene_deadline <= now,
            )
        )
        first_response = self.session.scalar(
            select(func.min(Incident.response_due_at)).where(
                Incident.state.in_([IncidentState.detected, IncidentState.warned]),
                Incident.response_due_at <= now,
            )
        )
        found = [t for t in (ack, on_scene, first_response) if t is not None]
        return min(found) if found else None

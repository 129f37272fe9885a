from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, false, func, or_, select
from sqlalchemy.orm import Session

from app.alert.models import Alert, DeliveryStatus, WebhookDelivery, WebhookEndpoint
from app.audit.models import AuditHead
from app.jurisdiction.models import Jurisdiction


class AlertRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def lock_sequence(self) -> None:
        """Hold the audit-head row lock (taken by every audited write anyway) before an
        alert gets its id, so alert ids become visible in commit order: a stream that has
        seen id N never later finds a lower id committed (no gaps behind Last-Event-ID)."""
        self.session.execute(select(AuditHead.id).where(AuditHead.id == 1).with_for_update())

    def add(self, alert: Alert) -> Alert:
        self.session.add(alert)
        self.session.flush()
        return alert

    def get(self, alert_id: int) -> Alert | None:
        return self.session.get(Alert, alert_id)

    @staticmethod
    def audience(
        *, user_id: int | None, unit_id: int | None, subtree: str | None
    ) -> ColumnElement[bool]:
        clauses: list[ColumnElement[bool]] = []
        if user_id is not None:
            clauses.append(Alert.recipient_user_id == user_id)
        if unit_id is not None:
            clauses.append(Alert.recipient_unit_id == unit_id)
        if subtree is not None:
            clauses.append(Alert.jurisdiction_path.startswith(subtree, autoescape=True))
        return or_(*clauses) if clauses else false()

    def after(
        self,
        audience: ColumnElement[bool] | None,
        after_id: int,
        limit: int,
        *,
        until_id: int | None = None,
    ) -> Sequence[Alert]:
        query = select(Alert).where(Alert.id > after_id)
        if audience is not None:
            query = query.where(audience)
        if until_id is not None:
            query = query.where(Alert.id <= until_id)
        return self.session.scalars(query.order_by(Alert.id).limit(limit)).all()

    def last_id(self) -> int:
        return int(self.session.scalar(select(func.max(Alert.id))) or 0)

    def page(
        self, audience: ColumnElement[bool], *, limit: int, offset: int
    ) -> tuple[Sequence[Alert], int]:
        query = select(Alert).where(audience)
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self.session.scalars(query.order_by(Alert.id.desc()).limit(limit).offset(offset))
        return rows.all(), total

    def unfanned(self, limit: int) -> Sequence[Alert]:
        query = (
            select(Alert)
            .where(Alert.fanned_out_at.is_(None))
            .order_by(Alert.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return self.session.scalars(query).all()

    # Webhook endpoints

    def add_endpoint(self, endpoint: WebhookEndpoint) -> WebhookEndpoint:
        self.session.add(endpoint)
        self.session.flush()
        return endpoint

    def get_endpoint(self, endpoint_id: int) -> WebhookEndpoint | None:
        return self.session.get(WebhookEndpoint, endpoint_id)

    def jurisdiction_path(self, jurisdiction_id: int) -> str:
        return (
            self.session.scalar(select(Jurisdiction.path).where(Jurisdiction.id == jurisdiction_id))
            or ""
        )

    def endpoints_under(
        self, path: str, *, limit: int, offset: int
    ) -> tuple[Sequence[WebhookEndpoint], int]:
        query = (
            select(WebhookEndpoint)
            .join(Jurisdiction, Jurisdiction.id == WebhookEndpoint.jurisdiction_id)
            .where(Jurisdiction.path.startswith(path, autoescape=True))
        )
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self.session.scalars(query.order_by(WebhookEndpoint.id).limit(limit).offset(offset))
        return rows.all(), total

    def endpoints_with_paths(self) -> Sequence[tuple[WebhookEndpoint, str]]:
        """Every endpoint, enabled or not: a disabled one keeps its deliveries for later."""
        query = select(WebhookEndpoint, Jurisdiction.path).join(
            Jurisdiction, Jurisdiction.id == WebhookEndpoint.jurisdiction_id
        )
        return [(row[0], row[1]) for row in self.session.execute(query)]

    # Deliveries

    def existing_deliveries(self, alert_ids: list[int]) -> set[tuple[int, int]]:
        query = select(WebhookDelivery.alert_id, WebhookDelivery.endpoint_id).where(
            WebhookDelivery.alert_id.in_(alert_ids)
        )
        return {(row[0], row[1]) for row in self.session.execute(query)}

    def add_delivery(self, delivery: WebhookDelivery) -> None:
        self.session.add(delivery)

    def get_delivery(self, delivery_id: int) -> WebhookDelivery | None:
        return self.session.get(WebhookDelivery, delivery_id)

    @staticmethod
    def _is_due(now: datetime) -> ColumnElement[bool]:
        """Pending rows that are due, and rows whose sender's lease ran out (crashed)."""
        return or_(
            (WebhookDelivery.status == DeliveryStatus.pending)
            & (WebhookDelivery.next_attempt_at <= now),
            (WebhookDelivery.status == DeliveryStatus.sending)
            & (WebhookDelivery.lease_until <= now),
        )

    def due_deliveries(
        self, now: datetime, limit: int, *, endpoint_id: int | None = None
    ) -> Sequence[WebhookDelivery]:
        """Due rows of enabled endpoints (one endpoint's queue when ``endpoint_id`` is given),
        oldest first; rows of a disabled endpoint wait, untouched, until it is enabled."""
        query = (
            select(WebhookDelivery)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(self._is_due(now), WebhookEndpoint.is_enabled.is_(True))
        )
        if endpoint_id is not None:
            query = query.where(WebhookDelivery.endpoint_id == endpoint_id)
        query = (
            query.order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(limit)
            .with_for_update(of=WebhookDelivery, skip_locked=True)
        )
        return self.session.scalars(query).all()

    def endpoints_with_due_deliveries(self, now: datetime, limit: int) -> list[int]:
        """Enabled endpoints whose queue has something due, the longest-waiting first."""
        query = (
            select(WebhookDelivery.endpoint_id)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(self._is_due(now), WebhookEndpoint.is_enabled.is_(True))
            .group_by(WebhookDelivery.endpoint_id)
            .order_by(func.min(WebhookDelivery.next_attempt_at))
            .limit(limit)
        )
        return [int(row) for row in self.session.scalars(query)]

    def deliveries_under(
        self, path: str, *, status: DeliveryStatus | None, limit: int, offset: int
    ) -> tuple[Sequence[WebhookDelivery], int]:
        query = (
            select(WebhookDelivery)
            .join(Jurisdiction, Jurisdiction.id == WebhookDelivery.jurisdiction_id)
            .where(Jurisdiction.path.startswith(path, autoescape=True))
        )
        if status is not None:
            query = query.where(WebhookDelivery.status == status)
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self.session.scalars(query.order_by(WebhookDelivery.id).limit(limit).offset(offset))
        return rows.all(), total

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.jurisdiction.models import Jurisdiction


class AuditRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def list_under(
        self, path: str | None, *, resource_type: str | None, limit: int, offset: int
    ) -> tuple[Sequence[AuditEvent], int]:
        """Rows of the jurisdictions under ``path``; every row when ``path`` is None.

        Rows of no jurisdiction (service-wide) are never under a path."""
        query = select(AuditEvent)
        if path is not None:
            visible = select(Jurisdiction.id).where(
                Jurisdiction.path.startswith(path, autoescape=True)
            )
            query = query.where(AuditEvent.jurisdiction_id.in_(visible))
        if resource_type is not None:
            query = query.where(AuditEvent.resource_type == resource_type)
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self.session.scalars(
            query.order_by(AuditEvent.seq.desc()).limit(limit).offset(offset)
        )
        return rows.all(), total

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.jurisdiction.models import Jurisdiction, JurisdictionKind


class JurisdictionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, jurisdiction_id: int) -> Jurisdiction | None:
        return self.session.get(Jurisdiction, jurisdiction_id)

    def get_by_code(self, code: str) -> Jurisdiction | None:
        return self.session.scalar(select(Jurisdiction).where(Jurisdiction.code == code))

    def list_under(
        self, path: str, *, kind: JurisdictionKind | None, limit: int, offset: int
    ) -> tuple[Sequence[Jurisdiction], int]:
        query = select(Jurisdiction).where(Jurisdiction.path.startswith(path, autoescape=True))
        if kind is not None:
            query = query.where(Jurisdiction.kind == kind)
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self.session.scalars(query.order_by(Jurisdiction.path).limit(limit).offset(offset))
        return rows.all(), total

    def add(self, jurisdiction: Jurisdiction) -> Jurisdiction:
        self.session.add(jurisdiction)
        self.session.flush()
        return jurisdiction

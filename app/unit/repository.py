from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.jurisdiction.models import Jurisdiction
from app.unit.models import GroundUnit, UnitStatus


class GroundUnitRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, unit_id: int) -> GroundUnit | None:
        return self.session.get(GroundUnit, unit_id)

    def get_by_call_sign(self, call_sign: str) -> GroundUnit | None:
        return self.session.scalar(select(GroundUnit).where(GroundUnit.call_sign == call_sign))

    def get_by_user(self, user_id: int) -> GroundUnit | None:
        return self.session.scalar(select(GroundUnit).where(GroundUnit.user_id == user_id))

    def station_path(self, unit: GroundUnit) -> str:
        return (
            self.session.scalar(select(Jurisdiction.path).where(Jurisdiction.id == unit.station_id))
            or ""
        )

    def list_under(
        self, path: str, *, status: UnitStatus | None, limit: int, offset: int
    ) -> tuple[Sequence[GroundUnit], int]:
        query = (
            select(GroundUnit)
            .join(Jurisdiction, Jurisdiction.id == GroundUnit.station_id)
            .where(Jurisdiction.path.startswith(path, autoescape=True))
        )
        if status is not None:
            query = query.where(GroundUnit.status == status)
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self.session.scalars(query.order_by(GroundUnit.id).limit(limit).offset(offset))
        return rows.all(), total

    def add(self, unit: GroundUnit) -> GroundUnit:
        self.session.add(unit)
        self.session.flush()
        return unit

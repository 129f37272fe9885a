from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.jurisdiction.models import Jurisdiction
from app.mission.models import Mission


class MissionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, mission_id: int) -> Mission | None:
        return self.session.get(Mission, mission_id)

    def station_path(self, mission: Mission) -> str:
        return (
            self.session.scalar(
                select(Jurisdiction.path).where(Jurisdiction.id == mission.station_id)
            )
            or ""
        )

    def list_under(
        self, path: str, *, waterway_id: int | None, limit: int, offset: int
    ) -> tuple[Sequence[Mission], int]:
        query = (
            select(Mission)
            .join(Jurisdiction, Jurisdiction.id == Mission.station_id)
            .where(Jurisdiction.path.startswith(path, autoescape=True))
        )
        if waterway_id is not None:
            query = query.where(Mission.waterway_id == waterway_id)
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self.session.scalars(query.order_by(Mission.id).limit(limit).offset(offset))
        return rows.all(), total

    def add(self, mission: Mission) -> Mission:
        self.session.add(mission)
        self.session.flush()
        return mission

    def delete(self, mission: Mission) -> None:
        self.session.delete(mission)
        self.session.flush()

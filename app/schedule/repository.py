from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.jurisdiction.models import Jurisdiction
from app.schedule.models import PatrolOperation, PatrolSchedule


class PatrolOperationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, operation_id: int) -> PatrolOperation | None:
        return self.session.get(PatrolOperation, operation_id)

    def path_of(self, jurisdiction_id: int) -> str:
        return (
            self.session.scalar(select(Jurisdiction.path).where(Jurisdiction.id == jurisdiction_id))
            or ""
        )

    def list_under(
        self, path: str, *, limit: int, offset: int
    ) -> tuple[Sequence[PatrolOperation], int]:
        query = (
            select(PatrolOperation)
            .join(Jurisdiction, Jurisdiction.id == PatrolOperation.jurisdiction_id)
            .where(Jurisdiction.path.startswith(path, autoescape=True))
        )
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self.session.scalars(
            query.order_by(PatrolOperation.starts_on.desc(), PatrolOperation.id)
            .limit(limit)
            .offset(offset)
        )
        return rows.all(), total

    def add(self, operation: PatrolOperation) -> PatrolOperation:
        self.session.add(operation)
        self.session.flush()
        return operation


class PatrolScheduleRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, schedule_id: int) -> PatrolSchedule | None:
        return self.session.get(PatrolSchedule, schedule_id)

    def list_under(
        self, path: str, *, waterway_id: int | None, limit: int, offset: int
    ) -> tuple[Sequence[PatrolSchedule], int]:
        query = (
            select(PatrolSchedule)
            .join(Jurisdiction, Jurisdiction.id == PatrolSchedule.station_id)
            .where(Jurisdiction.path.startswith(path, autoescape=True))
        )
        if waterway_id is not None:
            query = query.where(PatrolSchedule.waterway_id == waterway_id)
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self.session.scalars(query.order_by(PatrolSchedule.id).limit(limit).offset(offset))
        return rows.all(), total

    def add(self, schedule: PatrolSchedule) -> PatrolSchedule:
        self.session.add(schedule)
        self.session.flush()
        return schedule

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.jurisdiction.models import Jurisdiction
from app.waterway.models import FixedObject, FixedObjectStatus, NoFlyZone, Waterway


class WaterwayRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, waterway_id: int) -> Waterway | None:
        return self.session.get(Waterway, waterway_id)

    def fixed_objects(
        self, waterway_id: int, *, status: FixedObjectStatus | None = None
    ) -> Sequence[FixedObject]:
        query = select(FixedObject).where(FixedObject.waterway_id == waterway_id)
        if status is not None:
            query = query.where(FixedObject.status == status)
        return self.session.scalars(query.order_by(FixedObject.id)).all()

    def fixed_object(self, object_id: int) -> FixedObject | None:
        return self.session.get(FixedObject, object_id)

    def add_fixed_object(self, row: FixedObject) -> FixedObject:
        self.session.add(row)
        self.session.flush()
        return row

    def station_path(self, waterway: Waterway) -> str:
        return (
            self.session.scalar(
                select(Jurisdiction.path).where(Jurisdiction.id == waterway.station_id)
            )
            or ""
        )

    def list_under(
        self, path: str, *, station_id: int | None, limit: int, offset: int
    ) -> tuple[Sequence[Waterway], int]:
        query = (
            select(Waterway)
            .join(Jurisdiction, Jurisdiction.id == Waterway.station_id)
            .where(Jurisdiction.path.startswith(path, autoescape=True))
        )
        if station_id is not None:
            query = query.where(Waterway.station_id == station_id)
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self.session.scalars(query.order_by(Waterway.id).limit(limit).offset(offset))
        return rows.all(), total

    def add(self, waterway: Waterway) -> Waterway:
        self.session.add(waterway)
        self.session.flush()
        return waterway


class NoFlyZoneRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, zone_id: int) -> NoFlyZone | None:
        return self.session.get(NoFlyZone, zone_id)

    def jurisdiction_path(self, zone: NoFlyZone) -> str:
        return (
            self.session.scalar(
                select(Jurisdiction.path).where(Jurisdiction.id == zone.jurisdiction_id)
            )
            or ""
        )

    def list_under(self, path: str, *, limit: int, offset: int) -> tuple[Sequence[NoFlyZone], int]:
        query = (
            select(NoFlyZone)
            .join(Jurisdiction, Jurisdiction.id == NoFlyZone.jurisdiction_id)
            .where(Jurisdiction.path.startswith(path, autoescape=True))
        )
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self.session.scalars(query.order_by(NoFlyZone.id).limit(limit).offset(offset))
        return rows.all(), total

    def in_district_of(self, path: str, *, at: datetime | None) -> Sequence[NoFlyZone]:
        """Zones anywhere in the district of ``path`` (the planner decides which matter),
        those active at ``at`` when it is given."""
        district = "/" + path.strip("/").split("/")[0] + "/"
        query = (
            select(NoFlyZone)
            .join(Jurisdiction, Jurisdiction.id == NoFlyZone.jurisdiction_id)
            .where(Jurisdiction.path.startswith(district, autoescape=True))
        )
        if at is not None:
            query = query.where(
                or_(NoFlyZone.valid_until.is_(None), NoFlyZone.valid_until > at),
                or_(NoFlyZone.valid_from.is_(None), NoFlyZone.valid_from <= at),
            )
        return self.session.scalars(query.order_by(NoFlyZone.id)).all()

    def add(self, zone: NoFlyZone) -> NoFlyZone:
        self.session.add(zone)
        self.session.flush()
        return zone

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.drone.models import Drone
from app.jurisdiction.models import Jurisdiction


class DroneRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, drone_id: int) -> Drone | None:
        return self.session.get(Drone, drone_id)

    def get_by_serial(self, serial: str) -> Drone | None:
        return self.session.scalar(select(Drone).where(Drone.serial == serial))

    def station_path(self, drone: Drone) -> str:
        return (
            self.session.scalar(
                select(Jurisdiction.path).where(Jurisdiction.id == drone.station_id)
            )
            or ""
        )

    def list_under(self, path: str, *, limit: int, offset: int) -> tuple[Sequence[Drone], int]:
        query = (
            select(Drone)
            .join(Jurisdiction, Jurisdiction.id == Drone.station_id)
            .where(Jurisdiction.path.startswith(path, autoescape=True))
        )
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self.session.scalars(query.order_by(Drone.id).limit(limit).offset(offset))
        return rows.all(), total

    def add(self, drone: Drone) -> Drone:
        self.session.add(drone)
        self.session.flush()
        return drone

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.jurisdiction.models import Jurisdiction
from app.sighting.models import Sighting, SightingPlace


class SightingRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, sighting_id: int) -> Sighting | None:
        return self.session.get(Sighting, sighting_id)

    def get_by_client_id(self, reporter_key: str, client_id: str) -> Sighting | None:
        return self.session.scalar(
            select(Sighting).where(
                Sighting.reporter_key == reporter_key, Sighting.client_id == client_id
            )
        )

    def of_incident(self, incident_id: int) -> Sequence[Sighting]:
        query = select(Sighting).where(Sighting.incident_id == incident_id).order_by(Sighting.id)
        return self.session.scalars(query).all()

    def list_under(
        self, path: str, *, place: SightingPlace | None, limit: int, offset: int
    ) -> tuple[Sequence[Sighting], int]:
        """Sightings of the stations under ``path``, newest first."""
        query = (
            select(Sighting)
            .join(Jurisdiction, Jurisdiction.id == Sighting.station_id)
            .where(Jurisdiction.path.startswith(path, autoescape=True))
        )
        if place is not None:
            query = query.where(Sighting.place == place)
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self.session.scalars(
            query.order_by(Sighting.seen_at.desc(), Sighting.id.desc()).limit(limit).offset(offset)
        )
        return rows.all(), total

    def add(self, sighting: Sighting) -> Sighting:
        self.session.add(sighting)
        self.session.flush()
        return sighting

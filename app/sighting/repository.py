from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.sighting.models import Sighting


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

    def add(self, sighting: Sighting) -> Sighting:
        self.session.add(sighting)
        self.session.flush()
        return sighting

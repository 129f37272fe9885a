from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from app.dispatch.models import Dispatch
from app.incident.models import (
    OPEN_STATES,
    Evidence,
    EvidenceKind,
    Incident,
    IncidentEvent,
    IncidentState,
    IncidentWarning,
)
from app.jurisdiction.models import Jurisdiction, JurisdictionKind
from app.referral.models import Person, Referral
from app.sighting.models import Sighting
from app.waterway.models import Waterway


class IncidentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: Incident | IncidentEvent | IncidentWarning | Evidence) -> None:
        self.session.add(row)

    def get(self, incident_id: int) -> Incident | None:
        return self.session.get(Incident, incident_id)

    def jurisdiction(self, jurisdiction_id: int) -> Jurisdiction | None:
        return self.session.get(Jurisdiction, jurisdiction_id)

    def stations_under(self, path: str) -> Sequence[Jurisdiction]:
        query = select(Jurisdiction).where(
            Jurisdiction.kind == JurisdictionKind.station,
            Jurisdiction.path.startswith(path, autoescape=True),
        )
        return self.session.scalars(query.order_by(Jurisdiction.id)).all()

    def open_near(
        self,
        *,
        district_id: int,
        since: datetime,
        min_lon: float,
        max_lon: float,
        min_lat: float,
        max_lat: float,
    ) -> Sequence[Incident]:
        """Open incidents of a district seen since ``since`` inside a bounding box."""
        query = (
            select(Incident)
            .where(
                Incident.district_id == district_id,
                Incident.state.in_(list(OPEN_STATES)),
                Incident.last_seen_at >= since,
                Incident.lon.between(min_lon, max_lon),
                Incident.lat.between(min_lat, max_lat),
            )
            .order_by(Incident.last_seen_at.desc())
        )
        return self.session.scalars(query).all()

    def list_under(
        self,
        path: str,
        *,
        unit_id: int | None,
        state: IncidentState | None,
        limit: int,
        offset: int,
    ) -> tuple[Sequence[Incident], int]:
        visible = Jurisdiction.path.startswith(path, autoescape=True)
        if unit_id is not None:
            visible = or_(
                visible,
                Incident.id.in_(select(Dispatch.incident_id).where(Dispatch.unit_id == unit_id)),
            )
        query = (
            select(Incident)
            .join(Jurisdiction, Jurisdiction.id == Incident.station_id)
            .where(visible)
        )
        if state is not None:
            query = query.where(Incident.state == state)
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self.session.scalars(query.order_by(Incident.id.desc()).limit(limit).offset(offset))
        return rows.all(), total

    def waterway(self, waterway_id: int) -> Waterway | None:
        return self.session.get(Waterway, waterway_id)

    def due_first_responses(self, now: datetime, limit: int) -> Sequence[Incident]:
        """Incidents nobody responded to in time (claimed; other workers skip them)."""
        query = (
            select(Incident)
            .where(
                Incident.state.in_([IncidentState.detected, IncidentState.warned]),
                Incident.response_due_at <= now,
            )
            .order_by(Incident.response_due_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return self.session.scalars(query).all()

    def events(self, incident_id: int) -> Sequence[IncidentEvent]:
        query = (
            select(IncidentEvent)
            .where(IncidentEvent.incident_id == incident_id)
            .order_by(IncidentEvent.id)
        )
        return self.session.scalars(query).all()

    def warnings(self, incident_id: int) -> Sequence[IncidentWarning]:
        query = (
            select(IncidentWarning)
            .where(IncidentWarning.incident_id == incident_id)
            .order_by(IncidentWarning.id)
        )
        return self.session.scalars(query).all()

    # Evidence

    def get_evidence(self, evidence_id: int) -> Evidence | None:
        return self.session.get(Evidence, evidence_id)

    def opened_by(self, incident_id: int) -> str | None:
        """The reporter key of the incident's first sighting."""
        query = (
            select(Sighting.reporter_key)
            .where(Sighting.incident_id == incident_id)
            .order_by(Sighting.id)
            .limit(1)
        )
        return self.session.scalar(query)

    def sighting_incident(self, sighting_id: int) -> int | None:
        return self.session.scalar(select(Sighting.incident_id).where(Sighting.id == sighting_id))

    def evidence_of(self, incident_id: int) -> Sequence[Evidence]:
        query = select(Evidence).where(Evidence.incident_id == incident_id).order_by(Evidence.id)
        return self.session.scalars(query).all()

    def judged_frames(self) -> Sequence[Evidence]:
        query = (
            select(Evidence)
            .where(
                Evidence.verdict.is_not(None),
                Evidence.kind == EvidenceKind.frame,
                Evidence.storage_key.is_not(None),
            )
            .order_by(Evidence.id)
        )
        return [row for row in self.session.scalars(query) if row.box_px]

    def minor_identified(self, incident_id: int) -> bool:
        """Whether a minor has been identified on this incident (recorded on it, or
        referred for it)."""
        recorded = select(Person.id).where(
            Person.incident_id == incident_id, Person.is_minor.is_(True)
        )
        referred = (
            select(Person.id)
            .join(Referral, Referral.person_id == Person.id)
            .where(Referral.incident_id == incident_id, Person.is_minor.is_(True))
        )
        return bool(
            self.session.scalar(select(exists(recorded)))
            or self.session.scalar(select(exists(referred)))
        )

    def evidence_not_marked_minor(self, incident_id: int) -> Sequence[Evidence]:
        query = select(Evidence).where(
            Evidence.incident_id == incident_id,
            Evidence.shows_minor.is_(False),
            Evidence.purged_at.is_(None),
        )
        return self.session.scalars(query).all()

    def evidence_to_purge(
        self, *, minor_before: datetime, adult_before: datetime, limit: int
    ) -> Sequence[Evidence]:
        query = (
            select(Evidence)
            .where(
                Evidence.purged_at.is_(None),
                or_(
                    Evidence.shows_minor.is_(True) & (Evidence.created_at < minor_before),
                    Evidence.created_at < adult_before,
                ),
            )
            .order_by(Evidence.id)
            .limit(limit)
        )
        return self.session.scalars(query).all()

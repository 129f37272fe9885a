from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.errors import Conflict, Unprocessable
from app.incident import grouping
from app.incident import service as incident_service
from app.jurisdiction import service as jurisdiction_service
from app.sighting.models import Sighting
from app.sighting.repository import SightingRepository
from app.sighting.schemas import SightingCreate
from app.waterway import service as waterway_service

MAX_AGE = timedelta(hours=24)
MAX_AHEAD = timedelta(minutes=5)


class SightingTimeRefused(Unprocessable):
    pass


class SightingIdReused(Conflict):
    pass


def ingest(
    session: Session,
    principal: Principal,
    data: SightingCreate,
    *,
    now: datetime,
    distance_limit_m: float,
    window_s: int,
    zone: ZoneInfo,
) -> tuple[Sighting, bool]:
    """Store a sighting and group it into an incident. Returns (sighting, created)."""
    repo = SightingRepository(session)
    existing = repo.get_by_client_id(data.client_id)
    if existing is not None:
        if existing.reported_by != principal.actor_name:
            raise SightingIdReused(f"client_id {data.client_id!r} was used by another reporter")
        return existing, False
    if data.seen_at.tzinfo is None:
        raise SightingTimeRefused("seen_at must carry a time zone (UTC)")
    if data.seen_at > now + MAX_AHEAD or data.seen_at < now - MAX_AGE:
        raise SightingTimeRefused(f"seen_at {data.seen_at.isoformat()} is too far from now")
    waterway = waterway_service.locate(session, principal, lon=data.lon, lat=data.lat)
    if waterway is not None and data.jurisdiction_id is None:
        # The station that owns the waterway answers for it.
        station = jurisdiction_service.get_for_assignment(session, principal, waterway.station_id)
    else:
        station = grouping.owning_station(
            session, principal, lon=data.lon, lat=data.lat, jurisdiction_id=data.jurisdiction_id
        )
    incident = grouping.attach_sighting(
        session,
        station=station,
        facts=grouping.SightingFacts(
            lon=data.lon,
            lat=data.lat,
            seen_at=data.seen_at,
            people_count=data.people_count,
            is_deep_water=data.is_deep_water,
            is_suspected_minor=data.is_suspected_minor,
            has_left_water=data.has_left_water,
            waterway_id=waterway.id if waterway is not None else None,
        ),
        actor=principal.actor_name,
        now=now,
        distance_limit_m=distance_limit_m,
        window_s=window_s,
        zone=zone,
    )
    sighting = repo.add(
        Sighting(
            client_id=data.client_id,
            incident_id=incident.id,
            station_id=incident.station_id,
            sortie_ref=data.sortie_ref,
            track_id=data.track_id,
            lon=data.lon,
            lat=data.lat,
            seen_at=data.seen_at,
            people_count=data.people_count,
            is_deep_water=data.is_deep_water,
            is_suspected_minor=data.is_suspected_minor,
            has_left_water=data.has_left_water,
            confidence=data.confidence,
            reported_by=principal.actor_name,
        )
    )
    return sighting, True


def of_incident(session: Session, principal: Principal, incident_id: int) -> Sequence[Sighting]:
    incident = incident_service.get(session, principal, incident_id)
    return SightingRepository(session).of_incident(incident.id)

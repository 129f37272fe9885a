"""Grouping sightings into incidents: the owning station, severity, day or night, and the
nearest open incident in time and space (geodesic distance on WGS84)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from astral import Observer
from astral.sun import sun
from pyproj import Geod
from shapely.geometry import Point, shape
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.dispatch import service as dispatch_service
from app.incident import service as incident_service
from app.incident.models import Incident, IncidentState, Severity
from app.incident.repository import IncidentRepository
from app.jurisdiction import service as jurisdiction_service
from app.jurisdiction.models import Jurisdiction, JurisdictionKind

GEOD = Geod(ellps="WGS84")
METRES_PER_DEGREE_LAT = 111_000.0


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Geodesic distance on WGS84, in metres."""
    _, _, dist = GEOD.inv(lon1, lat1, lon2, lat2)
    return float(dist)


def owning_station(
    session: Session, principal: Principal, *, lon: float, lat: float, jurisdiction_id: int | None
) -> Jurisdiction:
    """The station whose boundary holds the point (among those the caller may see), else
    the caller's own station (or district)."""
    if jurisdiction_id is not None:
        return jurisdiction_service.get_for_assignment(
            session,
            principal,
            jurisdiction_id,
            kinds={JurisdictionKind.station, JurisdictionKind.district},
        )
    repo = IncidentRepository(session)
    point = Point(lon, lat)
    for station in repo.stations_under(principal.jurisdiction_path):
        if station.boundary and shape(station.boundary).covers(point):
            return station
    own = repo.jurisdiction(principal.jurisdiction_id)
    assert own is not None
    if own.kind == JurisdictionKind.community and own.parent_id is not None:
        parent = repo.jurisdiction(own.parent_id)
        if parent is not None:
            return parent
    return own


def is_night(lon: float, lat: float, at: datetime, zone: ZoneInfo) -> bool:
    """Between dusk and dawn at that place (astral); by the clock where the sun never sets."""
    local_date = at.astimezone(zone).date()
    try:
        times = sun(Observer(latitude=lat, longitude=lon), date=local_date, tzinfo=zone)
    except ValueError:
        hour = at.astimezone(zone).hour
        return hour >= 20 or hour < 6
    return not (times["dawn"] <= at.astimezone(UTC) <= times["dusk"])


def severity_of(incident: Incident) -> Severity:
    """A suspected child in deep water is critical on its own; otherwise points add up."""
    if incident.has_deep_water and incident.has_suspected_minor:
        return Severity.critical
    score = 0
    if incident.has_deep_water:
        score += 2
    if incident.has_suspected_minor:
        score += 2
    if incident.people_count >= 5:
        score += 2
    elif incident.people_count >= 3:
        score += 1
    if incident.is_night:
        score += 1
    if score >= 5:
        return Severity.critical
    if score >= 3:
        return Severity.high
    if score >= 2:
        return Severity.moderate
    return Severity.low


@dataclass(frozen=True, slots=True)
class SightingFacts:
    lon: float
    lat: float
    seen_at: datetime
    people_count: int
    is_deep_water: bool
    is_suspected_minor: bool
    has_left_water: bool = False
    waterway_id: int | None = None


def find_group(
    session: Session,
    *,
    district_id: int,
    facts: SightingFacts,
    distance_limit_m: float,
    window_s: int,
) -> Incident | None:
    """The nearest open incident of the district seen within the window and distance."""
    dlat = distance_limit_m / METRES_PER_DEGREE_LAT
    dlon = dlat / max(math.cos(math.radians(facts.lat)), 0.01)
    candidates = IncidentRepository(session).open_near(
        district_id=district_id,
        since=facts.seen_at - timedelta(seconds=window_s),
        min_lon=facts.lon - dlon,
        max_lon=facts.lon + dlon,
        min_lat=facts.lat - dlat,
        max_lat=facts.lat + dlat,
    )
    best: tuple[float, Incident] | None = None
    for incident in candidates:
        if incident.last_seen_at > facts.seen_at + timedelta(seconds=window_s):
            continue
        gap = distance_m(incident.lon, incident.lat, facts.lon, facts.lat)
        if gap <= distance_limit_m and (best is None or gap < best[0]):
            best = (gap, incident)
    return best[1] if best else None


def attach_sighting(
    session: Session,
    *,
    station: Jurisdiction,
    facts: SightingFacts,
    actor: str,
    now: datetime,
    distance_limit_m: float,
    window_s: int,
    zone: ZoneInfo,
    may_open: bool = True,
    device_key: str | None = None,
) -> Incident | None:
    """Group a sighting into an open incident nearby, or open a new one (unless
    ``may_open`` is False: then None when there is none).

    ``device_key``: the reporter key when a device reports; its "left the water" clears the
    incident only where ``incident_service.device_clear_refusal`` allows."""
    district_id = incident_service.district_id_of(station.path)
    incident = find_group(
        session,
        district_id=district_id,
        facts=facts,
        distance_limit_m=distance_limit_m,
        window_s=window_s,
    )
    night = is_night(facts.lon, facts.lat, facts.seen_at, zone)
    if incident is None and not may_open:
        return None
    if incident is None:
        incident = Incident(
            station_id=station.id,
            district_id=district_id,
            lon=facts.lon,
            lat=facts.lat,
            first_seen_at=facts.seen_at,
            last_seen_at=facts.seen_at,
            people_count=facts.people_count,
            sighting_count=1,
            has_deep_water=facts.is_deep_water,
            has_suspected_minor=facts.is_suspected_minor,
            is_night=night,
            detected_at=now,
            state=IncidentState.detected,
            waterway_id=facts.waterway_id,
        )
        incident.severity = severity_of(incident)
        incident.response_due_at = incident_service.first_response_due(session, incident)
        IncidentRepository(session).add(incident)
        session.flush()
        incident_service.log_event(
            session,
            incident,
            "detected",
            actor=actor,
            now=now,
            to_state=IncidentState.detected,
            detail={"lon": facts.lon, "lat": facts.lat, "people": facts.people_count},
        )
        if incident.response_due_at is not None and incident.response_due_at <= now:
            incident_service.arm_first_response(session, incident, actor=actor, now=now)
            incident_service.flush(session, incident)
        return incident
    incident.sighting_count += 1
    if incident.waterway_id is None:
        incident.waterway_id = facts.waterway_id
    if facts.seen_at >= incident.last_seen_at:
        incident.lon, incident.lat, incident.last_seen_at = facts.lon, facts.lat, facts.seen_at
    incident.first_seen_at = min(incident.first_seen_at, facts.seen_at)
    incident.people_count = max(incident.people_count, facts.people_count)
    incident.has_deep_water = incident.has_deep_water or facts.is_deep_water
    incident.has_suspected_minor = incident.has_suspected_minor or facts.is_suspected_minor
    incident.is_night = incident.is_night or night
    before = incident.severity
    incident.severity = severity_of(incident)
    incident_service.log_event(
        session,
        incident,
        "sighting",
        actor=actor,
        now=now,
        detail={"people": facts.people_count, "severity": incident.severity}
        if before == incident.severity
        else {"people": facts.people_count, "severity": incident.severity, "was": before},
    )
    if before != incident.severity and not facts.has_left_water:
        incident_service.arm_first_response(session, incident, actor=actor, now=now)
    if facts.has_left_water and incident.state in {IncidentState.detected, IncidentState.warned}:
        if (
            device_key is None
            or incident_service.device_clear_refusal(session, incident, reporter_key=device_key)
            is None
        ):
            incident_service.move(
                session,
                incident,
                IncidentState.cleared,
                actor=actor,
                now=now,
                detail={"reason": "the tracked people left the water"},
            )
    elif incident.state == IncidentState.warned and incident.last_warned_at is not None:
        grace = dispatch_service.policy_for(session, incident.district_id).warning_grace_s
        if facts.seen_at - incident.last_warned_at >= timedelta(seconds=grace):
            incident_service.start_ladder(
                session, incident, actor=actor, now=now, reason="warning ignored"
            )
    incident_service.flush(session, incident)
    return incident


def seen_together(
    session: Session, incident: Incident, *, people: int, actor: str, now: datetime
) -> None:
    """``people`` were seen at one moment (separate tracks that overlap in time): the
    incident's count is the most seen together, and its severity follows."""
    if people <= incident.people_count:
        return
    was = incident.people_count
    incident.people_count = people
    before = incident.severity
    incident.severity = severity_of(incident)
    detail: dict[str, object] = {"people": people, "was": was}
    if before != incident.severity:
        detail |= {"severity": incident.severity, "severity_was": before}
    incident_service.log_event(
        session, incident, "people_together", actor=actor, now=now, detail=detail
    )
    if before != incident.severity:
        incident_service.arm_first_response(session, incident, actor=actor, now=now)
    incident_service.flush(session, incident)

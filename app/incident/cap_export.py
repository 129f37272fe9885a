"""CAP 1.2 export of an incident (the XML itself is ``cap.py``); each export is audited."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.auth.principal import Principal
from app.incident import cap
from app.incident import service as incident_service
from app.incident.repository import IncidentRepository
from app.warnings import library as warning_messages


def export(
    session: Session,
    principal: Principal,
    incident_id: int,
    *,
    area: str,
    radius_km: float,
    sender: str,
    zone: ZoneInfo,
    expires_s: int,
) -> bytes:
    """The latest CAP message of the incident's series (app.incident.cap). ``area`` is
    ``water`` (the waterway's polygon; a circle when there is none), ``circle`` (around
    the people) or ``station`` (the owning station's polygon)."""
    incident = incident_service.get(session, principal, incident_id)
    repo = IncidentRepository(session)
    station = repo.jurisdiction(incident.station_id)
    assert station is not None
    waterway = repo.waterway(incident.waterway_id) if incident.waterway_id else None
    polygon = None
    if area == "station" and station.boundary:
        polygon = cap.polygon_from_geojson(station.boundary)
    elif area == "water" and waterway is not None:
        polygon = cap.polygon_from_geojson(waterway.area, near=(incident.lon, incident.lat))
    timeline = [(str(e.to_state), e.at) for e in repo.events(incident.id) if e.to_state]
    last, msg_type, earlier = cap.series(
        f"{station.code}.incident-{incident.id}",
        timeline or [(str(incident.state), incident.detected_at)],
    )
    library = warning_messages()
    key = (
        "children"
        if incident.has_suspected_minor
        else ("night" if incident.is_night else "deep_water")
    )
    document = cap.to_xml(
        cap.CapIncident(
            identifier=last.identifier,
            sender=sender,
            sender_name_zh=station.name_zh,
            sender_name_en=station.name_en,
            sent=last.sent,
            state=last.state,
            severity=str(incident.severity),
            people_count=incident.people_count,
            instruction_zh=library[key].text("zh-CN"),
            instruction_en=library[key].text("en"),
            area=cap.CapArea(
                description=waterway.name if waterway else f"{station.name_zh} {station.name_en}",
                circle=None if polygon else (incident.lat, incident.lon, radius_km),
                polygon=polygon,
            ),
            was_warned=incident.warning_count > 0,
            msg_type=msg_type,
            references=earlier,
            expires=cap.expiry(last.sent, expires_s),
        ),
        zone,
    )
    audit_service.record(
        session,
        action="export",
        resource_type="incidents",
        resource_id=incident.id,
        jurisdiction_id=incident.station_id,
        detail={"format": "cap-1.2", "identifier": last.identifier},
    )
    return document

"""CAP 1.2 export of an incident (the XML itself is ``cap.py``); each export is audited."""

from __future__ import annotations

from datetime import datetime
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
    use_station_polygon: bool,
    radius_km: float,
    sender: str,
    zone: ZoneInfo,
    now: datetime,
) -> bytes:
    incident = incident_service.get(session, principal, incident_id)
    station = IncidentRepository(session).jurisdiction(incident.station_id)
    assert station is not None
    polygon = None
    if use_station_polygon and station.boundary:
        polygon = cap.polygon_from_geojson(station.boundary)
    library = warning_messages()
    key = (
        "children"
        if incident.has_suspected_minor
        else ("night" if incident.is_night else "deep_water")
    )
    document = cap.to_xml(
        cap.CapIncident(
            identifier=f"{station.code}.incident-{incident.id}.{incident.version}",
            sender=sender,
            sender_name_zh=station.name_zh,
            sender_name_en=station.name_en,
            sent=now,
            state=str(incident.state),
            severity=str(incident.severity),
            people_count=incident.people_count,
            instruction_zh=library[key].text("zh-CN"),
            instruction_en=library[key].text("en"),
            area=cap.CapArea(
                description=f"{station.name_zh} {station.name_en}",
                circle=None if polygon else (incident.lat, incident.lon, radius_km),
                polygon=polygon,
            ),
        ),
        zone,
    )
    audit_service.record(
        session,
        action="export",
        resource_type="incidents",
        resource_id=incident.id,
        jurisdiction_id=incident.station_id,
        detail={"format": "cap-1.2"},
    )
    return document

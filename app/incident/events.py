"""Lifecycle events: every state change of an incident is an alert to its subscribers.

Each transition writes one alert addressed to the owning station's jurisdiction (no
recipient), so it reaches the webhook endpoints of the station and the district above it
and the live feed of their monitoring devices, in the same transaction as the change. The
webhook event type is ``alert.<kind>``; docs/events.md is the catalogue. Payloads are thin:
ids, state, severity, counts and place, never persons or evidence.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.alert import service as alert_service
from app.alert.models import AlertKind
from app.incident.models import Incident, IncidentState
from app.incident.repository import IncidentRepository

#: The alert each state change writes (``detected`` is the incident's start, not a change).
LIFECYCLE: dict[IncidentState, AlertKind] = {
    IncidentState.warned: AlertKind.incident_warned,
    IncidentState.cleared: AlertKind.incident_cleared,
    IncidentState.escalated: AlertKind.incident_escalated,
    IncidentState.dispatched: AlertKind.incident_dispatched,
    IncidentState.acknowledged: AlertKind.incident_acknowledged,
    IncidentState.on_scene: AlertKind.incident_on_scene,
    IncidentState.resolved: AlertKind.incident_resolved,
    IncidentState.closed: AlertKind.incident_closed,
}
# Fields of a transition's detail that may travel (no names, no free text).
_DETAIL_KEYS = ("outcome", "reason", "unit_id", "call_sign", "rung", "dispatch_id")


def transition_payload(
    incident: Incident,
    from_state: IncidentState,
    to_state: IncidentState,
    *,
    now: datetime,
    detail: dict[str, Any] | None,
) -> dict[str, Any]:
    extra = {k: v for k, v in (detail or {}).items() if k in _DETAIL_KEYS}
    return {
        "event": f"incident.{to_state.value}",
        "incident_id": incident.id,
        "station_id": incident.station_id,
        "district_id": incident.district_id,
        "waterway_id": incident.waterway_id,
        "from_state": from_state.value,
        "state": to_state.value,
        "at": now.isoformat(),
        "severity": str(incident.severity),
        "people_count": incident.people_count,
        "lon": incident.lon,
        "lat": incident.lat,
        **extra,
    }


def transition(
    session: Session,
    incident: Incident,
    from_state: IncidentState,
    to_state: IncidentState,
    *,
    now: datetime,
    detail: dict[str, Any] | None = None,
) -> None:
    """Write the lifecycle alert of one state change (in the caller's transaction)."""
    kind = LIFECYCLE.get(to_state)
    station = IncidentRepository(session).jurisdiction(incident.station_id)
    if kind is None or station is None:
        return
    alert_service.enqueue(
        session,
        kind=kind,
        jurisdiction=station,
        incident_id=incident.id,
        payload=transition_payload(incident, from_state, to_state, now=now, detail=detail),
        now=now,
    )

"""Incidents: grouping sightings, the enforced lifecycle with a timestamp per state, the
timeline, warnings, and dispatch with a per-district escalation ladder whose timers live
in the database (``dispatches.ack_deadline`` / ``on_scene_deadline``)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from astral import Observer
from astral.sun import sun
from pyproj import Geod
from shapely.geometry import Point, shape
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.alert import service as alert_service
from app.alert.models import AlertKind
from app.audit import service as audit_service
from app.auth.models import Role
from app.auth.principal import Principal
from app.errors import Conflict, Forbidden, NotFound, Unprocessable
from app.incident import cap, events, media
from app.incident.models import (
    OPEN_STATES,
    TRANSITIONS,
    Dispatch,
    DispatchState,
    EscalationPolicy,
    Evidence,
    EvidenceKind,
    Incident,
    IncidentEvent,
    IncidentState,
    IncidentWarning,
    RungTarget,
    Severity,
)
from app.incident.repository import IncidentRepository
from app.incident.schemas import EscalationPolicyBody, ResolveBody, Rung, WarningCreate
from app.jurisdiction import service as jurisdiction_service
from app.jurisdiction.models import Jurisdiction, JurisdictionKind
from app.unit.models import GroundUnit, UnitStatus
from app.warnings import library as warning_messages

GEOD = Geod(ellps="WGS84")
METRES_PER_DEGREE_LAT = 111_000.0
SYSTEM_ACTOR = "system:worker"

DEFAULT_RUNGS: tuple[Rung, ...] = (
    Rung(target=RungTarget.unit, ack_timeout_s=180),
    Rung(target=RungTarget.unit, ack_timeout_s=180),
    Rung(target=RungTarget.duty_officer, ack_timeout_s=300),
    Rung(target=RungTarget.command, ack_timeout_s=600),
)
DEFAULT_ACK_EXPIRY_S = 900
DEFAULT_WARNING_GRACE_S = 60


class IncidentNotFound(NotFound):
    pass


class IncidentTransitionRefused(Conflict):
    pass


class IncidentChangedConcurrently(Conflict):
    pass


class IncidentOutcomeConflict(Conflict):
    pass


class ClearRefused(Forbidden):
    pass


class NotDispatchedToYou(Forbidden):
    pass


class UnknownWarningMessage(Unprocessable):
    pass


class NotADistrict(Unprocessable):
    pass


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Geodesic distance on WGS84, in metres."""
    _, _, dist = GEOD.inv(lon1, lat1, lon2, lat2)
    return float(dist)


def district_id_of(path: str) -> int:
    return int(path.strip("/").split("/")[0])


# Reading


def _visible(session: Session, principal: Principal, incident: Incident) -> bool:
    repo = IncidentRepository(session)
    station = repo.jurisdiction(incident.station_id)
    if station is not None and principal.can_see(station.path):
        return True
    unit_id = principal.ground_unit_id
    return unit_id is not None and any(d.unit_id == unit_id for d in repo.dispatches(incident.id))


def get(session: Session, principal: Principal, incident_id: int) -> Incident:
    incident = IncidentRepository(session).get(incident_id)
    if incident is None or not _visible(session, principal, incident):
        raise IncidentNotFound(f"incident {incident_id} not found")
    return incident


def list_visible(
    session: Session,
    principal: Principal,
    *,
    state: IncidentState | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[Incident], int]:
    return IncidentRepository(session).list_under(
        principal.jurisdiction_path,
        unit_id=principal.ground_unit_id,
        state=state,
        limit=limit,
        offset=offset,
    )


def timeline(session: Session, principal: Principal, incident_id: int) -> Sequence[IncidentEvent]:
    incident = get(session, principal, incident_id)
    return IncidentRepository(session).events(incident.id)


def warnings_of(
    session: Session, principal: Principal, incident_id: int
) -> Sequence[IncidentWarning]:
    incident = get(session, principal, incident_id)
    return IncidentRepository(session).warnings(incident.id)


def dispatches_of(session: Session, principal: Principal, incident_id: int) -> Sequence[Dispatch]:
    incident = get(session, principal, incident_id)
    return IncidentRepository(session).dispatches(incident.id)


# Lifecycle


def _log(
    session: Session,
    incident: Incident,
    kind: str,
    *,
    actor: str,
    now: datetime,
    from_state: IncidentState | None = None,
    to_state: IncidentState | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    IncidentRepository(session).add(
        IncidentEvent(
            incident_id=incident.id,
            at=now,
            kind=kind,
            from_state=from_state,
            to_state=to_state,
            actor=actor,
            detail=detail,
        )
    )


def _move(
    session: Session,
    incident: Incident,
    to: IncidentState,
    *,
    actor: str,
    now: datetime,
    detail: dict[str, Any] | None = None,
) -> None:
    current = IncidentState(incident.state)
    if to not in TRANSITIONS[current]:
        raise IncidentTransitionRefused(f"incident {incident.id} cannot go from {current} to {to}")
    incident.state = to
    stamp = f"{to.value}_at"
    if getattr(incident, stamp) is None:
        setattr(incident, stamp, now)
    _log(
        session,
        incident,
        "transition",
        actor=actor,
        now=now,
        from_state=current,
        to_state=to,
        detail=detail,
    )
    _flush(session, incident)  # a stale write fails here, before the lifecycle alert
    events.transition(session, incident, current, to, now=now, detail=detail)


def _flush(session: Session, incident: Incident) -> None:
    incident_id = incident.id
    try:
        session.flush()
    except StaleDataError as exc:
        raise IncidentChangedConcurrently(
            f"incident {incident_id} was changed by someone else; reload and retry"
        ) from exc


# Grouping sightings into incidents


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
    device_key: str | None = None,
) -> Incident:
    """Group a sighting into an open incident nearby, or open a new one.

    ``device_key``: the reporter key when a device reports; its "left the water" clears the
    incident only where ``device_clear_refusal`` allows."""
    district_id = district_id_of(station.path)
    incident = find_group(
        session,
        district_id=district_id,
        facts=facts,
        distance_limit_m=distance_limit_m,
        window_s=window_s,
    )
    night = is_night(facts.lon, facts.lat, facts.seen_at, zone)
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
        IncidentRepository(session).add(incident)
        session.flush()
        _log(
            session,
            incident,
            "detected",
            actor=actor,
            now=now,
            to_state=IncidentState.detected,
            detail={"lon": facts.lon, "lat": facts.lat, "people": facts.people_count},
        )
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
    _log(
        session,
        incident,
        "sighting",
        actor=actor,
        now=now,
        detail={"people": facts.people_count, "severity": incident.severity}
        if before == incident.severity
        else {"people": facts.people_count, "severity": incident.severity, "was": before},
    )
    if facts.has_left_water and incident.state in {IncidentState.detected, IncidentState.warned}:
        if (
            device_key is None
            or device_clear_refusal(session, incident, reporter_key=device_key) is None
        ):
            _move(
                session,
                incident,
                IncidentState.cleared,
                actor=actor,
                now=now,
                detail={"reason": "the tracked people left the water"},
            )
    elif incident.state == IncidentState.warned and incident.last_warned_at is not None:
        grace = policy_for(session, incident.district_id).warning_grace_s
        if facts.seen_at - incident.last_warned_at >= timedelta(seconds=grace):
            _escalate(session, incident, actor=actor, now=now, reason="warning ignored")
    _flush(session, incident)
    return incident


# Warnings and operator moves


def warn(
    session: Session, principal: Principal, incident_id: int, data: WarningCreate, now: datetime
) -> IncidentWarning:
    incident = get(session, principal, incident_id)
    if incident.state not in OPEN_STATES:
        raise IncidentTransitionRefused(f"incident {incident.id} is {incident.state}")
    text = data.text
    if data.message_key is not None:
        message = warning_messages().get(data.message_key)
        if message is None:
            raise UnknownWarningMessage(f"no warning message {data.message_key!r}")
        text = text or message.text(data.language)
    given_at = data.given_at if data.given_at and data.given_at.tzinfo else now
    warning = IncidentWarning(
        incident_id=incident.id,
        given_at=given_at,
        given_by=principal.actor_name,
        modes=[m.value for m in data.modes],
        message_key=data.message_key,
        language=data.language if text else None,
        text=text,
    )
    IncidentRepository(session).add(warning)
    incident.warning_count += 1
    incident.last_warned_at = max(incident.last_warned_at or given_at, given_at)
    detail = {
        "modes": warning.modes,
        "message_key": data.message_key,
        "repeat": incident.warning_count > 1,
    }
    if incident.state == IncidentState.detected:
        _move(
            session,
            incident,
            IncidentState.warned,
            actor=principal.actor_name,
            now=now,
            detail=detail,
        )
    else:
        _log(session, incident, "warning", actor=principal.actor_name, now=now, detail=detail)
    _flush(session, incident)
    return warning


def device_clear_refusal(session: Session, incident: Incident, *, reporter_key: str) -> str | None:
    """Why a device may not clear this incident, or None: a device clears only an incident its
    own sighting opened, and never a critical one (an officer's call)."""
    if incident.severity == Severity.critical:
        return "a critical incident is cleared by an officer, not a device"
    if IncidentRepository(session).opened_by(incident.id) != reporter_key:
        return "a device clears only the incidents its own sightings opened"
    return None


def clear(session: Session, principal: Principal, incident_id: int, now: datetime) -> Incident:
    """The people left the water after the warning (or before it).

    A device (a drone's token) may clear only an incident its own sighting opened, and never
    a critical one: those are an officer's call."""
    incident = get(session, principal, incident_id)
    if principal.kind == "device":
        refusal = device_clear_refusal(session, incident, reporter_key=principal.reporter_key)
        if refusal is not None:
            raise ClearRefused(refusal)
    if incident.state == IncidentState.cleared:
        return incident
    _move(session, incident, IncidentState.cleared, actor=principal.actor_name, now=now)
    _flush(session, incident)
    return incident


def escalate(session: Session, principal: Principal, incident_id: int, now: datetime) -> Incident:
    incident = get(session, principal, incident_id)
    if incident.state in {IncidentState.escalated, IncidentState.dispatched}:
        return incident
    _escalate(session, incident, actor=principal.actor_name, now=now, reason="operator")
    _flush(session, incident)
    return incident


def close(session: Session, principal: Principal, incident_id: int, now: datetime) -> Incident:
    incident = get(session, principal, incident_id)
    if incident.state == IncidentState.closed:
        return incident
    _move(session, incident, IncidentState.closed, actor=principal.actor_name, now=now)
    _flush(session, incident)
    return incident


# Escalation ladder


@dataclass(frozen=True, slots=True)
class PolicyValue:
    rungs: tuple[Rung, ...]
    ack_expiry_s: int
    warning_grace_s: int
    is_default: bool


def policy_for(session: Session, district_id: int) -> PolicyValue:
    row = IncidentRepository(session).policy(district_id)
    if row is None:
        return PolicyValue(DEFAULT_RUNGS, DEFAULT_ACK_EXPIRY_S, DEFAULT_WARNING_GRACE_S, True)
    return PolicyValue(
        tuple(Rung.model_validate(r) for r in row.rungs),
        row.ack_expiry_s,
        row.warning_grace_s,
        False,
    )


def _district(session: Session, principal: Principal, district_id: int) -> Jurisdiction:
    district = jurisdiction_service.get(session, principal, district_id)
    if district.kind != JurisdictionKind.district:
        raise NotADistrict(f"jurisdiction {district_id} is a {district.kind}, not a district")
    return district


def get_policy(session: Session, principal: Principal, district_id: int) -> PolicyValue:
    district = _district(session, principal, district_id)
    return policy_for(session, district.id)


def put_policy(
    session: Session,
    principal: Principal,
    district_id: int,
    data: EscalationPolicyBody,
    now: datetime,
) -> PolicyValue:
    district = _district(session, principal, district_id)
    repo = IncidentRepository(session)
    row = repo.policy(district.id)
    rungs = [r.model_dump(mode="json") for r in data.rungs]
    if row is None:
        repo.add_policy(
            EscalationPolicy(
                district_id=district.id,
                rungs=rungs,
                ack_expiry_s=data.ack_expiry_s,
                warning_grace_s=data.warning_grace_s,
                updated_at=now,
            )
        )
    else:
        row.rungs = rungs
        row.ack_expiry_s = data.ack_expiry_s
        row.warning_grace_s = data.warning_grace_s
        row.updated_at = now
        session.flush()
    return policy_for(session, district.id)


def _payload(incident: Incident, **extra: Any) -> dict[str, Any]:
    return {
        "incident_id": incident.id,
        "state": str(incident.state),
        "severity": str(incident.severity),
        "lon": incident.lon,
        "lat": incident.lat,
        "people_count": incident.people_count,
        "has_deep_water": incident.has_deep_water,
        "has_suspected_minor": incident.has_suspected_minor,
        **extra,
    }


def _escalate(
    session: Session, incident: Incident, *, actor: str, now: datetime, reason: str
) -> None:
    _move(
        session, incident, IncidentState.escalated, actor=actor, now=now, detail={"reason": reason}
    )
    _fire_from(session, incident, 0, actor=actor, now=now)


def _nearest_unit(session: Session, incident: Incident) -> GroundUnit | None:
    """Nearest available unit of the owning station; then of the neighbouring stations."""
    repo = IncidentRepository(session)
    district = repo.jurisdiction(incident.district_id)
    if district is None:
        return None
    tried = {d.unit_id for d in repo.dispatches(incident.id) if d.unit_id is not None}
    ranked = sorted(
        (
            (
                station_id != incident.station_id,
                distance_m(incident.lon, incident.lat, unit.last_lon or 0.0, unit.last_lat or 0.0),
                unit.id,
                unit,
            )
            for unit, station_id in repo.available_units(district.path)
            if unit.id not in tried
        ),
        key=lambda item: item[:3],
    )
    return ranked[0][3] if ranked else None


def _fire(
    session: Session, incident: Incident, index: int, rung: Rung, *, actor: str, now: datetime
) -> bool:
    """Fire one rung; False when it has nobody to reach (the ladder moves on)."""
    repo = IncidentRepository(session)
    station = repo.jurisdiction(incident.station_id)
    district = repo.jurisdiction(incident.district_id)
    assert station is not None
    assert district is not None
    deadline = now + timedelta(seconds=rung.ack_timeout_s)
    if rung.target == RungTarget.unit:
        unit = _nearest_unit(session, incident)
        if unit is None:
            return False
        unit_station = repo.jurisdiction(unit.station_id) or station
        unit.status = UnitStatus.dispatched
        repo.add(
            Dispatch(
                incident_id=incident.id,
                rung=index,
                target=rung.target,
                unit_id=unit.id,
                sent_at=now,
                ack_deadline=deadline,
            )
        )
        alert_service.enqueue(
            session,
            kind=AlertKind.dispatch,
            jurisdiction=unit_station,
            incident_id=incident.id,
            unit_id=unit.id,
            payload=_payload(incident, ack_deadline=deadline.isoformat(), rung=index),
            now=now,
        )
        if incident.state in {IncidentState.escalated, IncidentState.acknowledged}:
            _move(
                session,
                incident,
                IncidentState.dispatched,
                actor=actor,
                now=now,
                detail={"unit_id": unit.id, "call_sign": unit.call_sign, "rung": index},
            )
        else:
            _log(
                session,
                incident,
                "dispatch",
                actor=actor,
                now=now,
                detail={"unit_id": unit.id, "call_sign": unit.call_sign, "rung": index},
            )
        return True
    if rung.target == RungTarget.duty_officer:
        users = (
            repo.users(role=Role.station_officer, jurisdiction_id=station.id)
            if station.kind == JurisdictionKind.station
            else repo.users_under(role=Role.station_officer, path=district.path)
        )
        where = station
    else:
        users = repo.users(role=Role.command, jurisdiction_id=district.id)
        where = district
    if not users:
        return False
    repo.add(
        Dispatch(
            incident_id=incident.id,
            rung=index,
            target=rung.target,
            sent_at=now,
            ack_deadline=deadline,
        )
    )
    for user in users:
        alert_service.enqueue(
            session,
            kind=AlertKind.escalation,
            jurisdiction=where,
            incident_id=incident.id,
            user_id=user.id,
            payload=_payload(incident, rung=index, target=str(rung.target)),
            now=now,
        )
    _log(
        session,
        incident,
        "escalation",
        actor=actor,
        now=now,
        detail={"rung": index, "target": str(rung.target), "users": [u.id for u in users]},
    )
    return True


def _fire_from(
    session: Session, incident: Incident, start: int, *, actor: str, now: datetime
) -> None:
    rungs = policy_for(session, incident.district_id).rungs
    for index in range(start, len(rungs)):
        if _fire(session, incident, index, rungs[index], actor=actor, now=now):
            incident.escalation_rung = index
            session.flush()
            return
    incident.escalation_rung = len(rungs)
    _log(session, incident, "ladder_exhausted", actor=actor, now=now)
    session.flush()


def _release(session: Session, dispatch: Dispatch) -> None:
    if dispatch.unit_id is None:
        return
    unit = IncidentRepository(session).unit(dispatch.unit_id)
    if unit is not None and unit.status in {UnitStatus.dispatched, UnitStatus.on_scene}:
        unit.status = UnitStatus.available


def run_due_timers(session: Session, *, now: datetime, limit: int = 100) -> int:
    """Expire unacknowledged rungs and stale acknowledgements; fire the next rung."""
    repo = IncidentRepository(session)
    fired = 0
    for dispatch in repo.due_ack_timers(now, limit):
        incident = repo.get(dispatch.incident_id)
        dispatch.state = DispatchState.expired
        dispatch.closed_at = now
        _release(session, dispatch)
        if incident is None or incident.state not in {
            IncidentState.escalated,
            IncidentState.dispatched,
        }:
            continue
        _log(
            session,
            incident,
            "ack_timeout",
            actor=SYSTEM_ACTOR,
            now=now,
            detail={"dispatch_id": dispatch.id, "rung": dispatch.rung},
        )
        _fire_from(session, incident, dispatch.rung + 1, actor=SYSTEM_ACTOR, now=now)
        fired += 1
    for dispatch in repo.due_on_scene_timers(now, limit):
        incident = repo.get(dispatch.incident_id)
        dispatch.state = DispatchState.expired
        dispatch.closed_at = now
        dispatch.on_scene_deadline = None
        if incident is None or incident.state != IncidentState.acknowledged:
            continue
        _release(session, dispatch)
        _move(
            session,
            incident,
            IncidentState.dispatched,
            actor=SYSTEM_ACTOR,
            now=now,
            detail={"reason": "acknowledgement expired", "dispatch_id": dispatch.id},
        )
        if dispatch.unit_id is not None:
            unit = repo.unit(dispatch.unit_id)
            station = repo.jurisdiction(unit.station_id) if unit else None
            if station is not None:
                alert_service.enqueue(
                    session,
                    kind=AlertKind.ack_expired,
                    jurisdiction=station,
                    incident_id=incident.id,
                    unit_id=dispatch.unit_id,
                    payload=_payload(incident),
                    now=now,
                )
        _fire_from(session, incident, dispatch.rung + 1, actor=SYSTEM_ACTOR, now=now)
        fired += 1
    session.flush()
    return fired


def _my_dispatch(session: Session, principal: Principal, incident: Incident) -> Dispatch:
    dispatches = IncidentRepository(session).dispatches(incident.id)
    if principal.ground_unit_id is not None:
        mine = [d for d in dispatches if d.unit_id == principal.ground_unit_id]
    elif principal.role == Role.station_officer:
        mine = [d for d in dispatches if d.target == RungTarget.duty_officer]
    elif principal.role in {Role.command, Role.admin}:
        mine = [d for d in dispatches if d.target != RungTarget.unit]
    else:
        mine = []
    if not mine:
        raise NotDispatchedToYou(f"incident {incident.id} was not dispatched to you")
    return mine[-1]


def acknowledge(
    session: Session, principal: Principal, incident_id: int, now: datetime
) -> Incident:
    """Idempotent: acknowledging twice answers the same incident. Stops the ladder."""
    incident = get(session, principal, incident_id)
    dispatch = _my_dispatch(session, principal, incident)
    if dispatch.state in {DispatchState.acknowledged, DispatchState.on_scene, DispatchState.done}:
        return incident
    if incident.state not in {
        IncidentState.escalated,
        IncidentState.dispatched,
        IncidentState.acknowledged,
        IncidentState.on_scene,
    }:
        raise IncidentTransitionRefused(f"incident {incident.id} is {incident.state}")
    policy = policy_for(session, incident.district_id)
    dispatch.state = DispatchState.acknowledged
    dispatch.acknowledged_at = now
    dispatch.acknowledged_by = principal.actor_name
    dispatch.ack_deadline = None
    if dispatch.unit_id is not None:
        dispatch.on_scene_deadline = now + timedelta(seconds=policy.ack_expiry_s)
    for other in IncidentRepository(session).dispatches(incident.id):
        if other.id != dispatch.id and other.state == DispatchState.pending:
            other.state = DispatchState.cancelled
            other.closed_at = now
            _release(session, other)
    if incident.state in {IncidentState.escalated, IncidentState.dispatched}:
        _move(
            session,
            incident,
            IncidentState.acknowledged,
            actor=principal.actor_name,
            now=now,
            detail={"dispatch_id": dispatch.id},
        )
    else:
        _log(
            session,
            incident,
            "acknowledged",
            actor=principal.actor_name,
            now=now,
            detail={"dispatch_id": dispatch.id},
        )
    _flush(session, incident)
    return incident


def arrive(session: Session, principal: Principal, incident_id: int, now: datetime) -> Incident:
    """The unit is on scene. Idempotent."""
    incident = get(session, principal, incident_id)
    dispatch = _my_dispatch(session, principal, incident)
    if dispatch.unit_id is None:
        raise NotDispatchedToYou("only a dispatched unit reports arrival")
    if dispatch.state in {DispatchState.on_scene, DispatchState.done}:
        return incident
    if incident.state not in {
        IncidentState.dispatched,
        IncidentState.acknowledged,
        IncidentState.on_scene,
    }:
        raise IncidentTransitionRefused(f"incident {incident.id} is {incident.state}")
    dispatch.state = DispatchState.on_scene
    dispatch.on_scene_at = now
    dispatch.acknowledged_at = dispatch.acknowledged_at or now
    dispatch.acknowledged_by = dispatch.acknowledged_by or principal.actor_name
    dispatch.ack_deadline = None
    dispatch.on_scene_deadline = None
    unit = IncidentRepository(session).unit(dispatch.unit_id)
    if unit is not None:
        unit.status = UnitStatus.on_scene
    for other in IncidentRepository(session).dispatches(incident.id):
        if other.id != dispatch.id and other.state == DispatchState.pending:
            other.state = DispatchState.cancelled
            other.closed_at = now
            _release(session, other)
    if incident.state == IncidentState.on_scene:
        _log(
            session,
            incident,
            "on_scene",
            actor=principal.actor_name,
            now=now,
            detail={"unit_id": dispatch.unit_id},
        )
    else:
        _move(
            session,
            incident,
            IncidentState.on_scene,
            actor=principal.actor_name,
            now=now,
            detail={"unit_id": dispatch.unit_id},
        )
    _flush(session, incident)
    return incident


def resolve(
    session: Session, principal: Principal, incident_id: int, data: ResolveBody, now: datetime
) -> Incident:
    """Idempotent for the same outcome; a different outcome afterwards is a conflict."""
    incident = get(session, principal, incident_id)
    if incident.state in {IncidentState.resolved, IncidentState.closed}:
        if incident.outcome == data.outcome:
            return incident
        raise IncidentOutcomeConflict(f"incident {incident.id} was resolved as {incident.outcome}")
    # A unit resolves only what it has taken: acknowledging first stops the ladder paging
    # others, and the timeline shows who took it before the outcome.
    if (
        principal.ground_unit_id is not None
        and _my_dispatch(session, principal, incident).state == DispatchState.pending
    ):
        raise IncidentTransitionRefused(f"acknowledge incident {incident.id} before resolving it")
    _move(
        session,
        incident,
        IncidentState.resolved,
        actor=principal.actor_name,
        now=now,
        detail={"outcome": data.outcome.value},
    )
    incident.outcome = data.outcome
    incident.resolution_note = data.note
    for dispatch in IncidentRepository(session).dispatches(incident.id):
        if dispatch.state in {
            DispatchState.pending,
            DispatchState.acknowledged,
            DispatchState.on_scene,
        }:
            dispatch.state = (
                DispatchState.done
                if dispatch.state != DispatchState.pending
                else DispatchState.cancelled
            )
            dispatch.closed_at = now
            dispatch.ack_deadline = None
            dispatch.on_scene_deadline = None
            _release(session, dispatch)
    _flush(session, incident)
    return incident


# CAP export


def cap_export(
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
    incident = get(session, principal, incident_id)
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


# Evidence (crops, frames, photos of identifiable people: every view is audited)


class EvidenceNotFound(NotFound):
    pass


class EvidenceNotAnImage(Unprocessable):
    pass


class EvidenceSightingMismatch(Unprocessable):
    pass


class EvidenceLinkInvalid(Forbidden):
    pass


class EvidencePurged(NotFound):
    pass


def mark_evidence_showing_minor(session: Session, incident_id: int) -> int:
    """A minor was identified on the incident: all its evidence (detection jobs' frames
    included) is kept for the minors' retention from now on. Returns rows changed."""
    rows = IncidentRepository(session).evidence_not_marked_minor(incident_id)
    for evidence in rows:
        evidence.shows_minor = True
    session.flush()
    return len(rows)

class EvidenceBadBox(Unprocessable):
    pass


def attach_evidence(
    session: Session,
    principal: Principal,
    incident_id: int,
    *,
    raw: bytes,
    kind: EvidenceKind,
    shows_minor: bool,
    sighting_id: int | None,
    captured_at: datetime | None,
    media_dir: Path,
    now: datetime,
    box_px: tuple[int, int, int, int] | None = None,
) -> Evidence:
    """Store an image; a frame's triggering box (``box_px``) is drawn on it and kept."""
    incident = get(session, principal, incident_id)
    if box_px is not None and kind != EvidenceKind.frame:
        raise EvidenceBadBox("box_px is in a frame's pixels: send it with kind=frame")
    repo = IncidentRepository(session)
    if sighting_id is not None and repo.sighting_incident(sighting_id) != incident.id:
        raise EvidenceSightingMismatch(
            f"sighting {sighting_id} is not part of incident {incident.id}"
        )
    try:
        stored = media.store(media_dir, raw, box_px=box_px)
    except media.NotAnImageError as exc:
        raise EvidenceNotAnImage(str(exc)) from exc
    except media.BadBoxError as exc:
        raise EvidenceBadBox(str(exc)) from exc
    evidence = Evidence(
        incident_id=incident.id,
        sighting_id=sighting_id,
        kind=kind,
        mime_type=stored.mime_type,
        size_bytes=stored.size_bytes,
        sha256=stored.sha256,
        storage_key=stored.storage_key,
        # A minor identified on the incident before this frame arrived flags it too.
        shows_minor=shows_minor or repo.minor_identified(incident.id),
        captured_at=captured_at if captured_at and captured_at.tzinfo else None,
        box_px=list(box_px) if box_px is not None else None,
        created_at=now,
    )
    IncidentRepository(session).add(evidence)
    try:
        session.flush()
    except Exception:
        media.delete(media_dir, stored.storage_key)
        raise
    return evidence


def _evidence(session: Session, principal: Principal, evidence_id: int) -> Evidence:
    evidence = IncidentRepository(session).get_evidence(evidence_id)
    if evidence is None:
        raise EvidenceNotFound(f"evidence {evidence_id} not found")
    incident = IncidentRepository(session).get(evidence.incident_id)
    if incident is None or not _visible(session, principal, incident):
        raise EvidenceNotFound(f"evidence {evidence_id} not found")
    return evidence


def get_evidence(session: Session, principal: Principal, evidence_id: int) -> Evidence:
    return _evidence(session, principal, evidence_id)


def evidence_of(session: Session, principal: Principal, incident_id: int) -> Sequence[Evidence]:
    incident = get(session, principal, incident_id)
    return IncidentRepository(session).evidence_of(incident.id)


def evidence_link(
    session: Session,
    principal: Principal,
    evidence_id: int,
    *,
    secret_key: str,
    ttl_s: int,
    now: datetime,
) -> tuple[str, datetime]:
    """A short-lived link bound to this evidence and this caller; minting is audited."""
    evidence = _evidence(session, principal, evidence_id)
    if evidence.storage_key is None:
        raise EvidencePurged(f"evidence {evidence_id} was deleted under the retention policy")
    token = media.sign(secret_key, evidence_id=evidence.id, actor=principal.actor_name)
    incident = IncidentRepository(session).get(evidence.incident_id)
    audit_service.record(
        session,
        action="mint_link",
        resource_type="evidence",
        resource_id=evidence.id,
        jurisdiction_id=incident.station_id if incident else None,
        detail={"ttl_s": ttl_s},
    )
    return f"/evidence/{evidence.id}/content?token={token}", now + timedelta(seconds=ttl_s)


def evidence_content(
    session: Session,
    principal: Principal,
    evidence_id: int,
    *,
    token: str | None,
    secret_key: str,
    ttl_s: int,
    media_dir: Path,
) -> Path:
    evidence = _evidence(session, principal, evidence_id)
    if token is None or not media.check(
        secret_key, token, evidence_id=evidence.id, actor=principal.actor_name, max_age_s=ttl_s
    ):
        raise EvidenceLinkInvalid("the link is expired or was minted for someone else")
    if evidence.storage_key is None:
        raise EvidencePurged(f"evidence {evidence_id} was deleted under the retention policy")
    path = media.path_of(media_dir, evidence.storage_key)
    if not path.is_file():
        raise EvidencePurged(f"evidence {evidence_id} has no stored media")
    incident = IncidentRepository(session).get(evidence.incident_id)
    audit_service.record_read(
        session,
        resource_type="evidence",
        resource_id=evidence.id,
        jurisdiction_id=incident.station_id if incident else None,
        detail={"shows_minor": evidence.shows_minor},
    )
    return path


def purge_evidence(
    session: Session,
    *,
    now: datetime,
    media_dir: Path,
    minor_days: int,
    adult_days: int,
    limit: int = 500,
) -> int:
    """Retention: delete media past its class's age (minors first); each purge audited."""
    rows = IncidentRepository(session).evidence_to_purge(
        minor_before=now - timedelta(days=minor_days),
        adult_before=now - timedelta(days=adult_days),
        limit=limit,
    )
    for evidence in rows:
        if evidence.storage_key is not None:
            media.delete(media_dir, evidence.storage_key)
        evidence.storage_key = None
        evidence.purged_at = now
        audit_service.record(
            session,
            action="purge",
            resource_type="evidence",
            resource_id=evidence.id,
            detail={"reason": "retention", "shows_minor": evidence.shows_minor},
        )
    session.flush()
    return len(rows)

"""Dispatch and the escalation ladder: the district's policy, choosing the unit, paging the
duty officers and command, and the timers kept on ``dispatches`` rows.

Data flows one way: the incident feature calls in here with a ``Call`` (the facts of the
incident that the ladder needs) and gets back what was done (``Fired``), which it writes to
its timeline and turns into lifecycle moves; this feature never imports the incident
feature. Alerts go out through ``app.alert``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pyproj import Geod
from sqlalchemy.orm import Session

from app.alert import service as alert_service
from app.alert.models import AlertKind
from app.auth.models import Role
from app.auth.principal import Principal
from app.dispatch.models import Dispatch, DispatchState, EscalationPolicy, RungTarget
from app.dispatch.repository import DispatchRepository
from app.dispatch.schemas import EscalationPolicyBody, FirstResponse, Rung
from app.errors import Forbidden, Unprocessable
from app.jurisdiction import service as jurisdiction_service
from app.jurisdiction.models import Jurisdiction, JurisdictionKind
from app.unit.models import GroundUnit, UnitStatus

GEOD = Geod(ellps="WGS84")

DEFAULT_RUNGS: tuple[Rung, ...] = (
    Rung(target=RungTarget.unit, ack_timeout_s=180),
    Rung(target=RungTarget.unit, ack_timeout_s=180),
    Rung(target=RungTarget.duty_officer, ack_timeout_s=300),
    Rung(target=RungTarget.command, ack_timeout_s=600),
)
DEFAULT_ACK_EXPIRY_S = 900
DEFAULT_WARNING_GRACE_S = 60
DEFAULT_REPAGE_INTERVAL_S = 300
DEFAULT_MAX_UNIT_DISTANCE_M = 10_000


class NotDispatchedToYou(Forbidden):
    pass


class NotADistrict(Unprocessable):
    pass


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Geodesic distance on WGS84, in metres."""
    _, _, dist = GEOD.inv(lon1, lat1, lon2, lat2)
    return float(dist)


# Policy


@dataclass(frozen=True, slots=True)
class PolicyValue:
    rungs: tuple[Rung, ...]
    ack_expiry_s: int
    warning_grace_s: int
    is_default: bool
    first_response_s: FirstResponse = field(default_factory=FirstResponse)
    repage_interval_s: int = DEFAULT_REPAGE_INTERVAL_S
    max_unit_distance_m: int = DEFAULT_MAX_UNIT_DISTANCE_M


def policy_for(session: Session, district_id: int) -> PolicyValue:
    row = DispatchRepository(session).policy(district_id)
    if row is None:
        return PolicyValue(DEFAULT_RUNGS, DEFAULT_ACK_EXPIRY_S, DEFAULT_WARNING_GRACE_S, True)
    return PolicyValue(
        tuple(Rung.model_validate(r) for r in row.rungs),
        row.ack_expiry_s,
        row.warning_grace_s,
        False,
        FirstResponse.model_validate(row.first_response_s or {}),
        row.repage_interval_s,
        row.max_unit_distance_m,
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
    repo = DispatchRepository(session)
    row = repo.policy(district.id)
    rungs = [r.model_dump(mode="json") for r in data.rungs]
    if row is None:
        repo.add_policy(
            EscalationPolicy(
                district_id=district.id,
                rungs=rungs,
                ack_expiry_s=data.ack_expiry_s,
                warning_grace_s=data.warning_grace_s,
                first_response_s=data.first_response_s.model_dump(),
                repage_interval_s=data.repage_interval_s,
                max_unit_distance_m=data.max_unit_distance_m,
                updated_at=now,
            )
        )
    else:
        row.rungs = rungs
        row.ack_expiry_s = data.ack_expiry_s
        row.warning_grace_s = data.warning_grace_s
        row.first_response_s = data.first_response_s.model_dump()
        row.repage_interval_s = data.repage_interval_s
        row.max_unit_distance_m = data.max_unit_distance_m
        row.updated_at = now
        session.flush()
    return policy_for(session, district.id)


# Reading


def of_incident(session: Session, incident_id: int) -> Sequence[Dispatch]:
    return DispatchRepository(session).dispatches(incident_id)


def is_dispatched_to(session: Session, incident_id: int, unit_id: int) -> bool:
    return any(d.unit_id == unit_id for d in DispatchRepository(session).dispatches(incident_id))


def mine(session: Session, principal: Principal, incident_id: int, *, district_id: int) -> Dispatch:
    """The caller's latest dispatch for the incident: its unit's, or the page it received
    (duty officers also take the re-pages after the last rung)."""
    dispatches = DispatchRepository(session).dispatches(incident_id)
    last_rung = len(policy_for(session, district_id).rungs)
    if principal.ground_unit_id is not None:
        found = [d for d in dispatches if d.unit_id == principal.ground_unit_id]
    elif principal.role == Role.station_officer:
        found = [
            d
            for d in dispatches
            if d.target == RungTarget.duty_officer
            or (d.target == RungTarget.command and d.rung >= last_rung)
        ]
    elif principal.role in {Role.command, Role.admin}:
        found = [d for d in dispatches if d.target != RungTarget.unit]
    else:
        found = []
    if not found:
        raise NotDispatchedToYou(f"incident {incident_id} was not dispatched to you")
    return found[-1]


# The ladder


@dataclass(frozen=True, slots=True)
class Call:
    """What the ladder needs to know of an incident (a value: no incident row in here)."""

    incident_id: int
    station_id: int
    district_id: int
    lon: float
    lat: float
    # The thin alert payload (ids, place, severity, counts); rungs add their own keys.
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Step:
    """One thing the ladder did, for the incident's timeline."""

    kind: str  # "dispatch" (a unit was sent) | "escalation" (officers paged) | "ladder_exhausted"
    detail: dict[str, Any]
    rung: int

    @property
    def unit_sent(self) -> bool:
        return self.kind == "dispatch"


@dataclass(slots=True)
class Fired:
    """What ``fire_from`` did: the steps, and the rung the incident is now on."""

    rung: int
    steps: list[Step] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class UnitChoice:
    """The unit to send, or why there is none: the nearest one is over the cap."""

    unit: GroundUnit | None
    distance_m: float | None  # to the chosen unit; else to the nearest available one
    own_station: bool  # the unit is of the owning station


def _nearest_unit(session: Session, call: Call, *, max_distance_m: float) -> UnitChoice:
    """Nearest available unit of the owning station; then of the neighbouring stations;
    never one farther than ``max_distance_m`` from the people."""
    repo = DispatchRepository(session)
    district = repo.jurisdiction(call.district_id)
    if district is None:
        return UnitChoice(None, None, False)
    tried = {d.unit_id for d in repo.dispatches(call.incident_id) if d.unit_id is not None}
    ranked = sorted(
        (
            (
                station_id != call.station_id,
                distance_m(call.lon, call.lat, unit.last_lon or 0.0, unit.last_lat or 0.0),
                unit.id,
                unit,
            )
            for unit, station_id in repo.available_units(district.path)
            if unit.id not in tried
        ),
        key=lambda item: item[:3],
    )
    for other_station, gap_m, _, unit in ranked:
        if gap_m <= max_distance_m:
            return UnitChoice(unit, gap_m, not other_station)
    nearest = min((item[1] for item in ranked), default=None)
    return UnitChoice(None, nearest, False)


def _page(
    session: Session,
    call: Call,
    *,
    index: int,
    target: RungTarget,
    users: Sequence[Any],
    where: Jurisdiction,
    deadline: datetime,
    kind: AlertKind,
    extra: dict[str, Any],
    now: datetime,
) -> None:
    DispatchRepository(session).add(
        Dispatch(
            incident_id=call.incident_id,
            rung=index,
            target=target,
            sent_at=now,
            ack_deadline=deadline,
        )
    )
    for user in users:
        alert_service.enqueue(
            session,
            kind=kind,
            jurisdiction=where,
            incident_id=call.incident_id,
            user_id=user.id,
            payload={**call.payload, "rung": index, "target": str(target), **extra},
            now=now,
        )


def _fire(
    session: Session, call: Call, index: int, rung: Rung, policy: PolicyValue, *, now: datetime
) -> Step | None:
    """Fire one rung; None when it has nobody to reach (the ladder moves on)."""
    repo = DispatchRepository(session)
    station = repo.jurisdiction(call.station_id)
    district = repo.jurisdiction(call.district_id)
    assert station is not None
    assert district is not None
    deadline = now + timedelta(seconds=rung.ack_timeout_s)
    if rung.target == RungTarget.unit:
        choice = _nearest_unit(session, call, max_distance_m=policy.max_unit_distance_m)
        unit = choice.unit
        if unit is None:
            # Nobody near enough: command is paged instead of sending a unit from afar.
            users = repo.users(role=Role.command, jurisdiction_id=district.id)
            if not users:
                return None
            why = {
                "instead_of": "unit",
                "reason": "no_unit_in_range",
                "max_unit_distance_m": policy.max_unit_distance_m,
                "nearest_unit_m": None if choice.distance_m is None else round(choice.distance_m),
            }
            _page(
                session,
                call,
                index=index,
                target=RungTarget.command,
                users=users,
                where=district,
                deadline=deadline,
                kind=AlertKind.escalation,
                extra=why,
                now=now,
            )
            return Step(
                "escalation",
                {"rung": index, "target": "command", "users": [u.id for u in users], **why},
                index,
            )
        unit_station = repo.jurisdiction(unit.station_id) or station
        unit.status = UnitStatus.dispatched
        repo.add(
            Dispatch(
                incident_id=call.incident_id,
                rung=index,
                target=rung.target,
                unit_id=unit.id,
                sent_at=now,
                ack_deadline=deadline,
            )
        )
        # Say so when the unit is not the owning station's (its own are busy or too far).
        place = {
            "distance_m": round(choice.distance_m or 0.0),
            "own_station": choice.own_station,
            **({} if choice.own_station else {"unit_station_id": unit.station_id}),
        }
        alert_service.enqueue(
            session,
            kind=AlertKind.dispatch,
            jurisdiction=unit_station,
            incident_id=call.incident_id,
            unit_id=unit.id,
            payload={**call.payload, "ack_deadline": deadline.isoformat(), "rung": index, **place},
            now=now,
        )
        return Step(
            "dispatch",
            {"unit_id": unit.id, "call_sign": unit.call_sign, "rung": index, **place},
            index,
        )
    if rung.target == RungTarget.duty_officer:
        users = _duty_officers(session, station, district)
        where = station
    else:
        users = repo.users(role=Role.command, jurisdiction_id=district.id)
        where = district
    if not users:
        return None
    _page(
        session,
        call,
        index=index,
        target=rung.target,
        users=users,
        where=where,
        deadline=deadline,
        kind=AlertKind.escalation,
        extra={},
        now=now,
    )
    return Step(
        "escalation",
        {"rung": index, "target": str(rung.target), "users": [u.id for u in users]},
        index,
    )


def _duty_officers(session: Session, station: Jurisdiction, district: Jurisdiction) -> list[Any]:
    repo = DispatchRepository(session)
    return list(
        repo.users(role=Role.station_officer, jurisdiction_id=station.id)
        if station.kind == JurisdictionKind.station
        else repo.users_under(role=Role.station_officer, path=district.path)
    )


def _repage(
    session: Session, call: Call, index: int, policy: PolicyValue, *, now: datetime
) -> Step:
    """Past the last rung: page command and the duty officers again, and set the timer for
    the next time. The row is written even with nobody to page, so the timer goes on."""
    repo = DispatchRepository(session)
    station = repo.jurisdiction(call.station_id)
    district = repo.jurisdiction(call.district_id)
    assert station is not None
    assert district is not None
    command = list(repo.users(role=Role.command, jurisdiction_id=district.id))
    duty = _duty_officers(session, station, district)
    repeat = index - len(policy.rungs) + 1
    deadline = now + timedelta(seconds=policy.repage_interval_s)
    _page(
        session,
        call,
        index=index,
        target=RungTarget.command,
        users=[*command, *duty],
        where=district,
        deadline=deadline,
        kind=AlertKind.repage,
        extra={"repeat": repeat},
        now=now,
    )
    return Step(
        "repage",
        {"rung": index, "repeat": repeat, "users": [u.id for u in [*command, *duty]]},
        index,
    )


def fire_from(session: Session, call: Call, start: int, *, now: datetime) -> Fired:
    """Fire the first rung from ``start`` that reaches someone. Past the last rung the
    ladder is spent: command and the duty officers are re-paged at the policy's interval
    until someone acknowledges (never silent)."""
    policy = policy_for(session, call.district_id)
    rungs = policy.rungs
    for index in range(start, len(rungs)):
        step = _fire(session, call, index, rungs[index], policy, now=now)
        if step is not None:
            session.flush()
            return Fired(index, [step])
    steps = [] if start > len(rungs) else [Step("ladder_exhausted", {}, len(rungs))]
    steps.append(_repage(session, call, max(start, len(rungs)), policy, now=now))
    session.flush()
    return Fired(len(rungs), steps)


def tell_operators(session: Session, call: Call, *, reason: str, now: datetime) -> list[int]:
    """Tell the district's operators that the ladder started without them (a critical
    incident, or a first-response deadline missed). Returns the users told."""
    repo = DispatchRepository(session)
    district = repo.jurisdiction(call.district_id)
    assert district is not None
    users = repo.users_under(role=Role.operator, path=district.path)
    for user in users:
        alert_service.enqueue(
            session,
            kind=AlertKind.first_response,
            jurisdiction=district,
            incident_id=call.incident_id,
            user_id=user.id,
            payload={**call.payload, "reason": reason},
            now=now,
        )
    return [u.id for u in users]


def _stand_down(session: Session, dispatch: Dispatch, *, reason: str, now: datetime) -> None:
    """Tell a unit that its dispatch is over and it is not expected on scene."""
    if dispatch.unit_id is None:
        return
    repo = DispatchRepository(session)
    unit = repo.unit(dispatch.unit_id)
    station = repo.jurisdiction(unit.station_id) if unit else None
    if station is None:
        return
    alert_service.enqueue(
        session,
        kind=AlertKind.stand_down,
        jurisdiction=station,
        incident_id=dispatch.incident_id,
        unit_id=dispatch.unit_id,
        payload={
            "incident_id": dispatch.incident_id,
            "dispatch_id": dispatch.id,
            "reason": reason,
        },
        now=now,
    )


def release(session: Session, dispatch: Dispatch) -> None:
    """The unit of a closed dispatch is available again."""
    if dispatch.unit_id is None:
        return
    unit = DispatchRepository(session).unit(dispatch.unit_id)
    if unit is not None and unit.status in {UnitStatus.dispatched, UnitStatus.on_scene}:
        unit.status = UnitStatus.available


def _cancel_pending(session: Session, incident_id: int, *, keep: int, now: datetime) -> None:
    for other in DispatchRepository(session).dispatches(incident_id):
        if other.id != keep and other.state == DispatchState.pending:
            other.state = DispatchState.cancelled
            other.closed_at = now
            release(session, other)
            _stand_down(session, other, reason="taken_by_another", now=now)


def acknowledge(
    session: Session, dispatch: Dispatch, *, actor: str, now: datetime, ack_expiry_s: int
) -> None:
    """Take the dispatch: its timer stops, a unit gets an on-scene deadline, the ladder stops."""
    dispatch.state = DispatchState.acknowledged
    dispatch.acknowledged_at = now
    dispatch.acknowledged_by = actor
    dispatch.ack_deadline = None
    if dispatch.unit_id is not None:
        dispatch.on_scene_deadline = now + timedelta(seconds=ack_expiry_s)
    _cancel_pending(session, dispatch.incident_id, keep=dispatch.id, now=now)


def arrive(session: Session, dispatch: Dispatch, *, actor: str, now: datetime) -> None:
    """The dispatched unit is on scene; the other pending rungs are cancelled."""
    dispatch.state = DispatchState.on_scene
    dispatch.on_scene_at = now
    dispatch.acknowledged_at = dispatch.acknowledged_at or now
    dispatch.acknowledged_by = dispatch.acknowledged_by or actor
    dispatch.ack_deadline = None
    dispatch.on_scene_deadline = None
    if dispatch.unit_id is not None:
        unit = DispatchRepository(session).unit(dispatch.unit_id)
        if unit is not None:
            unit.status = UnitStatus.on_scene
    _cancel_pending(session, dispatch.incident_id, keep=dispatch.id, now=now)


def close_all(session: Session, incident_id: int, *, now: datetime) -> None:
    """The incident is resolved: taken dispatches are done, pending ones cancelled."""
    for dispatch in DispatchRepository(session).dispatches(incident_id):
        if dispatch.state in {
            DispatchState.pending,
            DispatchState.acknowledged,
            DispatchState.on_scene,
        }:
            was_pending = dispatch.state == DispatchState.pending
            dispatch.state = DispatchState.cancelled if was_pending else DispatchState.done
            dispatch.closed_at = now
            dispatch.ack_deadline = None
            dispatch.on_scene_deadline = None
            release(session, dispatch)
            if was_pending:
                _stand_down(session, dispatch, reason="resolved", now=now)


# Timers


def expire_due_acks(session: Session, *, now: datetime, limit: int) -> Sequence[Dispatch]:
    """Rungs nobody acknowledged in time: expired, their units released and told to stand
    down (the ladder has moved on without them)."""
    rows = DispatchRepository(session).due_ack_timers(now, limit)
    for dispatch in rows:
        dispatch.state = DispatchState.expired
        dispatch.closed_at = now
        release(session, dispatch)
        _stand_down(session, dispatch, reason="ack_timeout", now=now)
    return rows


def expire_due_on_scene(session: Session, *, now: datetime, limit: int) -> Sequence[Dispatch]:
    """Acknowledged dispatches whose unit is not on scene in time: expired (the caller
    releases the unit when the incident is still waiting for it)."""
    rows = DispatchRepository(session).due_on_scene_timers(now, limit)
    for dispatch in rows:
        dispatch.state = DispatchState.expired
        dispatch.closed_at = now
        dispatch.on_scene_deadline = None
    return rows


def notify_ack_expired(
    session: Session, dispatch: Dispatch, *, payload: dict[str, Any], now: datetime
) -> None:
    """Tell the unit whose acknowledgement expired (through its station's feed)."""
    if dispatch.unit_id is None:
        return
    repo = DispatchRepository(session)
    unit = repo.unit(dispatch.unit_id)
    station = repo.jurisdiction(unit.station_id) if unit else None
    if station is not None:
        alert_service.enqueue(
            session,
            kind=AlertKind.ack_expired,
            jurisdiction=station,
            incident_id=dispatch.incident_id,
            unit_id=dispatch.unit_id,
            payload=payload,
            now=now,
        )

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from shapely.geometry import LineString, Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from app.auth.models import Role
from app.auth.principal import Principal
from app.config import Settings
from app.drone import service as drone_service
from app.drone.models import Drone, DroneStatus
from app.errors import Conflict, Forbidden, NotFound, Unprocessable
from app.geojson import area_from_geojson
from app.mission import service as mission_service
from app.mission.models import Mission
from app.sortie import live
from app.sortie.flightlog import TrackPoint, Water, figures
from app.sortie.models import Sortie, SortieEvent, SortieEventKind, SortieStatus
from app.sortie.repository import SortieRepository
from app.sortie.schemas import (
    CalendarEntry,
    CalendarRead,
    DronePosition,
    FlightLogRead,
    SortieCreate,
    SortieEventRead,
    SortieRead,
    SortieTransition,
    WaterwayTime,
)
from app.waterway import service as waterway_service
from app.waterway.models import Waterway
from missions import Booking, PatrolRoute, conflicts

# Maker's wind resistance (m/s) where published; preflight refuses stronger wind.
WIND_LIMIT_MPS = {"m30t": 15.0, "m3t": 12.0, "m3e": 12.0, "m3td": 12.0, "m4t": 12.0}
MAX_SRT_BYTES = 20 * 1024 * 1024
LIVE_LIMIT = 200

TRANSITIONS: dict[SortieStatus, frozenset[SortieStatus]] = {
    SortieStatus.planned: frozenset({SortieStatus.preflight, SortieStatus.aborted}),
    SortieStatus.preflight: frozenset({SortieStatus.airborne, SortieStatus.aborted}),
    SortieStatus.airborne: frozenset({SortieStatus.returning, SortieStatus.aborted}),
    SortieStatus.returning: frozenset({SortieStatus.landed, SortieStatus.aborted}),
    SortieStatus.landed: frozenset(),
    SortieStatus.aborted: frozenset(),
}
STAMP = {
    SortieStatus.preflight: "preflight_at",
    SortieStatus.airborne: "airborne_at",
    SortieStatus.returning: "returning_at",
    SortieStatus.landed: "landed_at",
    SortieStatus.aborted: "aborted_at",
}
TAKES_TELEMETRY = (SortieStatus.preflight, SortieStatus.airborne, SortieStatus.returning)


class SortieNotFound(NotFound):
    pass


class InvalidSortie(Unprocessable):
    pass


class SortieConflict(Conflict):
    """The drone cannot fly then: booked, too short a turnaround, unavailable, airspace."""


class TransitionNotAllowed(Conflict):
    pass


class PreflightFailed(Conflict):
    pass


class NotYourSortie(Forbidden):
    pass


class SortieNotFlying(Conflict):
    pass


class InvalidTelemetry(Unprocessable):
    pass


class InvalidSrtFile(Unprocessable):
    pass


@dataclass(frozen=True, slots=True)
class Sample:
    """One telemetry sample on its way in (from JSON or from an SRT file)."""

    at: datetime
    lon: float
    lat: float
    alt_m: float | None = None
    amsl_m: float | None = None
    heading_deg: float | None = None
    speed_mps: float | None = None
    battery_pct: float | None = None
    gimbal_pitch_deg: float | None = None
    gimbal_yaw_deg: float | None = None
    gimbal_roll_deg: float | None = None


# --- reading ------------------------------------------------------------------------------


def get(session: Session, principal: Principal, sortie_id: int, *, lock: bool = False) -> Sortie:
    repo = SortieRepository(session)
    sortie = repo.get(sortie_id, for_update=lock)
    if sortie is None or not principal.can_see(repo.station_path(sortie.station_id)):
        raise SortieNotFound(f"sortie {sortie_id} not found")
    return sortie


def list_visible(
    session: Session,
    principal: Principal,
    *,
    drone_id: int | None,
    waterway_id: int | None,
    operation_id: int | None,
    status: SortieStatus | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[Sortie], int]:
    return SortieRepository(session).list_under(
        principal.jurisdiction_path,
        drone_id=drone_id,
        waterway_id=waterway_id,
        operation_id=operation_id,
        status=status,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )


def calendar(
    session: Session,
    principal: Principal,
    *,
    by: str,
    since: datetime,
    until: datetime,
    drone_id: int | None,
    waterway_id: int | None,
) -> CalendarRead:
    if until <= since or until - since > timedelta(days=62):
        raise InvalidSortie("the calendar spans more than 0 and at most 62 days")
    rows, _ = list_visible(
        session,
        principal,
        drone_id=drone_id,
        waterway_id=waterway_id,
        operation_id=None,
        status=None,
        since=since,
        until=until,
        limit=5_000,
        offset=0,
    )
    groups: dict[int, list[Sortie]] = {}
    for row in rows:
        groups.setdefault(row.drone_id if by == "drone" else row.waterway_id, []).append(row)
    names: dict[int, str] = {}
    for key in groups:
        found = session.get(Drone, key) if by == "drone" else session.get(Waterway, key)
        names[key] = found.name if found is not None else str(key)
    return CalendarRead(
        by=by,
        since=since,
        until=until,
        groups=[
            CalendarEntry(
                key_id=key,
                name=names[key],
                sorties=[SortieRead.model_validate(s) for s in groups[key]],
            )
            for key in sorted(groups)
        ],
    )


# --- booking ------------------------------------------------------------------------------


def route_for(mission: Mission, route_index: int) -> PatrolRoute:
    if not 0 <= route_index < len(mission.sorties):
        raise InvalidSortie(
            f"mission {mission.id} has {len(mission.sorties)} sorties; no route {route_index}"
        )
    try:
        return mission_service.route_of(mission.sorties[route_index]["route"])
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidSortie(f"mission {mission.id} route {route_index}: {exc}") from exc


def duration_of(mission: Mission, route_index: int) -> timedelta:
    seconds = float(mission.sorties[route_index].get("duration_s") or mission.duration_s or 60.0)
    return timedelta(seconds=max(60.0, seconds))


def _route_shape(mission: Mission, route_index: int, waterway: Waterway) -> BaseGeometry:
    try:
        route = route_for(mission, route_index)
    except InvalidSortie:
        return area_from_geojson(waterway.area)
    points = [
        (p.lon_deg, p.lat_deg) for p in [route.launch, *(w.position for w in route.waypoints)]
    ]
    return LineString(points) if len(points) > 1 else Point(points[0])


def airspace_problems(
    session: Session,
    *,
    waterway: Waterway,
    mission: Mission,
    route_index: int,
    start: datetime,
    end: datetime,
) -> list[str]:
    """Time-bounded no-fly zones active over the route during ``[start, end)``."""
    zones = waterway_service.no_fly_zones_for(session, waterway, at=None)
    timed = [z for z in zones if z.valid_from is not None or z.valid_until is not None]
    if not timed:
        return []
    shape = _route_shape(mission, route_index, waterway)
    problems = []
    for zone in timed:
        if zone.valid_from is not None and zone.valid_from >= end:
            continue
        if zone.valid_until is not None and zone.valid_until <= start:
            continue
        if zone.area.intersects(shape):
            since = zone.valid_from.isoformat() if zone.valid_from else "open"
            until = zone.valid_until.isoformat() if zone.valid_until else "open"
            problems.append(
                f"no-fly zone {zone.name!r} ({since} to {until}) is active over the route of "
                f"{mission.name!r} at {start.isoformat()}"
            )
    return problems


def lock_drones(session: Session, drones: Sequence[Drone]) -> None:
    """Hold these drones' bookings until the transaction ends, then re-read the drones.

    Call before checking for overlaps: a concurrent booking of the same drones waits here
    until this transaction commits or rolls back, then sees what it booked (see
    ``SortieRepository.lock_drones``). The drones are re-read under the lock, in one query,
    so a status changed meanwhile (maintenance) is seen too.
    """
    SortieRepository(session).lock_drones(d.id for d in drones)


def fit_problems(drone: Drone, mission: Mission, route_index: int) -> list[str]:
    """Why ``drone`` cannot fly sortie ``route_index`` of ``mission`` as planned: the plan's
    model (its speed, camera footprint and WPML enums are that model's), the sortie's time
    against the model's endurance less its reserve, and the payload the plan uses."""
    label = f"drone {drone.name!r} (#{drone.id})"
    model = drone_service.profile(drone.model_id)
    problems = []
    planned_for = mission.drone_model_id
    if planned_for is not None and planned_for != drone.model_id:
        planned = drone_service.profile(planned_for)
        problems.append(
            f"mission {mission.id} was planned for a {planned.name} ({planned_for}); {label} "
            f"is a {model.name} ({drone.model_id}): re-plan the mission for this model"
        )
    duration_s = float(mission.sorties[route_index]["duration_s"])
    if duration_s > model.usable_flight_time_s:
        problems.append(
            f"sortie {route_index} of mission {mission.id} takes {duration_s / 60:.0f} min; "
            f"a {model.name} flies {model.usable_flight_time_s / 60:.0f} min on one battery "
            "before its reserve"
        )
    limits = mission.limits or {}
    if limits.get("camera") == "thermal" and not model.has_thermal:
        problems.append(f"the plan uses a thermal camera; {label} has none")
    return problems


def booking_problems(
    session: Session,
    *,
    drone: Drone,
    start: datetime,
    end: datetime,
    needs_thermal: bool,
    needs_speaker: bool,
    pending: Sequence[Booking],
    turnaround_s: float,
    mission: Mission,
    route_index: int,
    zone: ZoneInfo | None = None,
) -> list[str]:
    """Why ``drone`` cannot fly sortie ``route_index`` of ``mission`` in ``[start, end)``;
    empty when it can. Times are named in ``zone`` (default UTC)."""
    label = f"drone {drone.name!r} (#{drone.id})"
    problems = []
    if drone.status in (DroneStatus.maintenance, DroneStatus.retired):
        problems.append(f"{label} is in {drone.status}")
    problems.extend(fit_problems(drone, mission, route_index))
    model = drone_service.profile(drone.model_id)
    if needs_thermal and not model.has_thermal:
        problems.append(f"{label} has no thermal camera for a night sortie")
    if needs_speaker and not drone.has_speaker:
        problems.append(f"{label} carries no loudspeaker")
    margin = timedelta(seconds=turnaround_s)
    held = [
        Booking(s.drone_id, s.planned_start, s.planned_end, f"sortie {s.id}")
        for s in SortieRepository(session).bookings(
            [drone.id], since=start - margin, until=end + margin
        )
    ]
    for conflict in conflicts(
        Booking(drone.id, start, end), [*held, *pending], turnaround_s=turnaround_s
    ):
        problems.append(f"{label}: {conflict.describe(zone)}")
    return problems


def add_event(
    session: Session,
    sortie: Sortie,
    kind: SortieEventKind,
    detail: str,
    *,
    at: datetime,
    data: dict[str, Any] | None = None,
) -> SortieEvent:
    live.mark(session)
    return SortieRepository(session).add_event(
        SortieEvent(
            sortie_id=sortie.id,
            station_id=sortie.station_id,
            kind=kind,
            at=at,
            detail=detail[:300],
            data=data or {},
        )
    )


def new_sortie(
    session: Session,
    *,
    drone: Drone,
    mission: Mission,
    route_index: int,
    start: datetime,
    end: datetime,
    needs_thermal: bool,
    needs_speaker: bool,
    operation_id: int | None,
    schedule_id: int | None,
    operator_id: int | None,
    now: datetime,
) -> Sortie:
    sortie = SortieRepository(session).add(
        Sortie(
            drone_id=drone.id,
            mission_id=mission.id,
            route_index=route_index,
            waterway_id=mission.waterway_id,
            station_id=drone.station_id,
            operation_id=operation_id,
            schedule_id=schedule_id,
            operator_id=operator_id,
            planned_start=start,
            planned_end=end,
            needs_thermal=needs_thermal,
            needs_speaker=needs_speaker,
        )
    )
    add_event(
        session,
        sortie,
        SortieEventKind.state,
        f"planned for {start.isoformat()}",
        at=now,
        data={"status": "planned"},
    )
    return sortie


def _check_operator(session: Session, operator_id: int, station_path: str) -> None:
    from app.auth.models import User

    user = session.get(User, operator_id)
    path = SortieRepository(session).station_path(user.jurisdiction_id) if user else ""
    if user is None or user.role != Role.operator or not station_path.startswith(path):
        raise InvalidSortie(f"user {operator_id} is not an operator over this drone's station")


def book(
    session: Session,
    principal: Principal,
    data: SortieCreate,
    *,
    settings: Settings,
    now: datetime,
) -> Sortie:
    drone = drone_service.get(session, principal, data.drone_id)
    mission = mission_service.get(session, principal, data.mission_id)
    waterway = waterway_service.get(session, principal, mission.waterway_id)
    repo = SortieRepository(session)
    if not repo.station_path(drone.station_id).startswith(repo.station_path(mission.station_id)):
        raise InvalidSortie(f"drone {drone.name!r} is not of the station that owns the mission")
    route_for(mission, data.route_index)
    if data.operation_id is not None:
        _visible_operation(session, principal, data.operation_id)
    operator_id = data.operator_id
    if operator_id is None and principal.kind == "user" and principal.role is Role.operator:
        operator_id = principal.id
    if operator_id is not None:
        _check_operator(session, operator_id, repo.station_path(drone.station_id))
    start = data.planned_start
    end = start + duration_of(mission, data.route_index)
    lock_drones(session, [drone])
    problems = booking_problems(
        session,
        drone=drone,
        start=start,
        end=end,
        needs_thermal=data.needs_thermal,
        needs_speaker=data.needs_speaker,
        pending=[],
        turnaround_s=settings.sortie_turnaround_s,
        mission=mission,
        route_index=data.route_index,
        zone=settings.zone,
    ) + airspace_problems(
        session,
        waterway=waterway,
        mission=mission,
        route_index=data.route_index,
        start=start,
        end=end,
    )
    if problems:
        raise SortieConflict("; ".join(problems))
    return new_sortie(
        session,
        drone=drone,
        mission=mission,
        route_index=data.route_index,
        start=start,
        end=end,
        needs_thermal=data.needs_thermal,
        needs_speaker=data.needs_speaker,
        operation_id=data.operation_id,
        schedule_id=None,
        operator_id=operator_id,
        now=now,
    )


def _visible_operation(session: Session, principal: Principal, operation_id: int) -> None:
    from app.schedule.models import PatrolOperation

    operation = session.get(PatrolOperation, operation_id)
    repo = SortieRepository(session)
    if operation is None or not principal.can_see(repo.station_path(operation.jurisdiction_id)):
        raise InvalidSortie(f"patrol operation {operation_id} not found")


# --- lifecycle ----------------------------------------------------------------------------


def _may_move(principal: Principal, sortie: Sortie) -> None:
    if principal.role is Role.command:
        return
    if sortie.operator_id is None:
        sortie.operator_id = principal.id
        return
    if sortie.operator_id != principal.id:
        raise NotYourSortie(
            f"sortie {sortie.id} is flown by operator #{sortie.operator_id}; only they or "
            "command may move it"
        )


def _preflight(
    session: Session,
    sortie: Sortie,
    drone: Drone,
    body: SortieTransition,
    *,
    settings: Settings,
    now: datetime,
) -> list[dict[str, Any]]:
    checks: list[dict[str, Any]] = []

    def note(name: str, ok: bool, detail: str) -> None:
        checks.append({"check": name, "ok": ok, "detail": detail})

    note("drone_ready", drone.status == DroneStatus.ready, f"drone is {drone.status}")
    if body.battery_pct is None:
        note("battery", False, "battery charge not reported")
    else:
        note(
            "battery",
            body.battery_pct >= settings.preflight_min_battery_pct,
            f"battery {body.battery_pct:g}% (minimum {settings.preflight_min_battery_pct:g}%)",
        )
    limit = WIND_LIMIT_MPS.get(drone.model_id)
    if body.wind_mps is not None and limit is not None:
        note(
            "wind",
            body.wind_mps <= limit,
            f"wind {body.wind_mps:g} m/s (model limit {limit:g} m/s)",
        )
    mission = session.get(Mission, sortie.mission_id)
    waterway = session.get(Waterway, sortie.waterway_id)
    if mission is not None and waterway is not None:
        end = max(now, sortie.planned_start) + (sortie.planned_end - sortie.planned_start)
        problems = airspace_problems(
            session,
            waterway=waterway,
            mission=mission,
            route_index=sortie.route_index,
            start=now,
            end=end,
        )
        note("airspace", not problems, "; ".join(problems) or "no temporary no-fly zone")
    return checks


def transition(
    session: Session,
    principal: Principal,
    sortie_id: int,
    body: SortieTransition,
    *,
    settings: Settings,
    now: datetime,
) -> Sortie:
    sortie = get(session, principal, sortie_id, lock=True)
    _may_move(principal, sortie)
    current = SortieStatus(sortie.status)
    if body.to not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none (it is over)"
        raise TransitionNotAllowed(
            f"sortie {sortie.id} is {current}; it can go to: {allowed}, not {body.to}"
        )
    if body.to is SortieStatus.aborted and not body.reason:
        raise InvalidSortie("an abort needs a reason")
    drone = session.get(Drone, sortie.drone_id)
    assert drone is not None  # foreign key
    if body.to is SortieStatus.preflight:
        checks = _preflight(session, sortie, drone, body, settings=settings, now=now)
        failed = [c["detail"] for c in checks if not c["ok"]]
        if failed:
            raise PreflightFailed("preflight failed: " + "; ".join(failed))
        sortie.preflight_checks = checks
    if body.to is SortieStatus.airborne:
        drone.status = DroneStatus.in_flight
    if body.to in (SortieStatus.landed, SortieStatus.aborted):
        if drone.status == DroneStatus.in_flight:
            drone.status = DroneStatus.ready
        sortie.violations = []
    if body.to is SortieStatus.aborted:
        sortie.abort_reason = body.reason
    sortie.status = body.to
    setattr(sortie, STAMP[body.to], now)
    detail = f"{current} -> {body.to}" + (f": {body.reason}" if body.reason else "")
    add_event(
        session,
        sortie,
        SortieEventKind.state,
        detail,
        at=now,
        data={"status": str(body.to), "from": str(current), "by": principal.actor_name},
    )
    session.flush()
    return sortie


# --- live and flight log ------------------------------------------------------------------


def live_events(
    session: Session, principal: Principal, after: int
) -> tuple[list[SortieEventRead], list[DronePosition]]:
    repo = SortieRepository(session)
    events = [
        SortieEventRead.model_validate(e)
        for e in repo.events_after(principal.jurisdiction_path, after, limit=LIVE_LIMIT)
    ]
    return events, positions(session, principal)


def positions(session: Session, principal: Principal) -> list[DronePosition]:
    return [
        DronePosition(
            sortie_id=s.id,
            drone_id=s.drone_id,
            status=s.status,
            lon=s.last_lon or 0.0,
            lat=s.last_lat or 0.0,
            alt_m=s.last_alt_m,
            battery_pct=s.last_battery_pct,
            at=s.last_telemetry_at or s.created_at,
            violations=list(s.violations),
        )
        for s in SortieRepository(session).flying_under(principal.jurisdiction_path)
        if s.last_lon is not None and s.last_lat is not None
    ]


def flight_log(
    session: Session, principal: Principal, sortie_id: int, *, settings: Settings
) -> FlightLogRead:
    sortie = get(session, principal, sortie_id)
    repo = SortieRepository(session)
    rows = repo.samples_of(sortie.id)
    points = [TrackPoint(r.at, r.lon, r.lat, r.alt_m) for r in rows]
    mission = session.get(Mission, sortie.mission_id)
    route_line = None
    if mission is not None:
        try:
            route = route_for(mission, sortie.route_index)
            coords = [
                (p.lon_deg, p.lat_deg)
                for p in [route.launch, *(w.position for w in route.waypoints)]
            ]
            route_line = LineString(coords) if len(coords) > 1 else None
        except InvalidSortie:
            route_line = None
    waters: list[Water] = []
    if points:
        track_box = LineString([(p.lon, p.lat) for p in points] * 2).envelope
        visible, _ = waterway_service.list_visible(
            session, principal, station_id=None, limit=500, offset=0
        )
        for waterway in visible:
            area = area_from_geojson(waterway.area)
            if waterway.id == sortie.waterway_id or area.intersects(track_box):
                waters.append(Water(waterway.id, waterway.name, area))
    result = figures(
        points, route=route_line, waters=waters, corridor_m=settings.conformance_off_route_m
    )
    return FlightLogRead(
        sortie_id=sortie.id,
        status=sortie.status,
        samples=result.samples,
        started_at=result.started_at,
        ended_at=result.ended_at,
        flight_time_s=result.flight_time_s,
        distance_m=result.distance_m,
        max_alt_m=result.max_alt_m,
        route_share=result.route_share,
        time_over_waterways=[
            WaterwayTime(waterway_id=i, name=n, seconds=s) for i, n, s in result.time_over
        ],
        track=result.track,
        events=[SortieEventRead.model_validate(e) for e in repo.events_of(sortie.id)],
    )


def events_json(event: SortieEventRead) -> str:
    return json.dumps(event.model_dump(mode="json"), ensure_ascii=False)


def scheduled_starts(session: Session, schedule_id: int) -> set[datetime]:
    return SortieRepository(session).scheduled_starts(schedule_id)

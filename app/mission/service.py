from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from shapely.geometry import LineString
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.config import Settings
from app.drone import service as drone_service
from app.errors import NotFound, Unprocessable
from app.mission.budget import PlanningFailed, PlanningTooComplex, plan_within_budget
from app.mission.models import Mission
from app.mission.repository import MissionRepository
from app.mission.schemas import PlanningLimitsIn, PlanRead, PlanRequest, SortieRead
from app.waterway import service as waterway_service
from app.waterway.models import Waterway
from missions import (
    EXPORT_FORMATS,
    PROFILES,
    AltitudeReference,
    CameraKind,
    DroneProfile,
    ImportedRoute,
    LocalProjection,
    LonLat,
    MissionFormatError,
    MissionsError,
    PatrolPlan,
    PatrolRoute,
    PlanningLimits,
    coverage_ratio,
    export_route,
    import_route_file,
    read_geojson_route,
    write_geojson,
)

# A plan with more lanes than this is a mistake (spacing far too small for the water).
MAX_LANES = 3_000
MAX_ROUTE_BYTES = 5 * 1024 * 1024


class MissionNotFound(NotFound):
    pass


class MissionNotPlannable(Unprocessable):
    pass


class PlanTooComplex(Unprocessable):
    pass


class InvalidMissionFile(Unprocessable):
    pass


class ExportNotPossible(Unprocessable):
    pass


class RouteAboveCeiling(Unprocessable):
    pass


def _route_json(route: PatrolRoute) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(write_geojson(route))
    return loaded


def route_of(data: dict[str, Any]) -> PatrolRoute:
    """Stored GeoJSON -> ``missions.PatrolRoute``."""
    return read_geojson_route(json.dumps(data))


def _limits(request: PlanRequest) -> PlanningLimits:
    return PlanningLimits(**request.limits.model_dump())


def _guard_size(waterway: Waterway, limits: PlanningLimits) -> None:
    if limits.lane_spacing_m is None:
        return
    area = waterway_service.as_core(waterway).area
    minx, miny, maxx, maxy = LocalProjection.around(area).to_m(area).bounds
    lanes = min(maxx - minx, maxy - miny) / limits.lane_spacing_m
    if lanes > MAX_LANES:
        raise MissionNotPlannable(
            f"lane spacing {limits.lane_spacing_m:g} m would need about {lanes:,.0f} lanes "
            f"(limit {MAX_LANES}); use a wider spacing"
        )


def _launch(waterway: Waterway, name: str | None) -> LonLat | None:
    if name is None:
        return None
    for point in waterway.launch_points:
        if point["name"] == name:
            return LonLat(point["lon"], point["lat"])
    known = ", ".join(p["name"] for p in waterway.launch_points) or "none"
    raise MissionNotPlannable(f"waterway has no launch point {name!r} (known: {known})")


def check_altitudes(limits: PlanningLimitsIn, settings: Settings) -> None:
    """The floor and the ceiling are the service's, never the request's: a request may fly
    lower than the ceiling and ask for a lower ceiling, never higher."""
    if limits.altitude_m < settings.altitude_floor_m:
        raise MissionNotPlannable(
            f"limits.altitude_m {limits.altitude_m:g} m is below the service's floor of "
            f"{settings.altitude_floor_m:g} m above take-off (ALTITUDE_FLOOR_M)"
        )
    if limits.ceiling_m > settings.altitude_ceiling_m:
        raise MissionNotPlannable(
            f"limits.ceiling_m {limits.ceiling_m:g} m is above the service's ceiling of "
            f"{settings.altitude_ceiling_m:g} m (ALTITUDE_CEILING_M); a plan may only lower it"
        )
    if limits.altitude_m > limits.ceiling_m:
        raise MissionNotPlannable(
            f"limits.altitude_m {limits.altitude_m:g} m is above limits.ceiling_m "
            f"{limits.ceiling_m:g} m"
        )


def _plan(
    session: Session, waterway: Waterway, request: PlanRequest, settings: Settings
) -> PatrolPlan:
    check_altitudes(request.limits, settings)
    drone = drone_service.profile(request.drone_model_id)
    if request.launch_point is None and not waterway.launch_points:
        raise MissionNotPlannable(
            f"waterway {waterway.name!r} has no launch point: add one to the waterway's "
            "launch_points (PATCH /waterways/{id}) and name it in launch_point"
        )
    try:
        limits = _limits(request)
    except ValueError as exc:
        raise MissionNotPlannable(str(exc)) from exc
    _guard_size(waterway, limits)
    zones = waterway_service.no_fly_zones_for(session, waterway, at=request.flies_at)
    try:
        return plan_within_budget(
            settings.planning_budget_s,
            waterway=waterway_service.as_core(waterway),
            pattern=request.pattern,
            drone=drone,
            limits=limits,
            no_fly_zones=zones,
            at=request.flies_at,
            launch=_launch(waterway, request.launch_point),
        )
    except PlanningTooComplex as exc:
        raise PlanTooComplex(str(exc)) from exc
    except PlanningFailed as exc:
        raise MissionNotPlannable(str(exc)) from exc


def _plan_read(name: str, waterway_id: int, plan: PatrolPlan) -> PlanRead:
    return PlanRead(
        name=name,
        waterway_id=waterway_id,
        drone_model_id=plan.route.drone_id,
        pattern=str(plan.pattern),
        length_m=round(plan.length_m, 1),
        duration_s=round(plan.duration_s, 1),
        coverage_ratio=round(plan.coverage_ratio, 4),
        turns=plan.turns,
        lane_spacing_m=None if plan.lane_spacing_m is None else round(plan.lane_spacing_m, 2),
        sorties=[
            SortieRead(
                index=s.index,
                length_m=round(s.length_m, 1),
                duration_s=round(s.duration_s, 1),
                waypoints=len(s.route.waypoints),
                route=_route_json(s.route),
            )
            for s in plan.sorties
        ],
        route=_route_json(plan.route),
    )


def preview(
    session: Session, principal: Principal, request: PlanRequest, *, settings: Settings
) -> PlanRead:
    waterway = waterway_service.get(session, principal, request.waterway_id)
    plan = _plan(session, waterway, request, settings)
    return _plan_read(request.name or f"{waterway.name} {request.pattern}", waterway.id, plan)


def create(
    session: Session, principal: Principal, request: PlanRequest, *, settings: Settings
) -> Mission:
    waterway = waterway_service.get(session, principal, request.waterway_id)
    plan = _plan(session, waterway, request, settings)
    read = _plan_read(request.name or f"{waterway.name} {request.pattern}", waterway.id, plan)
    return MissionRepository(session).add(
        Mission(
            name=read.name,
            waterway_id=waterway.id,
            station_id=waterway.station_id,
            drone_model_id=read.drone_model_id,
            pattern=read.pattern,
            source="planner",
            limits=request.limits.model_dump(mode="json")
            | {"flies_at": request.flies_at.isoformat() if request.flies_at else None},
            route=read.route,
            sorties=[s.model_dump() for s in read.sorties],
            length_m=read.length_m,
            duration_s=read.duration_s,
            coverage_ratio=read.coverage_ratio,
            turns=read.turns,
            lane_spacing_m=read.lane_spacing_m,
            created_by_id=principal.id if principal.kind == "user" else None,
        )
    )


def get(session: Session, principal: Principal, mission_id: int) -> Mission:
    repo = MissionRepository(session)
    mission = repo.get(mission_id)
    if mission is None or not principal.can_see(repo.station_path(mission)):
        raise MissionNotFound(f"mission {mission_id} not found")
    return mission


def list_visible(
    session: Session, principal: Principal, *, waterway_id: int | None, limit: int, offset: int
) -> tuple[Sequence[Mission], int]:
    return MissionRepository(session).list_under(
        principal.jurisdiction_path, waterway_id=waterway_id, limit=limit, offset=offset
    )


def delete(session: Session, principal: Principal, mission_id: int) -> None:
    MissionRepository(session).delete(get(session, principal, mission_id))


# --- export and import ----------------------------------------------------------------------


def _export_drone(mission: Mission, model_id: str | None, format_id: str) -> DroneProfile | None:
    """The drone the file is written for: the one asked for, else the mission's model."""
    if model_id is not None:
        drone = drone_service.profile(model_id)
        if mission.drone_model_id is not None and mission.drone_model_id != drone.id:
            raise ExportNotPossible(
                f"mission {mission.id} was planned for a {mission.drone_model_id}; a {drone.id} "
                f"cannot fly it without re-planning (plan it again with drone_model_id "
                f"{drone.id!r})"
            )
        return drone
    if mission.drone_model_id is not None:
        return drone_service.profile(mission.drone_model_id)
    if format_id == "dji-kmz":
        known = ", ".join(sorted(PROFILES))
        raise ExportNotPossible(
            f"mission {mission.id} names no drone model (its file did not say); a DJI KMZ is "
            f"written for the drone that flies it: add the export's drone option, e.g. "
            f"?format=dji-kmz&drone=m30t (known: {known})"
        )
    return None


def export(
    session: Session,
    principal: Principal,
    mission_id: int,
    *,
    format_id: str,
    sortie: int,
    drone_model_id: str | None = None,
) -> tuple[bytes, str, str]:
    """The file for one sortie: (content, media type, file name)."""
    mission = get(session, principal, mission_id)
    if not 0 <= sortie < len(mission.sorties):
        raise ExportNotPossible(
            f"sortie {sortie} does not exist; this mission has {len(mission.sorties)}"
        )
    fmt = EXPORT_FORMATS[format_id]
    drone = _export_drone(mission, drone_model_id, format_id)
    route = route_of(mission.sorties[sortie]["route"])
    waterway = waterway_service.get(session, principal, mission.waterway_id)
    zones = waterway_service.no_fly_zones_for(session, waterway, at=None)
    created_ms = int(mission.created_at.timestamp() * 1000)
    try:
        content = export_route(
            route,
            format_id,
            no_fly_zones=zones,
            drone=drone,
            created_ms=created_ms,
            is_night=bool(mission.limits.get("is_night", False)),
        )
    except (MissionsError, ValueError) as exc:
        raise ExportNotPossible(str(exc)) from exc
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in mission.name)[:60]
    return content, fmt.media_type, f"{stem or 'mission'}-{mission.id}-s{sortie}{fmt.extension}"


def _read_route(filename: str, data: bytes) -> ImportedRoute:
    try:
        return import_route_file(filename, data, name=filename)
    except (MissionFormatError, ValueError) as exc:
        raise InvalidMissionFile(f"{filename}: {exc}") from exc


def _check_ceiling(imported: ImportedRoute, *, ceiling_m: float) -> list[str]:
    """Refuse a route above the ceiling; say so when its heights cannot be checked."""
    route = imported.route
    highest = max(w.altitude_m for w in route.waypoints)
    if route.altitude_reference == AltitudeReference.takeoff:
        if highest > ceiling_m:
            raise RouteAboveCeiling(
                f"the route flies up to {highest:.0f} m above the take-off point, over the "
                f"{ceiling_m:g} m ceiling; lower it in the flight app and import it again"
            )
        return []
    return [
        f"heights are above sea level (up to {highest:.0f} m); the {ceiling_m:g} m ceiling "
        "above take-off could not be checked: check it before flight"
    ]


def _figures(route: PatrolRoute) -> tuple[float, float]:
    points = [route.launch, *(w.position for w in route.waypoints)]
    line = LineString([(p.lon_deg, p.lat_deg) for p in points])
    length_m = LocalProjection.around(line).to_m(line).length if len(points) > 1 else 0.0
    hover_s = sum(w.hover_s for w in route.waypoints)
    speed = route.speed_mps if route.speed_mps > 0 else 5.0
    return length_m, length_m / speed + hover_s


def import_route(
    session: Session,
    principal: Principal,
    *,
    waterway_id: int,
    filename: str,
    data: bytes,
    name: str | None,
    ceiling_m: float,
) -> Mission:
    waterway = waterway_service.get(session, principal, waterway_id)
    if len(data) > MAX_ROUTE_BYTES:
        raise InvalidMissionFile(f"file is larger than {MAX_ROUTE_BYTES // 2**20} MiB")
    imported = _read_route(filename, data)
    route, source = imported.route, imported.format_id
    if not route.waypoints:
        raise InvalidMissionFile(f"{filename}: the route has no waypoints")
    notes = [*imported.notes, *_check_ceiling(imported, ceiling_m=ceiling_m)]
    length_m, duration_s = _figures(route)
    coverage = None
    profile = PROFILES.get(route.drone_id or "")
    if profile is not None:
        altitude_m = sum(w.altitude_m for w in route.waypoints) / len(route.waypoints)
        camera = next((c for c in profile.cameras if c.kind == CameraKind.wide), None)
        if camera is not None and altitude_m > 0:
            coverage = round(
                coverage_ratio(
                    waterway_service.as_core(waterway),
                    [route],
                    footprint_width_m=camera.footprint_width_m(altitude_m),
                ),
                4,
            )
    route_json = _route_json(route)
    title = name or filename.rsplit("/", 1)[-1][:120]
    return MissionRepository(session).add(
        Mission(
            name=title,
            waterway_id=waterway.id,
            station_id=waterway.station_id,
            drone_model_id=route.drone_id,
            pattern="imported",
            source=source,
            limits={"import_notes": notes} if notes else {},
            route=route_json,
            sorties=[
                {
                    "index": 0,
                    "length_m": round(length_m, 1),
                    "duration_s": round(duration_s, 1),
                    "waypoints": len(route.waypoints),
                    "route": route_json,
                }
            ],
            length_m=round(length_m, 1),
            duration_s=round(duration_s, 1),
            coverage_ratio=coverage,
            created_by_id=principal.id if principal.kind == "user" else None,
        )
    )

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
from app.mission.schemas import PlanRead, PlanRequest, SortieRead
from app.waterway import service as waterway_service
from app.waterway.models import Waterway
from missions import (
    EXPORT_FORMATS,
    PROFILES,
    CameraKind,
    LocalProjection,
    LonLat,
    MissionFormatError,
    MissionsError,
    PatrolPlan,
    PatrolRoute,
    PlanningLimits,
    coverage_ratio,
    export_route,
    read_dji_kmz,
    read_geojson_route,
    read_qgc_plan,
    read_qgc_wpl,
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


def _plan(
    session: Session, waterway: Waterway, request: PlanRequest, settings: Settings
) -> PatrolPlan:
    drone = drone_service.profile(request.drone_model_id)
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


def export(
    session: Session, principal: Principal, mission_id: int, *, format_id: str, sortie: int
) -> tuple[bytes, str, str]:
    """The file for one sortie: (content, media type, file name)."""
    mission = get(session, principal, mission_id)
    if not 0 <= sortie < len(mission.sorties):
        raise ExportNotPossible(
            f"sortie {sortie} does not exist; this mission has {len(mission.sorties)}"
        )
    fmt = EXPORT_FORMATS[format_id]
    route = route_of(mission.sorties[sortie]["route"])
    waterway = waterway_service.get(session, principal, mission.waterway_id)
    zones = waterway_service.no_fly_zones_for(session, waterway, at=None)
    drone = drone_service.profile(mission.drone_model_id) if mission.drone_model_id else None
    created_ms = int(mission.created_at.timestamp() * 1000)
    try:
        content = export_route(
            route, format_id, no_fly_zones=zones, drone=drone, created_ms=created_ms
        )
    except (MissionsError, ValueError) as exc:
        raise ExportNotPossible(str(exc)) from exc
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in mission.name)[:60]
    return content, fmt.media_type, f"{stem or 'mission'}-{mission.id}-s{sortie}{fmt.extension}"


def _read_route(filename: str, data: bytes) -> tuple[PatrolRoute, str]:
    lower = filename.lower()
    try:
        if lower.endswith(".plan"):
            return read_qgc_plan(data), "qgc-plan"
        if lower.endswith(".kmz"):
            return read_dji_kmz(data, name=filename), "dji-kmz"
        if lower.endswith((".waypoints", ".txt")):
            return read_qgc_wpl(data), "qgc-wpl"
    except (MissionFormatError, ValueError) as exc:
        raise InvalidMissionFile(f"{filename}: {exc}") from exc
    raise InvalidMissionFile(
        f"unsupported mission file {filename!r} (use .plan, .kmz or .waypoints)"
    )


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
) -> Mission:
    waterway = waterway_service.get(session, principal, waterway_id)
    if len(data) > MAX_ROUTE_BYTES:
        raise InvalidMissionFile(f"file is larger than {MAX_ROUTE_BYTES // 2**20} MiB")
    route, source = _read_route(filename, data)
    if not route.waypoints:
        raise InvalidMissionFile(f"{filename}: the route has no waypoints")
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
            limits={},
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

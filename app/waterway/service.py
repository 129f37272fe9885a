from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import shapely
from shapely.geometry import LineString, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.errors import Conflict, NotFound, Unprocessable
from app.geojson import (
    LineStringGeometry,
    MultiPolygonGeometry,
    PolygonGeometry,
    area_from_geojson,
    line_from_geojson,
    polygon_from_geojson,
    raw_polygons,
    to_geojson,
)
from app.jurisdiction import service as jurisdiction_service
from app.jurisdiction.models import Jurisdiction, JurisdictionKind
from app.waterway.models import FixedObject, FixedObjectStatus, NoFlyZone, Waterway
from app.waterway.repository import NoFlyZoneRepository, WaterwayRepository
from app.waterway.schemas import (
    DeepWaterZoneIn,
    FixedObjectCreate,
    FixedObjectDecision,
    GeometryProblemRead,
    NamedPoint,
    NoFlyZoneCreate,
    WaterwayCreate,
    WaterwayCreated,
    WaterwayRead,
    WaterwayUpdate,
)
from detection import distance_m
from missions import (
    GeometryProblem,
    HotSpot,
    InvalidWaterwayError,
    LaunchPoint,
    LocalProjection,
    LonLat,
    WaterwayKind,
    check_polygons,
    load_area_file,
)
from missions import NoFlyZone as CoreNoFlyZone
from missions import Waterway as CoreWaterway

# A hot spot may sit on the bank next to the water; a launch point is on the bank.
HOT_SPOT_MAX_FROM_WATER_M = 200.0
LAUNCH_MAX_FROM_WATER_M = 2_000.0
ZONE_OUTSIDE_TOLERANCE = 0.01
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class WaterwayNotFound(NotFound):
    pass


class NoFlyZoneNotFound(NotFound):
    pass


class InvalidWaterway(Unprocessable):
    pass


class InvalidWaterwayFile(Unprocessable):
    pass


# --- validation ---------------------------------------------------------------------------


def _problems(problems: Sequence[GeometryProblem]) -> list[dict[str, str]]:
    return [{"code": p.code, "message": p.message} for p in problems]


def checked_area(
    geometry: PolygonGeometry | MultiPolygonGeometry, *, what: str, repair: bool
) -> tuple[Polygon | MultiPolygon, list[GeometryProblem]]:
    """Validate a drawn area; refuse it with every problem, or return it (repaired)."""
    outcome = check_polygons(raw_polygons(geometry))
    if outcome.area is None:
        raise InvalidWaterway(
            {"message": f"{what} is unusable", "problems": _problems(outcome.problems)}
        )
    if outcome.problems and not repair:
        raise InvalidWaterway(
            {
                "message": f"{what} has problems that can be repaired; resend with "
                "repair=true to accept the repaired shape",
                "problems": _problems(outcome.problems),
                "repaired": to_geojson(outcome.area),
                "area_change_ratio": round(outcome.area_change_ratio, 6),
            }
        )
    return outcome.area, list(outcome.problems)


def _check_inside(area_m: Polygon | MultiPolygon, zone_m: Polygon, name: str) -> None:
    outside = zone_m.difference(area_m).area
    if zone_m.area > 0 and outside / zone_m.area > ZONE_OUTSIDE_TOLERANCE:
        raise InvalidWaterway(
            f"deep-water zone {name!r} lies {outside / zone_m.area:.0%} outside the water"
        )


def _check_near(
    area_m: Polygon | MultiPolygon,
    projection: LocalProjection,
    point: NamedPoint,
    *,
    limit_m: float,
    what: str,
) -> None:
    x, y = projection.lonlat_to_xy(point.lon, point.lat)
    distance_m = area_m.distance(Point(x, y))
    if distance_m > limit_m:
        raise InvalidWaterway(
            f"{what} {point.name!r} is {distance_m:,.0f} m from the water (limit {limit_m:g} m)"
        )


def _features(
    area: Polygon | MultiPolygon,
    *,
    zones: Sequence[DeepWaterZoneIn],
    hot_spots: Sequence[NamedPoint],
    launch_points: Sequence[NamedPoint],
    centre_line: LineStringGeometry | None,
) -> dict[str, Any]:
    projection = LocalProjection.around(area)
    area_m = projection.to_m(area)
    stored_zones = []
    for zone in zones:
        shape, _ = checked_area(zone.area, what=f"deep-water zone {zone.name!r}", repair=False)
        if not isinstance(shape, Polygon):
            raise InvalidWaterway(f"deep-water zone {zone.name!r} must be one polygon")
        _check_inside(area_m, projection.to_m(shape), zone.name)
        stored_zones.append({"name": zone.name, "area": to_geojson(shape)})
    for spot in hot_spots:
        _check_near(area_m, projection, spot, limit_m=HOT_SPOT_MAX_FROM_WATER_M, what="hot spot")
    for launch in launch_points:
        _check_near(
            area_m, projection, launch, limit_m=LAUNCH_MAX_FROM_WATER_M, what="launch point"
        )
    line = None
    if centre_line is not None:
        line_ll = LineString([(p[0], p[1]) for p in centre_line.coordinates])
        if not line_ll.is_valid or line_ll.length == 0:
            raise InvalidWaterway("centre line is degenerate")
        if not all(-180 <= x <= 180 and -90 <= y <= 90 for x, y in line_ll.coords):
            raise InvalidWaterway("centre line is not lon/lat in degrees")
        if projection.to_m(line_ll).distance(area_m) > 0:
            raise InvalidWaterway("centre line does not touch the water")
        line = to_geojson(line_ll)
    return {
        "deep_water_zones": stored_zones,
        "hot_spots": [p.model_dump() for p in hot_spots],
        "launch_points": [p.model_dump() for p in launch_points],
        "centre_line": line,
        "area_m2": round(area_m.area, 1),
    }


# --- the station's area ---------------------------------------------------------------------


class OutsideArea(Unprocessable):
    pass


# Default area settings (the service passes WATERGUARD_AREA_MARGIN_M and
# WATERGUARD_AREA_UNBOUNDED_RADIUS_M).
AREA_MARGIN_M = 1_000.0
AREA_UNBOUNDED_RADIUS_M = 50_000.0


def _swapped(geometry: BaseGeometry) -> BaseGeometry:
    return shapely.transform(geometry, lambda coords: coords[:, ::-1])


def _outside_share(shape_ll: BaseGeometry, boundary_ll: BaseGeometry, margin_m: float) -> float:
    """Share of ``shape_ll``'s area outside ``boundary_ll`` grown by ``margin_m`` (1.0 when
    the two are nowhere near each other)."""
    if not jurisdiction_service.near_box(boundary_ll, margin_m).intersects(shape_ll):
        return 1.0
    projection = LocalProjection.around(boundary_ll)
    shape_m = projection.to_m(shape_ll)
    allowed_m = projection.to_m(boundary_ll).buffer(margin_m)
    if shape_m.area <= 0:
        return 0.0 if allowed_m.covers(shape_m) else 1.0
    return float(shape_m.difference(allowed_m).area / shape_m.area)


def _district_extent(session: Session, jurisdiction: Jurisdiction) -> BaseGeometry | None:
    district_path = "/" + jurisdiction.path.strip("/").split("/")[0] + "/"
    waters, _ = WaterwayRepository(session).list_under(
        district_path, station_id=None, limit=10_000, offset=0
    )
    zones, _ = NoFlyZoneRepository(session).list_under(district_path, limit=10_000, offset=0)
    shapes = [area_from_geojson(w.area) for w in waters] + [
        area_from_geojson(z.area) for z in zones
    ]
    return shapely.union_all([s.envelope for s in shapes]) if shapes else None


def _misplaced(
    session: Session,
    jurisdiction: Jurisdiction,
    shape_ll: BaseGeometry,
    *,
    margin_m: float,
    unbounded_radius_m: float,
) -> str | None:
    """Why ``shape_ll`` does not lie in ``jurisdiction``'s area, or None when it does."""
    found = jurisdiction_service.boundary_of(session, jurisdiction)
    if found is not None:
        owner, boundary = found
        share = _outside_share(shape_ll, boundary, margin_m)
        if share <= ZONE_OUTSIDE_TOLERANCE:
            return None
        return (
            f"{share:.0%} of it lies outside the boundary of {owner.name_en} "
            f"({owner.code}, margin {margin_m:g} m)"
        )
    extent = _district_extent(session, jurisdiction)
    if extent is None:
        return None  # nothing recorded yet: the first water defines the district's extent
    if jurisdiction_service.near_box(extent, unbounded_radius_m).intersects(shape_ll):
        projection = LocalProjection.around(extent)
        distance_m = projection.to_m(extent).distance(projection.to_m(shape_ll))
        if distance_m <= unbounded_radius_m:
            return None
    return (
        f"it lies more than {unbounded_radius_m:g} m from every water and no-fly zone of the "
        "district, which has no recorded boundary"
    )


def check_in_area(
    session: Session,
    jurisdiction: Jurisdiction,
    shape_ll: BaseGeometry,
    *,
    what: str,
    margin_m: float = AREA_MARGIN_M,
    unbounded_radius_m: float = AREA_UNBOUNDED_RADIUS_M,
) -> None:
    """Refuse ``shape_ll`` unless it lies in ``jurisdiction``'s area: within the boundary
    of the jurisdiction or of its nearest ancestor that has one (grown by ``margin_m``), or,
    where no boundary is recorded at all, within ``unbounded_radius_m`` of the district's
    recorded waters and no-fly zones. Swapped lon/lat is named when the swapped shape fits."""
    limits = {"margin_m": margin_m, "unbounded_radius_m": unbounded_radius_m}
    why = _misplaced(session, jurisdiction, shape_ll, **limits)
    if why is None:
        return
    problems = [{"code": "outside_area", "message": f"{what}: {why}"}]
    swapped = _swapped(shape_ll)
    fits_swapped = swapped.is_valid and all(-90 <= y <= 90 for y in swapped.bounds[1::2])
    if fits_swapped and _misplaced(session, jurisdiction, swapped, **limits) is None:
        problems.append(
            {
                "code": "swapped_lon_lat",
                "message": "with longitude and latitude swapped it would lie in the area: "
                "send [lon, lat] (RFC 7946)",
            }
        )
    raise OutsideArea(
        {
            "message": f"{what} does not lie in the area of {jurisdiction.name_en} "
            f"({jurisdiction.code})",
            "problems": problems,
        }
    )


# --- waterways ------------------------------------------------------------------------------


def get(session: Session, principal: Principal, waterway_id: int) -> Waterway:
    repo = WaterwayRepository(session)
    waterway = repo.get(waterway_id)
    if waterway is None or not principal.can_see(repo.station_path(waterway)):
        raise WaterwayNotFound(f"waterway {waterway_id} not found")
    return waterway


def list_visible(
    session: Session, principal: Principal, *, station_id: int | None, limit: int, offset: int
) -> tuple[Sequence[Waterway], int]:
    return WaterwayRepository(session).list_under(
        principal.jurisdiction_path, station_id=station_id, limit=limit, offset=offset
    )


def _check_communities(session: Session, principal: Principal, ids: Sequence[int]) -> list[int]:
    for community_id in ids:
        jurisdiction_service.get_for_assignment(
            session, principal, community_id, kinds={JurisdictionKind.community}
        )
    return sorted(set(ids))


def _created(waterway: Waterway, repairs: Sequence[GeometryProblem]) -> WaterwayCreated:
    read = WaterwayRead.model_validate(waterway)
    return WaterwayCreated(
        **read.model_dump(),
        repairs=[GeometryProblemRead(code=p.code, message=p.message) for p in repairs],
    )


def create(
    session: Session, principal: Principal, data: WaterwayCreate, **area_limits: float
) -> WaterwayCreated:
    """``area_limits``: ``margin_m`` and ``unbounded_radius_m`` of :func:`check_in_area`."""
    station = jurisdiction_service.get_for_assignment(
        session, principal, data.station_id, kinds={JurisdictionKind.station}
    )
    communities = _check_communities(session, principal, data.community_ids)
    area, repairs = checked_area(data.area, what="the water area", repair=data.repair)
    check_in_area(session, station, area, what="the water area", **area_limits)
    features = _features(
        area,
        zones=data.deep_water_zones,
        hot_spots=data.hot_spots,
        launch_points=data.launch_points,
        centre_line=data.centre_line,
    )
    waterway = WaterwayRepository(session).add(
        Waterway(
            name=data.name,
            kind=data.kind,
            risk_level=data.risk_level,
            station_id=station.id,
            community_ids=communities,
            area=to_geojson(area),
            **features,
        )
    )
    return _created(waterway, repairs)


def import_file(
    session: Session,
    principal: Principal,
    *,
    filename: str,
    data: bytes,
    station_id: int,
    kind: str,
    risk_level: int,
    repair: bool,
    **area_limits: float,
) -> list[WaterwayCreated]:
    """Create one waterway per polygon feature of a GeoJSON/KML/KMZ file: all or nothing."""
    station = jurisdiction_service.get_for_assignment(
        session, principal, station_id, kinds={JurisdictionKind.station}
    )
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidWaterwayFile(f"file is larger than {MAX_UPLOAD_BYTES // 2**20} MiB")
    try:
        areas = load_area_file(filename, data, repair=repair)
    except InvalidWaterwayError as exc:
        detail: dict[str, Any] = {"message": str(exc), "problems": _problems(exc.problems)}
        if exc.repaired_wkt is not None:
            detail["hint"] = "resend with repair=true to accept the repaired shapes"
            detail["area_change_ratio"] = exc.area_change_ratio
        raise InvalidWaterwayFile(detail) from exc
    except ValueError as exc:
        raise InvalidWaterwayFile(str(exc)) from exc
    if not areas:
        raise InvalidWaterwayFile("the file holds no polygon")
    created = []
    stem = filename.rsplit("/", 1)[-1].rsplit(".", 1)[0][:100] or "waterway"
    for imported in areas:
        what = f"feature {imported.feature_index + 1} ({imported.name or 'unnamed'})"
        check_in_area(session, station, imported.area, what=what, **area_limits)
    for imported in areas:
        features = _features(
            imported.area, zones=(), hot_spots=(), launch_points=(), centre_line=None
        )
        waterway = WaterwayRepository(session).add(
            Waterway(
                name=(imported.name or f"{stem} {imported.feature_index + 1}")[:120],
                kind=kind,
                risk_level=risk_level,
                station_id=station.id,
                community_ids=[],
                area=to_geojson(imported.area),
                **features,
            )
        )
        created.append(_created(waterway, imported.repairs))
    return created


def update(
    session: Session, principal: Principal, waterway_id: int, data: WaterwayUpdate
) -> Waterway:
    waterway = get(session, principal, waterway_id)
    changes = data.model_dump(exclude_unset=True)
    if data.name is not None:
        waterway.name = data.name
    if data.kind is not None:
        waterway.kind = data.kind
    if data.risk_level is not None:
        waterway.risk_level = data.risk_level
    if data.community_ids is not None:
        waterway.community_ids = _check_communities(session, principal, data.community_ids)
    feature_keys = {"deep_water_zones", "hot_spots", "launch_points", "centre_line"}
    if feature_keys & changes.keys():
        features = _features(
            area_from_geojson(waterway.area),
            zones=data.deep_water_zones
            if data.deep_water_zones is not None
            else [DeepWaterZoneIn.model_validate(z) for z in waterway.deep_water_zones],
            hot_spots=data.hot_spots
            if data.hot_spots is not None
            else [NamedPoint.model_validate(p) for p in waterway.hot_spots],
            launch_points=data.launch_points
            if data.launch_points is not None
            else [NamedPoint.model_validate(p) for p in waterway.launch_points],
            centre_line=data.centre_line
            if "centre_line" in changes
            else (
                LineStringGeometry.model_validate(waterway.centre_line)
                if waterway.centre_line
                else None
            ),
        )
        for key in feature_keys:
            setattr(waterway, key, features[key])
    session.flush()
    return waterway


class WaterwayInUse(Conflict):
    pass


def delete(session: Session, principal: Principal, waterway_id: int) -> None:
    """Remove a waterway nothing refers to any more (missions, sorties, incidents...)."""
    waterway = get(session, principal, waterway_id)
    session.delete(waterway)
    try:
        session.flush()
    except IntegrityError as exc:
        raise WaterwayInUse(
            f"waterway {waterway_id} is still used by missions or records; delete those first"
        ) from exc


# Sightings this close to a waterway's water belong to it (banks, beaches, piers).
LOCATE_MAX_DISTANCE_M = 300.0


def locate(session: Session, principal: Principal, *, lon: float, lat: float) -> Waterway | None:
    """The waterway (among those the caller may see) whose water holds the point, else the
    nearest one within LOCATE_MAX_DISTANCE_M, else None."""
    rows, _ = WaterwayRepository(session).list_under(
        principal.jurisdiction_path, station_id=None, limit=10_000, offset=0
    )
    point = Point(lon, lat)
    projection = LocalProjection.around(point)
    here_m = projection.to_m(point)
    best: tuple[float, Waterway] | None = None
    for waterway in rows:
        area = area_from_geojson(waterway.area)
        if area.covers(point):
            return waterway
        distance_m = projection.to_m(area).distance(here_m)
        if distance_m <= LOCATE_MAX_DISTANCE_M and (best is None or distance_m < best[0]):
            best = (distance_m, waterway)
    return None if best is None else best[1]


BANK_ZONE_M = LOCATE_MAX_DISTANCE_M
HOT_SPOT_RADIUS_M = 150.0


@dataclass(frozen=True, slots=True)
class WaterPlace:
    """Where a point lies on a district's registered water."""

    place: str  # "water" | "bank" | "land" | "unknown" (the district has no water registered)
    waterway: Waterway | None  # the water it is on, or the nearest within the bank zone
    distance_m: float | None  # to that water's edge; 0 inside
    is_in_deep_zone: bool
    hot_spot: str | None  # the named hot spot within HOT_SPOT_RADIUS_M, nearest first


def place_of(
    session: Session, *, district_path: str, lon: float, lat: float, shore_tolerance_m: float
) -> WaterPlace:
    """Place a point on the water of its whole district (not only what a reporter may see):
    on the water (or within ``shore_tolerance_m`` of it, the fix's error), on the bank zone
    (within BANK_ZONE_M), or on land."""
    rows, _ = WaterwayRepository(session).list_under(
        district_path, station_id=None, limit=10_000, offset=0
    )
    if not rows:
        return WaterPlace("unknown", None, None, False, None)
    point = Point(lon, lat)
    projection = LocalProjection.around(point)
    here_m = projection.to_m(point)
    best: tuple[float, Waterway] | None = None
    for waterway in rows:
        area = area_from_geojson(waterway.area)
        gap_m = 0.0 if area.covers(point) else float(projection.to_m(area).distance(here_m))
        if best is None or gap_m < best[0]:
            best = (gap_m, waterway)
    assert best is not None
    gap_m, waterway = best
    if gap_m > BANK_ZONE_M:
        return WaterPlace("land", None, round(gap_m, 1), False, None)
    deep = any(
        polygon_from_geojson(z["area"]).covers(point) for z in waterway.deep_water_zones or []
    )
    spots = sorted(
        (projection.to_m(Point(p["lon"], p["lat"])).distance(here_m), str(p["name"]))
        for p in waterway.hot_spots or []
    )
    spot = spots[0][1] if spots and spots[0][0] <= HOT_SPOT_RADIUS_M else None
    place = "water" if gap_m <= shore_tolerance_m else "bank"
    return WaterPlace(place, waterway, round(gap_m, 1), deep and place == "water", spot)


# --- conversions to the planning core ------------------------------------------------------


def as_core(waterway: Waterway) -> CoreWaterway:
    """Row -> ``missions.Waterway`` (lon/lat)."""
    return CoreWaterway(
        name=waterway.name,
        area=area_from_geojson(waterway.area),
        kind=WaterwayKind(waterway.kind),
        risk_level=waterway.risk_level,
        deep_water_zones=tuple(polygon_from_geojson(z["area"]) for z in waterway.deep_water_zones),
        hot_spots=tuple(HotSpot(p["name"], LonLat(p["lon"], p["lat"])) for p in waterway.hot_spots),
        launch_points=tuple(
            LaunchPoint(p["name"], LonLat(p["lon"], p["lat"])) for p in waterway.launch_points
        ),
        centre_line=line_from_geojson(waterway.centre_line) if waterway.centre_line else None,
    )


# A drone of this waterway never flies further from its water than a launch point lies
# (LAUNCH_MAX_FROM_WATER_M) plus the transit to it: zones further away take no part in
# planning or in the exported geofence (a zone across the district only made GEOS work on
# far-away shapes in the wrong projection).
NO_FLY_NEAR_WATER_M = 5_000.0


def no_fly_zones_for(
    session: Session,
    waterway: Waterway,
    *,
    at: datetime | None,
    within_m: float = NO_FLY_NEAR_WATER_M,
) -> list[CoreNoFlyZone]:
    """The district's no-fly zones (active at ``at``) within ``within_m`` of the water."""
    repo = WaterwayRepository(session)
    rows = NoFlyZoneRepository(session).in_district_of(repo.station_path(waterway), at=at)
    water = area_from_geojson(waterway.area)
    near = jurisdiction_service.near_box(water, within_m)
    projection = LocalProjection.around(water)
    water_m = projection.to_m(water)
    zones = []
    for row in rows:
        area = polygon_from_geojson(row.area)
        if not near.intersects(area) or projection.to_m(area).distance(water_m) > within_m:
            continue
        zones.append(
            CoreNoFlyZone(row.name, area, valid_from=row.valid_from, valid_until=row.valid_until)
        )
    return zones


# --- no-fly zones -----------------------------------------------------------------------------


def get_zone(session: Session, principal: Principal, zone_id: int) -> NoFlyZone:
    repo = NoFlyZoneRepository(session)
    zone = repo.get(zone_id)
    if zone is None or not principal.can_see(repo.jurisdiction_path(zone)):
        raise NoFlyZoneNotFound(f"no-fly zone {zone_id} not found")
    return zone


def list_zones(
    session: Session, principal: Principal, *, limit: int, offset: int
) -> tuple[Sequence[NoFlyZone], int]:
    return NoFlyZoneRepository(session).list_under(
        principal.jurisdiction_path, limit=limit, offset=offset
    )


def create_zone(
    session: Session, principal: Principal, data: NoFlyZoneCreate, **area_limits: float
) -> NoFlyZone:
    jurisdiction = jurisdiction_service.get_for_assignment(session, principal, data.jurisdiction_id)
    shape, _ = checked_area(data.area, what="the no-fly zone", repair=False)
    if not isinstance(shape, Polygon):
        raise InvalidWaterway("a no-fly zone must be one polygon")
    check_in_area(session, jurisdiction, shape, what="the no-fly zone", **area_limits)
    return NoFlyZoneRepository(session).add(
        NoFlyZone(
            name=data.name,
            jurisdiction_id=jurisdiction.id,
            area=to_geojson(shape),
            valid_from=data.valid_from,
            valid_until=data.valid_until,
            reason=data.reason,
        )
    )


def delete_zone(session: Session, principal: Principal, zone_id: int) -> None:
    zone = get_zone(session, principal, zone_id)
    session.delete(zone)
    session.flush()


# ---------------------------------------------------------------------------------------
# Fixed objects: moorings, buoys and posts the detector takes for people (issue 16).


class FixedObjectNotFound(NotFound):
    pass


def fixed_objects(
    session: Session,
    principal: Principal,
    waterway_id: int,
    *,
    status: FixedObjectStatus | None = None,
) -> Sequence[FixedObject]:
    waterway = get(session, principal, waterway_id)
    return WaterwayRepository(session).fixed_objects(waterway.id, status=status)


def add_fixed_object(
    session: Session,
    principal: Principal,
    waterway_id: int,
    body: FixedObjectCreate,
    *,
    now: datetime,
) -> FixedObject:
    """An operator marks a fixed object on the map: confirmed at once (they saw it)."""
    waterway = get(session, principal, waterway_id)
    return WaterwayRepository(session).add_fixed_object(
        FixedObject(
            waterway_id=waterway.id,
            lon=body.lon,
            lat=body.lat,
            radius_m=body.radius_m,
            passes=0,
            status=FixedObjectStatus.confirmed,
            note=body.note,
            proposed_by=principal.actor_name,
            decided_by=principal.actor_name,
            decided_at=now,
        )
    )


def decide_fixed_object(
    session: Session,
    principal: Principal,
    waterway_id: int,
    object_id: int,
    body: FixedObjectDecision,
    *,
    now: datetime,
) -> FixedObject:
    """Confirm a proposed fixed object (its sightings are suppressed from now on) or reject it."""
    waterway = get(session, principal, waterway_id)
    row = WaterwayRepository(session).fixed_object(object_id)
    if row is None or row.waterway_id != waterway.id:
        raise FixedObjectNotFound(f"fixed object {object_id} not found on waterway {waterway.id}")
    row.status = FixedObjectStatus(body.status)
    if body.note is not None:
        row.note = body.note
    row.decided_by = principal.actor_name
    row.decided_at = now
    session.flush()
    return row


def confirmed_fixed_objects(
    session: Session, principal: Principal, waterway_id: int
) -> list[tuple[float, float, float]]:
    """``(lon, lat, radius_m)`` of the waterway's confirmed fixed objects."""
    rows = fixed_objects(session, principal, waterway_id, status=FixedObjectStatus.confirmed)
    return [(row.lon, row.lat, row.radius_m) for row in rows]


def propose_fixed_objects(
    session: Session,
    principal: Principal,
    waterway_id: int,
    found: Sequence[tuple[float, float, float, int]],
) -> int:
    """Record places a patrol saw something stand still in separate passes.

    ``found`` holds ``(lon, lat, radius_m, passes)``. A place already on the list (any
    status, within its radius plus this one's) is not added again; a proposed one gets the
    larger pass count. Returns how many were added.
    """
    waterway = get(session, principal, waterway_id)
    repo = WaterwayRepository(session)
    known = list(repo.fixed_objects(waterway.id))
    added = 0
    for lon, lat, radius_m, passes in found:
        near = next(
            (
                row
                for row in known
                if distance_m(row.lon, row.lat, lon, lat) <= row.radius_m + radius_m
            ),
            None,
        )
        if near is not None:
            if near.status == FixedObjectStatus.proposed and passes > near.passes:
                near.passes = passes
            continue
        row = repo.add_fixed_object(
            FixedObject(
                waterway_id=waterway.id,
                lon=lon,
                lat=lat,
                radius_m=max(radius_m, 3.0),
                passes=passes,
                status=FixedObjectStatus.proposed,
                proposed_by=principal.actor_name,
            )
        )
        known.append(row)
        added += 1
    session.flush()
    return added

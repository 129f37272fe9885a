"""Conformance of a flight to its plan, sample by sample: pure functions over values.

Geometry is projected to the sortie's local UTM zone (metres) once per batch
(``Airspace.build``); each sample is then checked against the route corridor, the no-fly
zones active at its time, the altitude ceiling and the return battery threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import shapely
from pyproj import Geod
from shapely import Point
from shapely.geometry import LineString, Polygon
from shapely.geometry.base import BaseGeometry

from app.sortie.models import SortieEventKind
from missions import LocalProjection, NoFlyZone, PatrolRoute

_GEOD = Geod(ellps="WGS84")
# Beyond this the distance from the route is bounded from below without projecting.
FAR_M = 50_000.0


@dataclass(frozen=True, slots=True)
class Limits:
    off_route_m: float
    ceiling_m: float
    return_battery_pct: float


@dataclass(frozen=True, slots=True)
class Fix:
    """What conformance reads from one telemetry sample."""

    at: datetime
    lon: float
    lat: float
    alt_m: float | None
    battery_pct: float | None


@dataclass(frozen=True, slots=True)
class Breach:
    kind: SortieEventKind
    detail: str


@dataclass(frozen=True, slots=True)
class _Zone:
    name: str
    area_m: BaseGeometry
    zone: NoFlyZone


@dataclass(frozen=True, slots=True)
class Airspace:
    projection: LocalProjection
    route_m: BaseGeometry | None
    zones: tuple[_Zone, ...]

    @classmethod
    def build(cls, route: PatrolRoute, zones: Sequence[NoFlyZone]) -> Airspace:
        points = [route.launch, *(w.position for w in route.waypoints)]
        line = LineString([(p.lon_deg, p.lat_deg) for p in points])
        projection = LocalProjection.around(line if len(points) > 1 else Point(*line.coords[0]))
        route_m = projection.to_m(line) if len(points) > 1 else None
        if route_m is not None:
            shapely.prepare(route_m)
        projected = []
        for zone in zones:
            area_m: Polygon = projection.to_m(zone.area)
            shapely.prepare(area_m)
            projected.append(_Zone(zone.name, area_m, zone))
        return cls(projection, route_m, tuple(projected))


def median_distance_from_route_m(
    airspace: Airspace, points_lonlat: Sequence[tuple[float, float]]
) -> float | None:
    """Median distance of the points from the route, in metres (``None`` without a route).

    A point far away (another continent) is not projected: its geodesic distance to the
    launch point less the route's length is a lower bound of its distance from the route,
    and that bound is what counts once it passes ``FAR_M``."""
    if airspace.route_m is None or not points_lonlat:
        return None
    launch_lon, launch_lat = airspace.projection.xy_to_lonlat(*airspace.route_m.coords[0])
    length_m = airspace.route_m.length
    distances = []
    for lon, lat in points_lonlat:
        _, _, to_launch_m = _GEOD.inv(launch_lon, launch_lat, lon, lat)
        bound_m = to_launch_m - length_m
        if bound_m > FAR_M:
            distances.append(bound_m)
            continue
        x, y = airspace.projection.lonlat_to_xy(lon, lat)
        distances.append(float(airspace.route_m.distance(Point(x, y))))
    return float(np.median(distances))


def check(fix: Fix, airspace: Airspace, limits: Limits, *, on_route: bool) -> list[Breach]:
    """The breaches of one fix; ``on_route`` asks for the route corridor check."""
    found: list[Breach] = []
    x, y = airspace.projection.lonlat_to_xy(fix.lon, fix.lat)
    here = Point(x, y)
    if on_route and airspace.route_m is not None:
        off_m = airspace.route_m.distance(here)
        if off_m > limits.off_route_m:
            found.append(
                Breach(
                    SortieEventKind.off_route,
                    f"{off_m:.0f} m off the planned route (limit {limits.off_route_m:g} m)",
                )
            )
    for zone in airspace.zones:
        if zone.zone.is_active(fix.at) and zone.area_m.contains(here):
            found.append(Breach(SortieEventKind.no_fly_zone, f"inside no-fly zone {zone.name}"))
            break
    if fix.alt_m is not None and fix.alt_m > limits.ceiling_m:
        found.append(
            Breach(
                SortieEventKind.altitude,
                f"{fix.alt_m:.0f} m above take-off, over the {limits.ceiling_m:g} m ceiling",
            )
        )
    if fix.battery_pct is not None and fix.battery_pct < limits.return_battery_pct:
        found.append(
            Breach(
                SortieEventKind.battery,
                f"battery {fix.battery_pct:.0f}% below the return threshold "
                f"{limits.return_battery_pct:g}%",
            )
        )
    return found

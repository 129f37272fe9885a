"""Canonical waterways shared by the missions tests (lon/lat near Jiangjin, Chongqing)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TypeVar

import numpy as np
from shapely import LineString, MultiPolygon, Polygon, box
from shapely.affinity import scale, translate
from shapely.geometry.base import BaseGeometry

from missions.geometry import LocalProjection
from missions.types import HotSpot, LaunchPoint, LonLat, Waterway, WaterwayKind

G = TypeVar("G", bound=BaseGeometry)
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
ORIGIN = (106.26, 29.29)
_PROJ = LocalProjection.around(box(ORIGIN[0], ORIGIN[1], ORIGIN[0] + 0.01, ORIGIN[1] + 0.01))
_X0, _Y0 = _PROJ.lonlat_to_xy(*ORIGIN)


def from_m(shape_m: G) -> G:
    """Place a shape drawn in metres around the origin into lon/lat."""
    return _PROJ.to_lonlat(translate(shape_m, _X0, _Y0))


def polygon(geometry: BaseGeometry) -> Polygon:
    """Narrow a shapely result to a Polygon (the catalogue only builds single polygons)."""
    assert isinstance(geometry, Polygon)
    return geometry


def lonlat_at(x_m: float, y_m: float) -> LonLat:
    """The lon/lat of a point given in metres from the origin."""
    lon, lat = _PROJ.xy_to_lonlat(_X0 + x_m, _Y0 + y_m)
    return LonLat(lon, lat)


def harbour() -> Waterway:
    """A 600 m x 400 m rectangular basin with a launch point on the south bank."""
    return Waterway(
        "harbour",
        from_m(box(0, 0, 600, 400)),
        kind=WaterwayKind.pond,
        launch_points=(LaunchPoint("south quay", lonlat_at(300, -10)),),
        hot_spots=(
            HotSpot("beach", lonlat_at(100, 100)),
            HotSpot("jetty", lonlat_at(500, 300)),
            HotSpot("rocks", lonlat_at(500, 80)),
            HotSpot("steps", lonlat_at(120, 320)),
        ),
    )


def river_bend() -> Waterway:
    """An L-shaped river reach 120 m wide (concave)."""
    shape = polygon(box(0, 0, 1500, 120).union(box(1380, 0, 1500, 1200)))
    return Waterway(
        "river bend",
        from_m(shape),
        kind=WaterwayKind.river_reach,
        launch_points=(LaunchPoint("ferry steps", lonlat_at(700, -15)),),
    )


def lake_with_island() -> Waterway:
    """A 1 km x 800 m lake with a 300 m x 200 m island in the middle."""
    shape = polygon(box(0, 0, 1000, 800).difference(box(350, 300, 650, 500)))
    return Waterway(
        "lake with island",
        from_m(shape),
        kind=WaterwayKind.lake,
        launch_points=(LaunchPoint("boathouse", lonlat_at(-10, 400)),),
    )


def sliver() -> Waterway:
    """A ditch 10 m wide: too narrow for a 20 m bank offset."""
    return Waterway(
        "sliver",
        from_m(box(0, 0, 800, 10)),
        launch_points=(LaunchPoint("bridge", lonlat_at(400, -10)),),
    )


def two_ponds() -> Waterway:
    """Two separate ponds 200 m apart (a MultiPolygon)."""
    area = MultiPolygon([from_m(box(0, 0, 300, 200)), from_m(box(500, 0, 800, 200))])
    return Waterway(
        "two ponds",
        area,
        launch_points=(LaunchPoint("lane", lonlat_at(400, -20)),),
    )


def water3_rings() -> list[list[list[float]]]:
    """The earcut OSM water polygon rings, in tile units."""
    rings: list[list[list[float]]] = json.loads(
        (FIXTURES / "waterways" / "earcut__water3.json").read_text()
    )
    return rings


def water3_in_lonlat() -> list[list[list[float]]]:
    """The earcut rings scaled from tile units into a ~1.3 km box near the origin."""
    out = []
    for ring in water3_rings():
        out.append([[ORIGIN[0] + x / 300_000, ORIGIN[1] - y / 300_000] for x, y in ring])
    return out


def scaled(shape: Polygon, factor: float) -> Polygon:
    """Scale a lon/lat shape about its centroid (for size tests)."""
    return scale(shape, factor, factor)


def meandering_reach(vertices: int = 5000) -> Waterway:
    """An 8 km river reach, 150 m wide with wobbly banks, 5 islands, about ``vertices`` vertices.

    The centre line is a sine of 600 m amplitude; the banks wobble by 10 m so that every vertex
    is a real one (nothing simplifies away).
    """
    n = vertices // 2
    t = np.linspace(0, 1, n)
    x = t * 8000.0
    y = 600 * np.sin(t * 2 * math.pi * 2.5)
    dx, dy = np.gradient(x), np.gradient(y)
    norm = np.hypot(dx, dy)
    nx, ny = -dy / norm, dx / norm
    wobble = 10 * np.sin(t * 400)
    left = np.column_stack([x + nx * (75 + wobble), y + ny * (75 + wobble)])
    right = np.column_stack([x - nx * (75 - wobble), y - ny * (75 - wobble)])
    holes = []
    for k in range(1, 6):
        cx, cy = x[n * k // 6], y[n * k // 6]
        angles = np.linspace(0, 2 * math.pi, 20)[:-1]
        holes.append([(cx + 25 * math.cos(a), cy + 25 * math.sin(a)) for a in angles])
    shape = Polygon(np.vstack([left, right[::-1]]), holes)
    return Waterway(
        "meandering reach",
        from_m(shape),
        kind=WaterwayKind.river_reach,
        centre_line=from_m(LineString(np.column_stack([x, y]))),
        launch_points=(LaunchPoint("ferry", lonlat_at(0, -120)),),
    )

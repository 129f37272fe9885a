"""Flight-log figures from a sortie's telemetry: pure functions over values (metres, seconds)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import shapely
from shapely import LineString, MultiPoint, Point
from shapely.geometry import MultiPolygon, Polygon, mapping

from missions import LocalProjection

# Intervals longer than this are a telemetry gap: not counted as time over water.
MAX_STEP_S = 10.0
ROUTE_STEP_M = 5.0


@dataclass(frozen=True, slots=True)
class TrackPoint:
    at: datetime
    lon: float
    lat: float
    alt_m: float | None


@dataclass(frozen=True, slots=True)
class Water:
    id: int
    name: str
    area: Polygon | MultiPolygon


@dataclass(frozen=True, slots=True)
class Figures:
    samples: int
    started_at: datetime | None
    ended_at: datetime | None
    flight_time_s: float
    distance_m: float
    max_alt_m: float | None
    route_share: float | None
    time_over: list[tuple[int, str, float]]
    track: dict[str, Any] | None


def route_share(route_m: LineString, track_m: LineString | Point, *, corridor_m: float) -> float:
    """Share of the planned route (by length) that the track passed within ``corridor_m``."""
    if route_m.length == 0:
        return 0.0
    steps = max(int(route_m.length // ROUTE_STEP_M), 1)
    points = [route_m.interpolate(d) for d in np.linspace(0.0, route_m.length, steps + 1)]
    near = track_m.buffer(corridor_m)
    shapely.prepare(near)
    inside = sum(1 for p in points if near.contains(p))
    return inside / len(points)


def figures(
    points: Sequence[TrackPoint],
    *,
    route: LineString | None,
    waters: Sequence[Water],
    corridor_m: float,
) -> Figures:
    """Distance, time, height, route share and time over each water of one track."""
    if not points:
        return Figures(
            0, None, None, 0.0, 0.0, None, None, [(w.id, w.name, 0.0) for w in waters], None
        )
    lonlat = [(p.lon, p.lat) for p in points]
    anchor = MultiPoint(lonlat) if len(lonlat) > 1 else Point(lonlat[0])
    projection = LocalProjection.around(anchor)
    xy = [projection.lonlat_to_xy(lon, lat) for lon, lat in lonlat]
    distance_m = float(sum(np.hypot(b[0] - a[0], b[1] - a[1]) for a, b in itertools.pairwise(xy)))
    heights = [p.alt_m for p in points if p.alt_m is not None]
    share = None
    if route is not None and len(route.coords) > 1:
        route_m = projection.to_m(route)
        track_m = LineString(xy) if len(xy) > 1 else Point(xy[0])
        share = route_share(route_m, track_m, corridor_m=corridor_m)
    time_over: list[tuple[int, str, float]] = []
    for water in waters:
        shapely.prepare(water.area)
        seconds = 0.0
        for a, b in itertools.pairwise(points):
            step = (b.at - a.at).total_seconds()
            if 0 < step <= MAX_STEP_S and water.area.contains(Point(a.lon, a.lat)):
                seconds += step
        time_over.append((water.id, water.name, round(seconds, 1)))
    track = (
        {"type": "LineString", "coordinates": [list(c) for c in lonlat]}
        if len(lonlat) > 1
        else dict(mapping(Point(lonlat[0])))
    )
    return Figures(
        samples=len(points),
        started_at=points[0].at,
        ended_at=points[-1].at,
        flight_time_s=(points[-1].at - points[0].at).total_seconds(),
        distance_m=round(distance_m, 1),
        max_alt_m=max(heights) if heights else None,
        route_share=None if share is None else round(share, 4),
        time_over=time_over,
        track=track,
    )

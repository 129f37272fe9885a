"""Patrol planning: from a waterway, a drone and limits to a flyable, battery-split plan.

Inputs and outputs are lon/lat (see :mod:`missions.types`); all work happens in the local UTM
projection of the waterway (:class:`missions.geometry.LocalProjection`), in metres.

How a plan is built:

1. The *patrol region* is the water minus every active no-fly zone grown by
   ``limits.no_fly_margin_m`` (for a corridor: the corridor strip minus the zones). The
   *transit region* is a wide box around everything minus the same grown zones.
2. The pattern produces *pieces* inside the patrol region: bank loops, coverage lanes, corridor
   passes or hot-spot points.
3. Pieces are ordered (nearest entry first; a coverage cell's sweep ends toward the next cell
   where that is shorter; hot spots by nearest neighbour and 2-opt) and
   joined by the shortest path inside the patrol region (for a detour along most of a long
   reach, a near-shortest one: see :class:`missions.geometry.PathFinder`). Where none exists
   (separate parts of a waterway, a hot spot on the beach) the join uses the transit region
   and its waypoints are marked ``is_transit``. Legs to and from the launch point are always
   transit legs.
4. The route is cut into sorties: each starts at a launch point (the first at the primary one,
   later ones at the launch point that lets them get furthest), flies to where the previous
   one stopped, continues while the time flown plus the time to fly home stays within the
   usable flight time minus the reserve, then flies home to where it took off. Every join
   and every return leg goes around the no-fly zones or the planner raises
   :class:`RouteBlockedError`; no point is ever dropped.

Plans are deterministic: no randomness, ties broken by index.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely import LineString, MultiPolygon, Point, Polygon, box
from shapely.affinity import scale
from shapely.geometry.base import BaseGeometry
from shapely.ops import split

from missions.errors import (
    AltitudeAboveCeilingError,
    NoFlyZoneConflictError,
    RouteBlockedError,
    SortieInfeasibleError,
    WaterwayTooNarrowError,
)
from missions.geometry import LocalProjection, PathFinder, area_polygons, count_turns
from missions.types import (
    Action,
    DroneProfile,
    GimbalPitch,
    Hover,
    LonLat,
    NoFlyZone,
    PatrolPlan,
    PatrolRoute,
    Pattern,
    PlanningLimits,
    Sortie,
    SpeakerBroadcast,
    Spotlight,
    StartRecord,
    StopRecord,
    TakePhoto,
    Waterway,
    Waypoint,
)

XY = tuple[float, float]

MAX_LEG_M = 2_000.0
"""Legs longer than this (or than an eighth of a battery's range) are cut so that a sortie can
end part-way along a long lane."""
_TRANSIT_MARGIN_M = 5_000.0
_ANGLE_STEP_DEG = 15
_MAX_CUTS = 16
_SPLICE_TRIES = 20
_DECOMPOSE_DEPTH = 3


@dataclass(slots=True)
class _Pt:
    xy: XY
    actions: tuple[Action, ...] = ()
    is_transit: bool = False


@dataclass(frozen=True, slots=True)
class _Piece:
    coords: tuple[XY, ...]
    kind: str  # "lane" (reversible), "loop" (closed, any entry), "point"
    actions: tuple[Action, ...] = ()


@dataclass(slots=True)
class _Context:
    proj: LocalProjection
    water_m: Polygon | MultiPolygon
    region: Polygon | MultiPolygon
    keepout: Polygon | MultiPolygon | None
    launch: XY
    launches: tuple[tuple[XY, LonLat], ...]  # the primary first
    drone: DroneProfile
    limits: PlanningLimits
    speed_mps: float
    footprint_m: float
    _patrol: PathFinder | None = field(default=None)
    _transit: PathFinder | None = field(default=None)

    def patrol_finder(self) -> PathFinder:
        if self._patrol is None:
            self._patrol = PathFinder(self.region, clearance_m=1.0)
        return self._patrol

    def transit_finder(self) -> PathFinder:
        if self._transit is None:
            pieces = [self.water_m, *(Point(xy) for xy, _ in self.launches)]
            if self.keepout is not None:
                pieces.append(self.keepout)
            minx, miny, maxx, maxy = shapely.union_all(pieces).bounds
            m = _TRANSIT_MARGIN_M
            outer = box(minx - m, miny - m, maxx + m, maxy + m)
            region = outer if self.keepout is None else outer.difference(self.keepout)
            parts = area_polygons(region)
            flyable = parts[0] if len(parts) == 1 else MultiPolygon(parts)
            self._transit = PathFinder(flyable, clearance_m=1.0)
        return self._transit


def plan_patrol(
    waterway: Waterway,
    *,
    pattern: Pattern | str,
    drone: DroneProfile,
    limits: PlanningLimits | None = None,
    no_fly_zones: Sequence[NoFlyZone] = (),
    at: datetime | None = None,
    launch: LonLat | None = None,
) -> PatrolPlan:
    """Plan a patrol of ``waterway`` with ``drone``.

    Args:
        waterway: The water to patrol (lon/lat).
        pattern: ``bank``, ``coverage``, ``hotspots`` or ``corridor``.
        drone: The drone model (camera footprint, flight time, speed, payloads).
        limits: Altitude, overlap, reserve...; defaults to :class:`PlanningLimits` ().
        no_fly_zones: Keep-out polygons; those active at ``at`` are avoided.
        at: When the patrol flies (``None``: every zone counts).
        launch: The only take-off point to use. By default the waterway's launch points are
            used: the first sortie flies from the first one (outside the no-fly zones), each
            later sortie from the one that lets it get furthest, landing where it took off.

    Returns:
        The plan, with its sorties, length, duration, coverage and turn count.

    Raises:
        ValueError: Unknown pattern, no launch point, a corridor without centre line, a
            camera the drone lacks, or an invalid waterway shape.
        AltitudeAboveCeilingError: The true height over the water (``limits.altitude_m`` plus
            ``limits.takeoff_above_water_m``) is above ``limits.ceiling_m``.
        NoFlyZoneConflictError: The launch point or a hot spot is inside a no-fly zone.
        WaterwayTooNarrowError: Nothing fits inside the water (with the margins).
        RouteBlockedError: No path avoids the no-fly zones.
        SortieInfeasibleError: A waypoint is out of reach of one battery.

    Examples:
        >>> from shapely import box
        >>> from missions.profiles import drone_profile
        >>> from missions.types import LaunchPoint
        >>> pond = Waterway(
        ...     "pond",
        ...     box(106.26, 29.29, 106.265, 29.293),
        ...     launch_points=(LaunchPoint("quay", LonLat(106.2625, 29.2899)),),
        ... )
        >>> plan = plan_patrol(pond, pattern="coverage", drone=drone_profile("m30t"))
        >>> len(plan.sorties), plan.coverage_ratio > 0.99, round(plan.lane_spacing_m or 0)
        (1, True, 69)
        >>> plan.sorties[0].route.waypoints[-1].position == plan.route.launch
        True
        >>> plan_patrol(pond, pattern="bank", drone=drone_profile("m30t"),
        ...             limits=PlanningLimits(altitude_m=150))
        Traceback (most recent call last):
        ...
        missions.errors.AltitudeAboveCeilingError: altitude 150 m is above the 120 m ceiling
    """
    limits = limits if limits is not None else PlanningLimits()
    kind = Pattern(pattern) if isinstance(pattern, str) else pattern
    if limits.height_above_water_m > limits.ceiling_m:
        above = (
            f" ({limits.altitude_m:g} m over a launch point {limits.takeoff_above_water_m:g} m"
            " above the water)"
            if limits.takeoff_above_water_m
            else ""
        )
        raise AltitudeAboveCeilingError(
            f"altitude {limits.height_above_water_m:g} m{above} is above the "
            f"{limits.ceiling_m:g} m ceiling"
        )
    if not waterway.area.is_valid or waterway.area.is_empty:
        raise ValueError(f"waterway {waterway.name!r} has an invalid or empty shape")
    if launch is not None:
        candidates = [launch]
    elif waterway.launch_points:
        candidates = [lp.position for lp in waterway.launch_points]
    else:
        raise ValueError(f"waterway {waterway.name!r} has no launch point; pass launch=")
    camera = drone.camera(limits.camera)
    if kind == Pattern.corridor and waterway.centre_line is None:
        raise ValueError(f"waterway {waterway.name!r} has no centre line for a corridor patrol")

    proj = LocalProjection.around(waterway.area)
    water_m = proj.to_m(waterway.area)
    near = _near_box(
        [waterway.area, *(Point(p.lon_deg, p.lat_deg) for p in candidates)], ZONE_REACH_M
    )
    keepout = _keepout(
        [z for z in no_fly_zones if near.intersects(z.area)],
        at=at,
        proj=proj,
        margin_m=limits.no_fly_margin_m,
    )
    launches: list[tuple[XY, LonLat]] = []
    for position in candidates:
        xy = proj.lonlat_to_xy(position.lon_deg, position.lat_deg)
        if keepout is None or not keepout.intersects(Point(xy)):
            launches.append((xy, position))
    if not launches:
        where = ", ".join(f"({p.lon_deg:.6f}, {p.lat_deg:.6f})" for p in candidates)
        raise NoFlyZoneConflictError(
            f"launch point {where} is inside a no-fly zone "
            f"or within {limits.no_fly_margin_m:g} m of one"
        )
    launch_xy = launches[0][0]
    if kind == Pattern.corridor:
        assert waterway.centre_line is not None  # checked above
        base: Polygon | MultiPolygon = _as_area(
            proj.to_m(waterway.centre_line).buffer(limits.corridor_width_m / 2, cap_style="flat")
        )
    else:
        base = water_m
    region = base if keepout is None else _as_area(base.difference(keepout))
    if region.is_empty:
        raise WaterwayTooNarrowError(f"no-fly zones cover all of {waterway.name!r}")
    ctx = _Context(
        proj=proj,
        water_m=water_m,
        region=region,
        keepout=keepout,
        launch=launch_xy,
        launches=tuple(launches),
        drone=drone,
        limits=limits,
        speed_mps=limits.speed_mps if limits.speed_mps is not None else drone.cruise_speed_mps,
        footprint_m=camera.footprint_width_m(limits.height_above_water_m),
    )
    spacing: float | None = None
    if kind == Pattern.bank:
        pieces = _bank_pieces(ctx)
    elif kind == Pattern.coverage:
        spacing = _lane_spacing(ctx)
        pieces = _order_cells(_coverage_cells(ctx, spacing), launch_xy)
    elif kind == Pattern.corridor:
        spacing = _lane_spacing(ctx)
        assert waterway.centre_line is not None
        pieces = _corridor_pieces(ctx, proj.to_m(waterway.centre_line), spacing)
    else:
        pieces = _hotspot_pieces(ctx, waterway)

    if kind in (Pattern.bank, Pattern.corridor):
        pieces = _order(pieces, launch_xy)
    budget_s = drone.usable_flight_time_s * (1 - limits.reserve_fraction)
    max_leg_m = min(MAX_LEG_M, budget_s * ctx.speed_mps / 8)
    points = _densify(_assemble(ctx, pieces), max_leg_m)
    sortie_points = _split(ctx, points, home_start=len(points) - 1)

    name = f"{waterway.name} {kind.value}"
    sorties: list[Sortie] = []
    for index, (launch_index, pts) in enumerate(sortie_points):
        route = _route(ctx, pts, launch=launch_index, name=f"{name} #{index + 1}")
        sorties.append(Sortie(index, route, _length_m(pts), _duration_s(ctx, pts)))
    home, _ = _join(ctx, points[-1].xy, launch_xy, transit_only=True)
    whole_pts = _densify([*points, *(_Pt(xy, is_transit=True) for xy in home[1:])], max_leg_m)
    whole = _route(ctx, whole_pts, launch=0, name=name)
    tracks = [LineString([p.xy for p in pts]) for _, pts in sortie_points]
    coverage = _coverage(water_m, tracks, ctx.footprint_m)
    return PatrolPlan(
        pattern=kind,
        route=whole,
        sorties=tuple(sorties),
        length_m=sum(s.length_m for s in sorties),
        duration_s=sum(s.duration_s for s in sorties),
        coverage_ratio=coverage,
        turns=count_turns(np.array([p.xy for p in whole_pts], dtype=np.float64)),
        lane_spacing_m=spacing,
    )


def coverage_ratio(
    waterway: Waterway, routes: Sequence[PatrolRoute], *, footprint_width_m: float
) -> float:
    """Share of the water area inside the camera footprint along the routes' tracks.

    The footprint is modelled as a band ``footprint_width_m`` wide centred on the track (a
    nadir camera); a track point's footprint is a disc of that diameter.

    Examples:
        >>> from shapely import box
        >>> pond = Waterway("pond", box(106.26, 29.29, 106.27, 29.291))
        >>> across = PatrolRoute(
        ...     LonLat(106.26, 29.2905),
        ...     (Waypoint(LonLat(106.27, 29.2905), 50.0),),
        ...     speed_mps=10.0,
        ... )
        >>> round(coverage_ratio(pond, [across], footprint_width_m=60.0), 2)
        0.54
    """
    if footprint_width_m <= 0:
        raise ValueError(f"footprint_width_m must be positive, got {footprint_width_m}")
    proj = LocalProjection.around(waterway.area)
    tracks: list[LineString] = []
    for route in routes:
        coords = [proj.lonlat_to_xy(route.launch.lon_deg, route.launch.lat_deg)]
        coords += [
            proj.lonlat_to_xy(w.position.lon_deg, w.position.lat_deg) for w in route.waypoints
        ]
        tracks.append(LineString(coords))
    return _coverage(proj.to_m(waterway.area), tracks, footprint_width_m)


def _coverage(
    water_m: Polygon | MultiPolygon, tracks: Sequence[LineString], footprint_m: float
) -> float:
    if water_m.area <= 0:
        return 0.0
    # Buffer each leg on its own: GEOS can drop parts of the buffer of a self-crossing line
    # whose ends meet (a sortie from and back to its launch point), which under-counts.
    legs: list[shapely.geometry.base.BaseGeometry] = []
    for track in tracks:
        xy = shapely.get_coordinates(track)
        if len(xy) == 1:
            legs.append(shapely.points(xy[0]))
        else:
            segments = shapely.linestrings(np.stack([xy[:-1], xy[1:]], axis=1))
            legs.extend(np.asarray(segments, dtype=object).tolist())
    seen = shapely.union_all(
        shapely.buffer(np.array(legs, dtype=object), footprint_m / 2, quad_segs=4)
    )
    return float(min(1.0, water_m.intersection(seen).area / water_m.area))


# --- regions ------------------------------------------------------------------------------


def _as_area(geometry: shapely.geometry.base.BaseGeometry) -> Polygon | MultiPolygon:
    parts = area_polygons(geometry)
    if not parts:
        return Polygon()
    return parts[0] if len(parts) == 1 else MultiPolygon(parts)


ZONE_REACH_M = 10_000.0
"""No-fly zones further than this from the water and the launch points take no part: a
patrol never flies there, and a far zone projected into the water's UTM zone is distorted
out of all recognition (one across another continent covered the launch point)."""


def _near_box(geometries: Sequence[BaseGeometry], distance_m: float) -> Polygon:
    """The lon/lat bounding box of ``geometries`` grown by at least ``distance_m``."""
    minx, miny, maxx, maxy = shapely.total_bounds(list(geometries))
    dlat = distance_m / 111_320.0
    coslat = max(math.cos(math.radians(min(max(abs(miny), abs(maxy)) + dlat, 90.0))), 0.01)
    dlon = min(distance_m / (111_320.0 * coslat), 360.0)
    grown: Polygon = box(minx - dlon, max(miny - dlat, -90.0), maxx + dlon, min(maxy + dlat, 90.0))
    return grown


def _keepout(
    zones: Sequence[NoFlyZone], *, at: datetime | None, proj: LocalProjection, margin_m: float
) -> Polygon | MultiPolygon | None:
    active = [proj.to_m(z.area) for z in zones if z.is_active(at)]
    if not active:
        return None
    grown = shapely.union_all([z.buffer(margin_m) if margin_m > 0 else z for z in active])
    return _as_area(grown)


def _lane_spacing(ctx: _Context) -> float:
    if ctx.limits.lane_spacing_m is not None:
        return ctx.limits.lane_spacing_m
    return ctx.footprint_m * (1 - ctx.limits.side_overlap)


# --- patterns -----------------------------------------------------------------------------


def _bank_pieces(ctx: _Context) -> list[_Piece]:
    offset = ctx.limits.bank_offset_m
    inner = ctx.region.buffer(-offset)
    polygons = area_polygons(inner)
    if not polygons:
        raise WaterwayTooNarrowError(f"no bank line fits {offset:g} m from the bank")
    tolerance = min(1.0, offset / 4)
    pieces: list[_Piece] = []
    for poly in polygons:
        rings = []
        for ring in [poly.exterior, *poly.interiors]:
            coords = [(float(x), float(y)) for x, y in ring.simplify(tolerance).coords]
            if len(coords) >= 4:
                rings.append(coords)
        if not rings:
            continue
        shore, left_over = _splice_islands(ctx, rings[0], rings[1:])
        pieces.append(_Piece(tuple(shore), "loop"))
        pieces.extend(_Piece(tuple(r), "loop") for r in left_over)
    if not pieces:
        raise WaterwayTooNarrowError(f"no bank line fits {offset:g} m from the bank")
    return pieces


def _splice_islands(
    ctx: _Context, shore: list[XY], islands: list[list[XY]]
) -> tuple[list[XY], list[list[XY]]]:
    """Fold each island loop into the shore loop where they come closest.

    The drone leaves the shore line at its vertex nearest the island, flies round the island
    and comes back to the same vertex: one loop instead of separate loops joined by long
    transits. An island with no clear straight hop from the shore stays a loop of its own.
    """
    loop = shore[:-1]
    left_over: list[list[XY]] = []
    for island in islands:
        ring = island[:-1]
        a = np.array(loop, dtype=np.float64)
        b = np.array(ring, dtype=np.float64)
        gaps = np.hypot(a[:, None, 0] - b[None, :, 0], a[:, None, 1] - b[None, :, 1])
        spliced = False
        for flat in np.argsort(gaps, axis=None, kind="stable")[:_SPLICE_TRIES]:
            i, j = divmod(int(flat), len(ring))
            if ctx.patrol_finder().is_clear(loop[i], ring[j]):
                detour = ring[j:] + ring[:j] + [ring[j]]
                loop = loop[: i + 1] + detour + loop[i:]
                spliced = True
                break
        if not spliced:
            left_over.append(island)
    return [*loop, loop[0]], left_over


def _sweeps(
    region: Polygon | MultiPolygon, spacing: float, angles: Sequence[float]
) -> list[list[_Piece]]:
    """The lanes across ``region`` at each of ``angles``, west to east in lane order.

    A scanline fill, for all angles at once: the outline is turned by each angle about the
    region's centroid, lanes are placed by :func:`_lane_ys_many` in the turned extent, and each
    edge with ``lo <= y < hi`` between its turned ends crosses a lane at the interpolated x.
    Along a lane the crossings alternate in and out of the water (every ring is closed), so
    sorted crossings pair up into the lane's parts. That rule sees the water just above the
    lane; where a vertex lies exactly on a lane (a lane along an island's edge, a shore that
    touches it) the parts seen just below (``lo < y <= hi``) are added and overlapping or
    touching parts merged, so the lane is the closed water's, as clipping it would give.
    Parts of 1 m or less are dropped. No overlay that nodes the whole outline again per angle.

    Examples:
        >>> [[p.coords for p in lanes] for lanes in _sweeps(box(0, 0, 100, 50), 30.0, [0.0])]
        [[((0.0, 15.0), (100.0, 15.0)), ((0.0, 35.0), (100.0, 35.0))]]
    """
    if region.is_empty or not angles:
        return [[] for _ in angles]
    rings = shapely.get_rings(shapely.get_parts(region))
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    first = np.flatnonzero(ring[:-1] == ring[1:])  # edges join vertices of the same ring
    origin = region.centroid
    ox, oy = origin.x, origin.y
    dx, dy = xy[:, 0] - ox, xy[:, 1] - oy
    rad = np.radians(np.asarray(angles, dtype=np.float64))
    cos_t, sin_t = np.cos(rad), np.sin(rad)
    # Turned by -angle: x' = x cos + y sin, y' = -x sin + y cos (about the centroid).
    tx = dx[:, None] * cos_t[None, :] + dy[:, None] * sin_t[None, :]  # (V, A)
    ty = dy[:, None] * cos_t[None, :] - dx[:, None] * sin_t[None, :]
    owner, lane_y = _lane_ys_many(ty.min(axis=0), ty.max(axis=0), spacing)
    keys = owner + 1j * lane_y  # sorted: by angle, then by y
    ay, by = ty[first].ravel(), ty[first + 1].ravel()  # per (edge, angle)
    ax, bx = tx[first].ravel(), tx[first + 1].ravel()
    column = np.broadcast_to(np.arange(len(angles), dtype=np.float64), ty[first].shape).ravel()
    lo = column + 1j * np.minimum(ay, by)
    hi = column + 1j * np.maximum(ay, by)

    def parts(start: NDArray[np.intp], stop: NDArray[np.intp]) -> tuple[NDArray[Any], ...]:
        """(lane, west, east) of the parts from edges crossing lanes ``start:stop``."""
        count = stop - start
        edge = np.repeat(np.arange(len(count)), count)  # one entry per crossing
        lane = start[edge] + (np.arange(len(edge)) - (np.cumsum(count) - count)[edge])
        y = lane_y[lane]
        x = ax[edge] + (y - ay[edge]) * (bx[edge] - ax[edge]) / (by[edge] - ay[edge])
        order = np.lexsort((x, lane))
        lane, x = lane[order], x[order]
        # In, out, in, out along each lane: every ring is closed, so each count is even.
        assert np.array_equal(lane[0::2], lane[1::2])
        return lane[0::2], x[0::2], x[1::2]

    start, stop = np.searchsorted(keys, lo, "left"), np.searchsorted(keys, hi, "left")
    lane, west, east = parts(start, stop)
    start_b, stop_b = np.searchsorted(keys, lo, "right"), np.searchsorted(keys, hi, "right")
    if not (np.array_equal(start, start_b) and np.array_equal(stop, stop_b)):
        below = parts(start_b, stop_b)
        lane, west, east = _merged(
            *(np.concatenate(pair) for pair in zip((lane, west, east), below, strict=True))
        )
    keep = east - west > 1.0
    lane, west, east = lane[keep], west[keep], east[keep]
    angle_of = owner[lane].astype(np.int64)
    y = lane_y[lane]
    c, s = cos_t[angle_of], sin_t[angle_of]
    # Back: x = x' cos - y' sin, y = x' sin + y' cos (plus the centroid).
    wx, wy = ox + west * c - y * s, oy + west * s + y * c
    ex, ey = ox + east * c - y * s, oy + east * s + y * c
    bounds = np.searchsorted(angle_of, np.arange(len(angles) + 1), side="left")
    return [
        [
            _Piece(((float(wx[k]), float(wy[k])), (float(ex[k]), float(ey[k]))), "lane")
            for k in range(bounds[a], bounds[a + 1])
        ]
        for a in range(len(angles))
    ]


def _merged(
    lane: NDArray[np.intp], west: NDArray[np.float64], east: NDArray[np.float64]
) -> tuple[NDArray[np.intp], NDArray[np.float64], NDArray[np.float64]]:
    """Parts of the same lane that overlap or touch, merged; by lane, then west to east.

    Examples:
        >>> west, east = np.array([5.0, 0.0, 2.0, 0.0]), np.array([9.0, 2.0, 4.0, 1.0])
        >>> lane, west, east = _merged(np.array([0, 0, 0, 1]), west, east)
        >>> lane.tolist(), west.tolist(), east.tolist()
        ([0, 0, 1], [0.0, 5.0, 0.0], [4.0, 9.0, 1.0])
    """
    out: list[list[Any]] = []
    for k in np.lexsort((west, lane)).tolist():
        if out and out[-1][0] == lane[k] and west[k] <= out[-1][2]:
            out[-1][2] = max(out[-1][2], east[k])
        else:
            out.append([lane[k], west[k], east[k]])
    rows = list(zip(*out, strict=True)) if out else [(), (), ()]
    return (
        np.array(rows[0], dtype=np.intp),
        np.array(rows[1], dtype=np.float64),
        np.array(rows[2], dtype=np.float64),
    )


def _angles(region: Polygon | MultiPolygon) -> list[float]:
    angles = {float(a) for a in range(0, 180, _ANGLE_STEP_DEG)}
    mrr = region.minimum_rotated_rectangle
    if isinstance(mrr, Polygon):
        c = list(mrr.exterior.coords)
        for (x1, y1), (x2, y2) in itertools.pairwise(c):
            angles.add(round(math.degrees(math.atan2(y2 - y1, x2 - x1)) % 180, 6))
    return sorted(angles)


def _lane_counts_many(
    regions: Sequence[Polygon | MultiPolygon], spacing: float, angles: Sequence[Sequence[float]]
) -> list[list[int]]:
    """How many lanes :func:`_sweeps` makes across each region at each of its own angles.

    Counted, not clipped: a lane crosses the outline twice for each part it makes (parts of
    1 m or less are counted too). The lanes that cross an edge are those with
    ``lo <= y < hi`` between the edge's turned ends, found for every edge and angle at once
    by bisection in the lanes of all (region, angle) columns, keyed by the complex number
    ``column + 1j * y`` (numpy orders complex numbers by real, then imaginary part), so a
    call costs a few array operations whatever the number of regions and angles.
    """
    out = [[0 for _ in a] for a in angles]
    live = [r for r, region in enumerate(regions) if not region.is_empty and angles[r]]
    if not live:
        return out
    width = max(len(angles[r]) for r in live)
    # Each region's angles, padded to the same width by repeating its last one.
    table = np.array(
        [[*angles[r], *[angles[r][-1]] * (width - len(angles[r]))] for r in live],
        dtype=np.float64,
    )
    parts, part_region = shapely.get_parts([regions[r] for r in live], return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    xy, vertex_ring = shapely.get_coordinates(rings, return_index=True)
    owner = part_region[ring_part[vertex_ring]]  # live region of each vertex (ascending)
    thetas = np.radians(-table)[owner]  # (V, W)
    ys_turned = xy[:, 0, None] * np.sin(thetas) + xy[:, 1, None] * np.cos(thetas)
    starts = np.searchsorted(owner, np.arange(len(live)), side="left")
    lows = np.minimum.reduceat(ys_turned, starts, axis=0)  # (R, W)
    highs = np.maximum.reduceat(ys_turned, starts, axis=0)
    index, lanes = _lane_ys_many(lows.ravel(), highs.ravel(), spacing)
    keys = index + 1j * lanes
    first = np.flatnonzero(vertex_ring[:-1] == vertex_ring[1:])  # edges: same-ring neighbours
    a, b = ys_turned[first], ys_turned[first + 1]  # (E, W)
    column = (owner[first] * width)[:, None] + np.arange(width, dtype=np.float64)[None, :]
    lo = column + 1j * np.minimum(a, b)
    hi = column + 1j * np.maximum(a, b)
    crossings = np.searchsorted(keys, hi, side="left") - np.searchsorted(keys, lo, side="left")
    per_region = np.zeros((len(live), width), dtype=np.int64)
    np.add.at(per_region, owner[first], crossings)
    for row, r in enumerate(live):
        out[r] = [int(c) // 2 for c in per_region[row, : len(angles[r])]]
    return out


def _lane_ys_many(
    miny: NDArray[np.float64], maxy: NDArray[np.float64], spacing: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Sweep line positions for many extents at once: ``(extent index, lane y)`` per lane.

    In each extent the outer lanes are half a spacing inside and the rest spread evenly, as
    ``numpy.linspace`` would place them (one lane in the middle of an extent no wider than a
    spacing).

    Examples:
        >>> index, ys = _lane_ys_many(np.array([0.0, 0.0]), np.array([100.0, 20.0]), 30.0)
        >>> index.tolist(), ys.tolist()
        ([0.0, 0.0, 0.0, 0.0, 1.0], [15.0, 38.33333333333333, 61.666666666666664, 85.0, 10.0])
    """
    height = maxy - miny
    wide = height > spacing
    counts = np.ones(len(height), dtype=np.int64)
    counts[wide] = np.ceil((height[wide] - spacing) / spacing - 1e-9).astype(np.int64) + 1
    start = np.where(wide, miny + spacing / 2, (miny + maxy) / 2)
    stop = maxy - spacing / 2
    step = np.zeros(len(height))
    many = counts > 1
    step[many] = (stop[many] - start[many]) / (counts[many] - 1)
    owner = np.repeat(np.arange(len(height)), counts)
    offsets = np.cumsum(counts) - counts
    k = np.arange(len(owner), dtype=np.float64) - offsets[owner]
    ys = k * step[owner] + start[owner]
    last = offsets[many] + counts[many] - 1
    ys[last] = stop[many]
    return owner.astype(np.float64), ys


def _fewest_lanes(regions: Sequence[Polygon | MultiPolygon], spacing: float) -> list[int]:
    """The fewest lanes (over :func:`_angles`) that cover each region, 0 if none."""
    counts = _lane_counts_many(regions, spacing, [_angles(r) for r in regions])
    return [min((c for c in row if c > 0), default=0) for row in counts]


def _best_lanes(cell: Polygon, spacing: float, footprint_m: float) -> list[_Piece]:
    """Lanes across one cell in the direction that minimises turns.

    Fewest lanes first; among those, the direction whose lanes see the most water (diagonal
    lanes in a rectangle miss its corners), then the shortest total lane length, then the
    smallest angle (determinism).
    """
    options: list[tuple[int, float, list[_Piece]]] = []
    for lanes in _sweeps(cell, spacing, _angles(cell)):
        if lanes:
            length = round(sum(math.dist(*p.coords) for p in lanes), 3)
            options.append((len(lanes), length, lanes))
    if not options:
        return []
    fewest = min(o[0] for o in options)
    tied = [o for o in options if o[0] == fewest]
    if len(tied) == 1:  # nothing to weigh: skip measuring what the lanes see
        return tied[0][2] + _gap_lanes(cell, tied[0][2], spacing, footprint_m)
    best: tuple[tuple[int, float, float], list[_Piece]] | None = None
    for count, length, lanes in tied:
        tracks = [LineString(p.coords) for p in lanes]
        seen = round(_coverage(cell, tracks, footprint_m), 6)
        score = (count, -seen, length)
        if best is None or score < best[0]:
            best = (score, lanes)
    assert best is not None
    return best[1] + _gap_lanes(cell, best[1], spacing, footprint_m)


def _gap_lanes(
    cell: Polygon, lanes: list[_Piece], spacing: float, footprint_m: float
) -> list[_Piece]:
    """Extra lanes through water the sweep misses (strips beside islands, narrow bays).

    A lane that falls inside an island vanishes, which can leave a strip along the island
    wider than the camera sees from the next lanes; each missed patch bigger than a quarter
    lane square (or 0.1 % of a small cell) gets one lane along its long axis, clipped to the
    cell.
    """
    seen = shapely.union_all([LineString(p.coords).buffer(footprint_m / 2) for p in lanes])
    missed = area_polygons(cell.difference(seen))
    missed.sort(key=lambda g: (round(g.bounds[0], 3), round(g.bounds[1], 3)))
    extra: list[_Piece] = []
    for patch in missed:
        if patch.area < max(min(spacing * spacing / 4, cell.area * 0.001), 10.0):
            continue
        rect = patch.minimum_rotated_rectangle
        if not isinstance(rect, Polygon):
            continue
        c = list(rect.exterior.coords)
        sides = [(math.dist(c[i], c[i + 1]), i) for i in range(2)]
        _, i = max(sides)
        j = 1 - i
        # Centre line of the rectangle along its long side, extended to reach the cell edges.
        mid_a = ((c[j][0] + c[j + 1][0]) / 2, (c[j][1] + c[j + 1][1]) / 2)
        mid_b = ((c[j + 2][0] + c[(j + 3) % 4][0]) / 2, (c[j + 2][1] + c[(j + 3) % 4][1]) / 2)
        axis = scale(LineString([mid_a, mid_b]), 1.5, 1.5)
        clipped = axis.intersection(cell)
        for part in getattr(clipped, "geoms", [clipped]):
            if isinstance(part, LineString) and part.length > 1.0:
                coords = [(float(x), float(y)) for x, y in part.coords]
                extra.append(_Piece((coords[0], coords[-1]), "lane"))
    return extra


def _decompose(cell: Polygon, spacing: float, depth: int) -> list[Polygon]:
    """Split a concave cell where that saves lanes (an L-shaped reach becomes two arms).

    Candidate cuts run through the sharpest reflex corners of the outline (simplified to a
    quarter of a lane spacing), along either edge meeting there. The cut that most reduces the total
    number of lanes is kept if it saves at least two (each extra cell costs a transition),
    and both sides are decomposed again, ``depth`` levels deep.
    """
    simple = cell.simplify(spacing / 4)
    if not isinstance(simple, Polygon) or simple.is_empty:
        return [cell]
    [base] = _fewest_lanes([simple], spacing)  # counted on the simplified outline: fast, close
    if depth == 0 or base <= 2:
        return [cell]
    oriented = shapely.orient_polygons(simple)
    candidates: list[tuple[float, XY, XY]] = []
    for ring in [oriented.exterior, *oriented.interiors]:
        pts = list(ring.coords)[:-1]
        n = len(pts)
        for i in range(n):
            prev, here, nxt = pts[i - 1], pts[i], pts[(i + 1) % n]
            cross = (here[0] - prev[0]) * (nxt[1] - here[1]) - (here[1] - prev[1]) * (
                nxt[0] - here[0]
            )
            if cross < 0:  # reflex: the water turns inwards here
                sharp = abs(cross) / max(math.dist(prev, here) * math.dist(here, nxt), 1e-9)
                candidates.append((-sharp, (here[0], here[1]), (prev[0], prev[1])))
                candidates.append((-sharp, (here[0], here[1]), (nxt[0], nxt[1])))
    candidates.sort()
    minx, miny, maxx, maxy = cell.bounds
    reach = 2 * math.hypot(maxx - minx, maxy - miny)
    cuts: list[tuple[LineString, list[Polygon]]] = []
    for _, here, other in candidates[:_MAX_CUTS]:
        dx, dy = here[0] - other[0], here[1] - other[1]
        norm = math.hypot(dx, dy)
        if norm == 0:
            continue
        ux, uy = dx / norm * reach, dy / norm * reach
        cutter = LineString([(here[0] - ux, here[1] - uy), (here[0] + ux, here[1] + uy)])
        parts = area_polygons(split(simple, cutter))
        if len(parts) < 2 or min(g.area for g in parts) < spacing * spacing:
            continue  # slivers would cost a transition each; never drop them either
        cuts.append((cutter, parts))
    # Every cut's parts counted in one pass; the first cut with the fewest lanes wins if it
    # saves at least two.
    counts = iter(_fewest_lanes([part for _, parts in cuts for part in parts], spacing))
    best: tuple[int, LineString] | None = None
    for cutter, parts in cuts:
        total = sum(next(counts) for _ in parts)
        if total <= base - 2 and (best is None or total < best[0]):
            best = (total, cutter)
    if best is None:
        return [cell]
    real_parts = area_polygons(split(cell, best[1]))
    if len(real_parts) < 2:
        return [cell]
    return [piece for part in real_parts for piece in _decompose(part, spacing, depth - 1)]


def _coverage_cells(ctx: _Context, spacing: float) -> list[list[_Piece]]:
    shrink = min(1.0, spacing / 10)
    region = _as_area(ctx.region.buffer(-shrink))
    if region.is_empty:
        raise WaterwayTooNarrowError("the water is too small for a coverage lane")
    cells: list[list[_Piece]] = []
    for part in area_polygons(region):
        for cell in _decompose(part, spacing, _DECOMPOSE_DEPTH):
            lanes = _best_lanes(cell, spacing, ctx.footprint_m)
            if lanes:
                cells.append(lanes)
    if not cells:
        raise WaterwayTooNarrowError("no coverage lane fits inside the water")
    return cells


def _order_cells(cells: list[list[_Piece]], start: XY) -> list[_Piece]:
    """Fly cell after cell (nearest lane end first), each swept back and forth.

    Two orders are built (:func:`_cell_order`) and the one with the shorter straight-line
    route (joins, lanes and the way home) wins, the first on a tie: each cell's sweep chosen
    to end near where it began, and each chosen to end near the next cell. The second keeps a
    sweep along a reach going the way the reach goes (4-7 % shorter routes on the bench's
    reach); the first is kept because it is sometimes the shorter one.
    """
    tried: dict[tuple[int, XY], list[list[_Piece]]] = {}  # both orders often meet a cell alike
    back = _cell_order(cells, start, look_ahead=False, tried=tried)
    onward = _cell_order(cells, start, look_ahead=True, tried=tried)
    return back if _straight_length(back, start) <= _straight_length(onward, start) else onward


def _cell_order(
    cells: list[list[_Piece]],
    start: XY,
    *,
    look_ahead: bool,
    tried: dict[tuple[int, XY], list[list[_Piece]]] | None = None,
) -> list[_Piece]:
    """Cells in nearest-first order, each swept by :func:`_order`.

    A sweep is chosen to end near where it began (``look_ahead=False``) or near the nearest
    lane end of the cells still to fly, the launch point after the last (``True``).
    """
    tried = {} if tried is None else tried
    ends = [[pt for lane in cell for pt in (lane.coords[0], lane.coords[-1])] for cell in cells]
    remaining = list(range(len(cells)))
    ordered: list[_Piece] = []
    here = start
    while remaining:
        nearest = min(remaining, key=lambda i: (min(math.dist(here, p) for p in ends[i]), i))
        remaining.remove(nearest)
        after: Callable[[XY], float] | None = None
        if look_ahead:
            rest = [pt for i in remaining for pt in ends[i]] or [start]
            after = lambda xy, rest=rest: min(math.dist(xy, p) for p in rest)  # noqa: E731
        if (nearest, here) not in tried:
            tried[(nearest, here)] = _order_candidates(cells[nearest], here)
        sweep = _order(cells[nearest], here, after=after, candidates=tried[(nearest, here)])
        ordered.extend(sweep)
        here = sweep[-1].coords[-1]
    return ordered


def _straight_length(pieces: list[_Piece], start: XY) -> float:
    """Length of flying ``pieces`` in order from ``start`` and back, joins as straight lines."""
    here, total = start, 0.0
    for piece in pieces:
        total += math.dist(here, piece.coords[0])
        total += sum(math.dist(p, q) for p, q in itertools.pairwise(piece.coords))
        here = piece.coords[-1]
    return round(total + math.dist(here, start), 6)


def _corridor_pieces(ctx: _Context, centre_m: LineString, spacing: float) -> list[_Piece]:
    width = ctx.limits.corridor_width_m
    count = max(1, math.ceil(width / spacing - 1e-9))
    offsets = [(k - (count - 1) / 2) * spacing for k in range(count)]
    offsets = [max(-width / 2 + 0.5, min(width / 2 - 0.5, o)) for o in offsets]
    region = _as_area(ctx.region.buffer(-0.5))
    pieces: list[_Piece] = []
    for offset in offsets:
        line = centre_m if abs(offset) < 1e-9 else centre_m.offset_curve(offset)
        clipped = line.intersection(region)
        for part in getattr(clipped, "geoms", [clipped]):
            if isinstance(part, LineString) and part.length > 1.0:
                coords = tuple((float(x), float(y)) for x, y in part.simplify(0.5).coords)
                pieces.append(_Piece(coords, "lane"))
    if not pieces:
        raise WaterwayTooNarrowError("no corridor pass fits outside the no-fly zones")
    return pieces


def _hotspot_pieces(ctx: _Context, waterway: Waterway) -> list[_Piece]:
    if not waterway.hot_spots:
        raise ValueError(f"waterway {waterway.name!r} has no hot spots")
    spots: list[XY] = []
    for spot in waterway.hot_spots:
        xy = ctx.proj.lonlat_to_xy(spot.position.lon_deg, spot.position.lat_deg)
        if ctx.keepout is not None and ctx.keepout.intersects(Point(xy)):
            raise NoFlyZoneConflictError(
                f"hot spot {spot.name!r} is inside a no-fly zone or within "
                f"{ctx.limits.no_fly_margin_m:g} m of one"
            )
        spots.append(xy)
    order = _tour(ctx.launch, spots)
    actions: list[Action] = []
    if ctx.limits.is_night and ctx.drone.has_spotlight:
        actions.append(Spotlight(True))
    if ctx.limits.speaker_clip_id is not None and ctx.drone.has_speaker:
        actions.append(SpeakerBroadcast(ctx.limits.speaker_clip_id))
    if ctx.limits.hover_s > 0:
        actions.append(Hover(ctx.limits.hover_s))
    actions.append(TakePhoto())
    if ctx.limits.is_night and ctx.drone.has_spotlight:
        actions.append(Spotlight(False))
    return [_Piece((spots[i],), "point", tuple(actions)) for i in order]


def _tour(start: XY, spots: Sequence[XY]) -> list[int]:
    """Visit order of ``spots`` from and back to ``start``: nearest neighbour, then 2-opt.

    Examples:
        >>> _tour((0.0, 0.0), [(10.0, 0.0), (0.0, 10.0), (10.0, 10.0)])
        [0, 2, 1]
    """
    remaining = list(range(len(spots)))
    order: list[int] = []
    here = start
    while remaining:
        nxt = min(remaining, key=lambda i: (math.dist(here, spots[i]), i))
        order.append(nxt)
        remaining.remove(nxt)
        here = spots[nxt]
    nodes = [start, *(spots[i] for i in order), start]
    path = list(range(len(nodes)))
    improved = True
    while improved:
        improved = False
        for i in range(1, len(path) - 2):
            for j in range(i + 1, len(path) - 1):
                a, b = nodes[path[i - 1]], nodes[path[i]]
                c, d = nodes[path[j]], nodes[path[j + 1]]
                if math.dist(a, c) + math.dist(b, d) < math.dist(a, b) + math.dist(c, d) - 1e-9:
                    path[i : j + 1] = reversed(path[i : j + 1])
                    improved = True
    return [order[k - 1] for k in path[1:-1]]


# --- ordering and joining -----------------------------------------------------------------


def _order(
    pieces: list[_Piece],
    start: XY,
    *,
    after: Callable[[XY], float] | None = None,
    candidates: list[list[_Piece]] | None = None,
) -> list[_Piece]:
    """Order and orient pieces so that the joins between them are short.

    Greedy nearest-entry orders are tried from the launch point and from each end of the first
    and the last piece (for sweep lanes: the outermost lanes, which gives the back-and-forth
    sweep of a convex shape; :func:`_order_candidates`, or ``candidates`` if given); the one
    with the shortest straight-line joins wins, counting the way on from its end:
    ``after(end)``, or back to ``start`` by default.
    """
    if not pieces:
        return []
    if candidates is None:
        candidates = _order_candidates(pieces, start)

    def joins(order: list[_Piece]) -> float:
        here, total = start, 0.0
        for piece in order:
            total += math.dist(here, piece.coords[0])
            here = piece.coords[-1]
        return total + (math.dist(here, start) if after is None else after(here))

    costs = [round(joins(c), 6) for c in candidates]
    return candidates[costs.index(min(costs))]


def _order_candidates(pieces: list[_Piece], start: XY) -> list[list[_Piece]]:
    """The greedy orders :func:`_order` chooses among."""
    candidates = [_greedy(pieces, start, first=None)]
    for k in sorted({0, len(pieces) - 1}):
        piece = pieces[k]
        ends = [piece.coords[0], piece.coords[-1]] if piece.kind == "lane" else [start]
        for end in ends:
            candidates.append(_greedy(pieces, start, first=(k, _entered(piece, end))))
    return candidates


def _greedy(pieces: list[_Piece], start: XY, *, first: tuple[int, _Piece] | None) -> list[_Piece]:
    """Greedy order: always fly next the piece whose entry is nearest; orient it."""
    remaining = list(range(len(pieces)))
    ordered: list[_Piece] = []
    here = start
    if first is not None:
        remaining.remove(first[0])
        ordered.append(first[1])
        here = first[1].coords[-1]
    while remaining:
        best: tuple[float, int, _Piece] | None = None
        for i in remaining:
            piece = pieces[i]
            candidate = _entered(piece, here)
            d = math.dist(here, candidate.coords[0])
            if best is None or d < best[0] - 1e-9:
                best = (d, i, candidate)
        assert best is not None
        ordered.append(best[2])
        remaining.remove(best[1])
        here = best[2].coords[-1]
    return ordered


def _entered(piece: _Piece, here: XY) -> _Piece:
    if piece.kind == "lane":
        a, b = piece.coords[0], piece.coords[-1]
        if math.dist(here, b) < math.dist(here, a) - 1e-9:
            return _Piece(tuple(reversed(piece.coords)), "lane", piece.actions)
        return piece
    if piece.kind == "loop":
        ring = list(piece.coords[:-1])
        k = min(range(len(ring)), key=lambda i: (math.dist(here, ring[i]), i))
        turned = ring[k:] + ring[:k] + [ring[k]]
        return _Piece(tuple(turned), "loop", piece.actions)
    return piece


def _join(ctx: _Context, a: XY, b: XY, *, transit_only: bool) -> tuple[list[XY], bool]:
    """Path from ``a`` to ``b`` and whether it is a transit path."""
    if not transit_only:
        try:
            return ctx.patrol_finder().path(a, b), False
        except RouteBlockedError:
            pass
    return ctx.transit_finder().path(a, b), True


def _assemble(ctx: _Context, pieces: list[_Piece]) -> list[_Pt]:
    points = [_Pt(ctx.launch, is_transit=True)]
    for index, piece in enumerate(pieces):
        here = points[-1].xy
        path, is_transit = _join(ctx, here, piece.coords[0], transit_only=index == 0)
        for xy in path[1:-1]:
            points.append(_Pt(xy, is_transit=is_transit))
        if piece.coords[0] == here and len(points) > 1:
            points[-1].actions += piece.actions
        else:
            points.append(_Pt(piece.coords[0], piece.actions, is_transit))
        for xy in piece.coords[1:]:
            points.append(_Pt(xy))
    return points


def _densify(points: list[_Pt], max_leg_m: float) -> list[_Pt]:
    out = [points[0]]
    for p in points[1:]:
        q = out[-1].xy
        d = math.dist(q, p.xy)
        if d > max_leg_m:
            n = math.ceil(d / max_leg_m)
            for k in range(1, n):
                t = k / n
                xy = (q[0] + (p.xy[0] - q[0]) * t, q[1] + (p.xy[1] - q[1]) * t)
                out.append(_Pt(xy, is_transit=p.is_transit))
        out.append(p)
    return out


# --- sorties ------------------------------------------------------------------------------


def _leg_s(ctx: _Context, a: XY, b: _Pt) -> float:
    hover = sum(x.duration_s for x in b.actions if isinstance(x, Hover))
    return math.dist(a, b.xy) / ctx.speed_mps + ctx.limits.stop_s + hover


def _duration_s(ctx: _Context, pts: Sequence[_Pt]) -> float:
    vertical = 2 * ctx.limits.altitude_m / ctx.drone.climb_speed_mps
    return vertical + sum(_leg_s(ctx, a.xy, b) for a, b in itertools.pairwise(pts))


def _length_m(pts: Sequence[_Pt]) -> float:
    return float(sum(math.dist(a.xy, b.xy) for a, b in itertools.pairwise(pts)))


def _split(ctx: _Context, points: list[_Pt], home_start: int) -> list[tuple[int, list[_Pt]]]:
    """Cut the route into sorties; returns ``(launch index, points)`` per sortie.

    ``points[home_start]`` is the last patrol point (what follows is the way home). The first
    sortie flies from the primary launch point; each later one from the launch point that lets
    it get furthest (the nearest on a tie), and it lands where it took off.
    """
    budget = ctx.drone.usable_flight_time_s * (1 - ctx.limits.reserve_fraction)
    vertical = 2 * ctx.limits.altitude_m / ctx.drone.climb_speed_mps
    home_cache: dict[tuple[int, int], list[XY]] = {}

    def home_path(i: int, k: int) -> list[XY]:
        if (i, k) not in home_cache:
            home_cache[(i, k)] = ctx.transit_finder().path(points[i].xy, ctx.launches[k][0])
        return home_cache[(i, k)]

    def home_s(i: int, k: int) -> float:
        legs = itertools.pairwise(home_path(i, k))
        return sum(math.dist(a, b) / ctx.speed_mps + ctx.limits.stop_s for a, b in legs)

    def fly(i: int, k: int) -> tuple[int, list[_Pt]]:
        """Fly from launch ``k`` to ``points[i]`` and on as far as the battery allows."""
        base = ctx.launches[k][0]
        sortie = [_Pt(base, is_transit=True)]
        elapsed = vertical
        if i > 0:
            for xy in ctx.transit_finder().path(base, points[i].xy)[1:]:
                step = _Pt(xy, is_transit=True)
                elapsed += _leg_s(ctx, sortie[-1].xy, step)
                sortie.append(step)
        j = i
        while j < home_start:
            nxt = points[j + 1]
            t = elapsed + _leg_s(ctx, points[j].xy, nxt)
            lower_bound = math.dist(nxt.xy, base) / ctx.speed_mps
            if t + lower_bound > budget or t + home_s(j + 1, k) > budget:
                break
            sortie.append(nxt)
            elapsed = t
            j += 1
        return j, sortie

    sorties: list[tuple[int, list[_Pt]]] = []
    i = 0
    while i < home_start or not sorties:
        if i == 0:
            options = [0]
        else:  # nearest launch point first; the one that gets furthest wins
            here = points[i].xy
            options = sorted(
                range(len(ctx.launches)), key=lambda n: (math.dist(ctx.launches[n][0], here), n)
            )
        best: tuple[int, int, list[_Pt]] | None = None
        for k in options:
            j, sortie = fly(i, k)
            if best is None or j > best[0]:
                best = (j, k, sortie)
        assert best is not None
        j, k, sortie = best
        if j == i and i < home_start:
            where = ctx.proj.xy_to_lonlat(*points[i + 1].xy)
            raise SortieInfeasibleError(
                f"waypoint at ({where[0]:.6f}, {where[1]:.6f}) cannot be reached and returned "
                f"from within {budget / 60:.1f} min of flight"
            )
        for xy in home_path(j, k)[1:]:
            sortie.append(_Pt(xy, is_transit=True))
        sorties.append((k, sortie))
        i = j
    return sorties


# --- output -------------------------------------------------------------------------------


def _route(ctx: _Context, pts: Sequence[_Pt], *, launch: int, name: str) -> PatrolRoute:
    base_xy, base_ll = ctx.launches[launch]
    body = list(pts[1:])
    start: list[Action] = [GimbalPitch(ctx.limits.gimbal_pitch_deg)]
    end: list[Action] = []
    if ctx.limits.record_video:
        start.append(StartRecord())
        end.append(StopRecord())
    xs = np.array([p.xy[0] for p in body])
    ys = np.array([p.xy[1] for p in body])
    lons, lats = ctx.proj.xys_to_lonlats(xs, ys)
    waypoints: list[Waypoint] = []
    for k, p in enumerate(body):
        position = (
            base_ll
            if p.xy == base_xy
            else LonLat(round(float(lons[k]), 8), round(float(lats[k]), 8))
        )
        actions = list(p.actions)
        if k == 0:
            actions = start + actions
        if k == len(body) - 1:
            actions = actions + end
        waypoints.append(
            Waypoint(
                position,
                ctx.limits.altitude_m,
                actions=tuple(actions),
                is_transit=p.is_transit,
            )
        )
    return PatrolRoute(
        launch=base_ll,
        waypoints=tuple(waypoints),
        speed_mps=ctx.speed_mps,
        drone_id=ctx.drone.id,
        name=name,
    )

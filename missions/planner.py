"""Patrol planning: from a waterway, a drone and limits to a flyable, battery-split plan.

Inputs and outputs are lon/lat (see :mod:`missions.types`); all work happens in the local UTM
projection of the waterway (:class:`missions.geometry.LocalProjection`), in metres.

How a plan is built:

1. The *patrol region* is the water minus every active no-fly zone grown by
   ``limits.no_fly_margin_m`` (for a corridor: the corridor strip minus the zones). The
   *transit region* is a wide box around everything minus the same grown zones.
2. The pattern produces *pieces* inside the patrol region: bank loops, coverage lanes, corridor
   passes or hot-spot points.
3. Pieces are ordered (nearest entry first; hot spots by nearest neighbour and 2-opt) and
   joined by the shortest path inside the patrol region. Where none exists (separate parts of
   a waterway, a hot spot on the beach) the join uses the transit region and its waypoints are
   marked ``is_transit``. Legs to and from the launch point are always transit legs.
4. The route is cut into sorties: each starts at the launch point, flies to where the previous
   one stopped, continues while the time flown plus the time to fly home stays within the
   usable flight time minus the reserve, then flies home. Every join and every return leg
   goes around the no-fly zones or the planner raises :class:`RouteBlockedError`; no point is
   ever dropped.

Plans are deterministic: no randomness, ties broken by index.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import shapely
from shapely import LineString, MultiPolygon, Point, Polygon, box
from shapely.affinity import rotate

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
    Pattern,
    PatrolPlan,
    PatrolRoute,
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
"""Legs longer than this are cut so that a sortie can end part-way along a long lane."""
_TRANSIT_MARGIN_M = 5_000.0
_ANGLE_STEP_DEG = 15


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
    launch_ll: LonLat
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
            pieces = [self.water_m, Point(self.launch)]
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
        launch: Take-off point; defaults to the waterway's first launch point.

    Returns:
        The plan, with its sorties, length, duration, coverage and turn count.

    Raises:
        ValueError: Unknown pattern, no launch point, a corridor without centre line, a
            camera the drone lacks, or an invalid waterway shape.
        AltitudeAboveCeilingError: ``limits.altitude_m`` is above ``limits.ceiling_m``.
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
    if limits.altitude_m > limits.ceiling_m:
        raise AltitudeAboveCeilingError(
            f"altitude {limits.altitude_m:g} m is above the {limits.ceiling_m:g} m ceiling"
        )
    if not waterway.area.is_valid or waterway.area.is_empty:
        raise ValueError(f"waterway {waterway.name!r} has an invalid or empty shape")
    if launch is None:
        if not waterway.launch_points:
            raise ValueError(f"waterway {waterway.name!r} has no launch point; pass launch=")
        launch = waterway.launch_points[0].position
    camera = drone.camera(limits.camera)
    if kind == Pattern.corridor and waterway.centre_line is None:
        raise ValueError(f"waterway {waterway.name!r} has no centre line for a corridor patrol")

    proj = LocalProjection.around(waterway.area)
    water_m = proj.to_m(waterway.area)
    launch_xy = proj.lonlat_to_xy(launch.lon_deg, launch.lat_deg)
    keepout = _keepout(no_fly_zones, at=at, proj=proj, margin_m=limits.no_fly_margin_m)
    if keepout is not None and keepout.intersects(Point(launch_xy)):
        raise NoFlyZoneConflictError(
            f"launch point ({launch.lon_deg:.6f}, {launch.lat_deg:.6f}) is inside a no-fly zone "
            f"or within {limits.no_fly_margin_m:g} m of one"
        )
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
        launch_ll=launch,
        drone=drone,
        limits=limits,
        speed_mps=limits.speed_mps if limits.speed_mps is not None else drone.cruise_speed_mps,
        footprint_m=camera.footprint_width_m(limits.altitude_m),
    )
    spacing: float | None = None
    if kind == Pattern.bank:
        pieces = _bank_pieces(ctx)
    elif kind == Pattern.coverage:
        spacing = _lane_spacing(ctx)
        pieces = _coverage_pieces(ctx, spacing)
    elif kind == Pattern.corridor:
        spacing = _lane_spacing(ctx)
        assert waterway.centre_line is not None
        pieces = _corridor_pieces(ctx, proj.to_m(waterway.centre_line), spacing)
    else:
        pieces = _hotspot_pieces(ctx, waterway)

    points = _assemble(ctx, _order(pieces, launch_xy) if kind != Pattern.hotspots else pieces)
    points = _densify(points, MAX_LEG_M)
    sortie_points = _split(ctx, points)

    name = f"{waterway.name} {kind.value}"
    sorties: list[Sortie] = []
    for index, pts in enumerate(sortie_points):
        route = _route(ctx, pts, name=f"{name} #{index + 1}")
        sorties.append(
            Sortie(index, route, _length_m(pts), _duration_s(ctx, pts)),
        )
    whole = _route(ctx, points, name=name)
    tracks = [LineString([p.xy for p in pts]) for pts in sortie_points]
    coverage = _coverage(water_m, tracks, ctx.footprint_m)
    return PatrolPlan(
        pattern=kind,
        route=whole,
        sorties=tuple(sorties),
        length_m=sum(s.length_m for s in sorties),
        duration_s=sum(s.duration_s for s in sorties),
        coverage_ratio=coverage,
        turns=count_turns(np.array([p.xy for p in points], dtype=np.float64)),
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
    seen = shapely.union_all([t.buffer(footprint_m / 2, quad_segs=4) for t in tracks])
    return float(min(1.0, water_m.intersection(seen).area / water_m.area))


# --- regions ------------------------------------------------------------------------------


def _as_area(geometry: shapely.geometry.base.BaseGeometry) -> Polygon | MultiPolygon:
    parts = area_polygons(geometry)
    if not parts:
        return Polygon()
    return parts[0] if len(parts) == 1 else MultiPolygon(parts)


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
        for ring in [poly.exterior, *poly.interiors]:
            simple = ring.simplify(tolerance)
            coords = tuple((float(x), float(y)) for x, y in simple.coords)
            if len(coords) >= 4:
                pieces.append(_Piece(coords, "loop"))
    if not pieces:
        raise WaterwayTooNarrowError(f"no bank line fits {offset:g} m from the bank")
    return pieces


def _lanes(region: Polygon | MultiPolygon, spacing: float, angle_deg: float) -> list[_Piece]:
    """Back-and-forth lanes across ``region`` at ``angle_deg`` (0 = east-west)."""
    origin = region.centroid
    turned = rotate(region, -angle_deg, origin=origin)
    minx, miny, maxx, maxy = turned.bounds
    height = maxy - miny
    count = max(1, math.ceil(height / spacing - 1e-9))
    first = miny + (height - (count - 1) * spacing) / 2
    ys = first + spacing * np.arange(count)
    lines = shapely.linestrings(
        np.stack(
            [
                np.column_stack([np.full(count, minx - 1), ys]),
                np.column_stack([np.full(count, maxx + 1), ys]),
            ],
            axis=1,
        )
    )
    cut = shapely.intersection(lines, turned)
    pieces: list[_Piece] = []
    for geometry in cut:
        for part in getattr(geometry, "geoms", [geometry]):
            if isinstance(part, LineString) and part.length > 1.0:
                back = rotate(part, angle_deg, origin=origin)
                coords = [(float(x), float(y)) for x, y in back.coords]
                pieces.append(_Piece((coords[0], coords[-1]), "lane"))
    return pieces


def _coverage_pieces(ctx: _Context, spacing: float) -> list[_Piece]:
    shrink = min(1.0, spacing / 10)
    region = _as_area(ctx.region.buffer(-shrink))
    if region.is_empty:
        raise WaterwayTooNarrowError("the water is too small for a coverage lane")
    angles = {float(a) for a in range(0, 180, _ANGLE_STEP_DEG)}
    mrr = region.minimum_rotated_rectangle
    if isinstance(mrr, Polygon):
        c = list(mrr.exterior.coords)
        for (x1, y1), (x2, y2) in zip(c[:2], c[1:3], strict=True):
            angles.add(round(math.degrees(math.atan2(y2 - y1, x2 - x1)) % 180, 6))
    # The issue asks for the direction that minimises turns: fewest lanes first, then the
    # shortest total lane length, then the smallest angle (determinism).
    best: tuple[tuple[int, float], list[_Piece]] | None = None
    for angle in sorted(angles):
        lanes = _lanes(region, spacing, angle)
        if not lanes:
            continue
        score = (len(lanes), round(sum(math.dist(*p.coords) for p in lanes), 3))
        if best is None or score < best[0]:
            best = (score, lanes)
    if best is None:
        raise WaterwayTooNarrowError("no coverage lane fits inside the water")
    return best[1]


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


def _order(pieces: list[_Piece], start: XY) -> list[_Piece]:
    """Greedy order: always fly next the piece whose entry is nearest; orient it."""
    remaining = list(range(len(pieces)))
    ordered: list[_Piece] = []
    here = start
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
    home, _ = _join(ctx, points[-1].xy, ctx.launch, transit_only=True)
    for xy in home[1:]:
        points.append(_Pt(xy, is_transit=True))
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
    return vertical + sum(_leg_s(ctx, a.xy, b) for a, b in zip(pts, pts[1:], strict=False))


def _length_m(pts: Sequence[_Pt]) -> float:
    return float(sum(math.dist(a.xy, b.xy) for a, b in zip(pts, pts[1:], strict=False)))


def _split(ctx: _Context, points: list[_Pt]) -> list[list[_Pt]]:
    budget = ctx.drone.usable_flight_time_s * (1 - ctx.limits.reserve_fraction)
    vertical = 2 * ctx.limits.altitude_m / ctx.drone.climb_speed_mps
    last = len(points) - 1
    home_cache: dict[int, list[XY]] = {}

    def home_path(i: int) -> list[XY]:
        if i not in home_cache:
            home_cache[i] = ctx.transit_finder().path(points[i].xy, ctx.launch)
        return home_cache[i]

    def home_s(i: int) -> float:
        path = home_path(i)
        legs = zip(path, path[1:], strict=False)
        return sum(math.dist(a, b) / ctx.speed_mps + ctx.limits.stop_s for a, b in legs)

    sorties: list[list[_Pt]] = []
    i = 0
    while i < last:
        sortie = [_Pt(ctx.launch, is_transit=True)]
        elapsed = vertical
        if i > 0:
            approach = ctx.transit_finder().path(ctx.launch, points[i].xy)
            for xy in approach[1:]:
                step = _Pt(xy, is_transit=True)
                elapsed += _leg_s(ctx, sortie[-1].xy, step)
                sortie.append(step)
        j = i
        while j < last:
            nxt = points[j + 1]
            t = elapsed + _leg_s(ctx, points[j].xy, nxt)
            if j + 1 < last:
                lower_bound = math.dist(nxt.xy, ctx.launch) / ctx.speed_mps
                if t + lower_bound > budget or t + home_s(j + 1) > budget:
                    break
            elif t > budget:
                break
            sortie.append(nxt)
            elapsed = t
            j += 1
        if j == i:
            where = ctx.proj.xy_to_lonlat(*points[i + 1].xy)
            raise SortieInfeasibleError(
                f"waypoint at ({where[0]:.6f}, {where[1]:.6f}) cannot be reached and returned "
                f"from within {budget / 60:.1f} min of flight"
            )
        if j < last:
            for xy in home_path(j)[1:]:
                sortie.append(_Pt(xy, is_transit=True))
        sorties.append(sortie)
        i = j
    return sorties


# --- output -------------------------------------------------------------------------------


def _route(ctx: _Context, pts: Sequence[_Pt], *, name: str) -> PatrolRoute:
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
            ctx.launch_ll
            if p.xy == ctx.launch
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
        launch=ctx.launch_ll,
        waypoints=tuple(waypoints),
        speed_mps=ctx.speed_mps,
        drone_id=ctx.drone.id,
        name=name,
    )
